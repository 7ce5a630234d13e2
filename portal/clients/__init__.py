"""Client organisations and their "know your client" profiles."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the feature's pages."""
    from portal.clients import views
    from portal.clients.forms import CHANNEL_LABELS

    app.register_blueprint(views.bp)
    # The staff profile panel (clients/_profile_panel.html) is included by other features' pages.
    app.jinja_env.globals["channel_labels"] = CHANNEL_LABELS
