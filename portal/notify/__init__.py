"""Email: queued in the outbox within the caller's transaction, sent by the scheduler."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the feature's pages."""
    from portal.notify import views

    app.register_blueprint(views.bp)
