"""Accounts: login (with two-factor sign-in), sessions, invitations and password resets."""

from __future__ import annotations

from flask import Flask, redirect, request, session, url_for
from flask_login import current_user

# What someone who must first set up two-factor sign-in may still open.
_WHILE_ENROLLING = frozenset(
    {"account.two_factor", "account.two_factor_start", "account.two_factor_confirm", "auth.logout", "auth.set_language", "static", "bootstrap.static"}
)


def init_app(app: Flask) -> None:
    """Add the feature's pages, and keep staff who must enrol on the enrolment page."""
    from portal.auth import views

    app.register_blueprint(views.bp)
    app.before_request(_enrolment_gate)


def _enrolment_gate():
    """Send staff logged in only to enrol (the agency requires two-factor sign-in) back to enrolling; no query otherwise."""
    from portal.auth.views import MUST_ENROL

    if not session.get(MUST_ENROL) or request.endpoint in _WHILE_ENROLLING:
        return None
    if current_user.is_authenticated and not current_user.has_two_factor:
        return redirect(url_for("account.two_factor"))
    session.pop(MUST_ENROL, None)
    return None
