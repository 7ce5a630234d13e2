"""The first page each role sees after logging in."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the feature's pages."""
    from portal.home import views

    app.register_blueprint(views.bp)
