"""Agency administration: people and their access."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the feature's pages."""
    from portal.admin import views

    app.register_blueprint(views.bp)
