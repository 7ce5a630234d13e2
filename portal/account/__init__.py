"""A user's own settings: name, language, time zone, notifications, password, two-factor sign-in."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the feature's pages, and the two-factor block of the account page."""
    from portal.account import views
    from portal.sections import Section, account_sections

    app.register_blueprint(views.bp)
    account_sections.add(app, "two_factor", Section("account/_two_factor_section.html", views.two_factor_section), order=5)
