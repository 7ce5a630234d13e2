"""Calendar feeds: each person's deadlines in their calendar app, through a private, revocable ICS address.

The feed lists what the person can see (``portal.access``): deliverable due dates, asset
request due dates, goal target dates and each project's weekly update slot, in their
language. The address carries a 256-bit secret; only its SHA-256 is stored, so it is
shown once, when made, and "Reset" makes a new one (the old one stops at once).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the feed's address and its block on the account page."""
    from portal.calendar import views
    from portal.sections import Section, account_sections

    app.register_blueprint(views.bp)
    account_sections.add(app, "calendar", Section("calendar/_account_section.html", views.account_section), order=10)
