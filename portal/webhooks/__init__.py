"""Webhooks: admins register addresses that receive signed events, delivered through an outbox by the scheduler."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the admins' pages, the settings' defaults, and the listeners that queue deliveries with each action."""
    from portal.webhooks import events, views
    from portal.webhooks.sender import DEFAULTS

    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    app.register_blueprint(views.bp)
    events.listen()
