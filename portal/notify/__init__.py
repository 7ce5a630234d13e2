"""Email: queued in the outbox within the caller's transaction, sent by the scheduler."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the feature's pages, and the admins' home line about a backlog."""
    from portal.notify import views
    from portal.sections import Section, home_panels

    app.register_blueprint(views.bp)
    home_panels.add(app, "notify_backlog", Section("notify/_home_backlog.html", views.backlog_panel), order=0)
