"""A user's own settings: name, language, time zone, notifications, password."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the feature's pages."""
    from portal.account import views

    app.register_blueprint(views.bp)
