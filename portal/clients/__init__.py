"""Client organisations and their "know your client" profiles."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the feature's pages."""
    from portal.clients import views

    app.register_blueprint(views.bp)
