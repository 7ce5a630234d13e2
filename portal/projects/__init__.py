"""Projects: settings, account manager and client members."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the feature's pages."""
    from portal.projects import views

    app.register_blueprint(views.bp)
