"""Accounts: login, sessions, invitations and password resets."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the feature's pages."""
    from portal.auth import views

    app.register_blueprint(views.bp)
