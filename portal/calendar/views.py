"""The feed's address (no login: the secret is the key) and its block on the account page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.account.views import settings_page
from portal.calendar import feed, service
from portal.extensions import db, limiter
from portal.models import User
from portal.timeutil import utcnow
from portal.urls import portal_url
from portal.web import require_button_form

bp = Blueprint("calendar", __name__)


def account_section(viewer: User) -> dict[str, Any]:
    """Return the account page block's context: whether a feed works and when it was last read."""
    return {"feed": service.active_feed(viewer), "new_address": None}


@bp.route("/calendar/<string:token>.ics")
@limiter.limit("60 per hour")
def ics(token: str):
    """Serve the person's deadlines as an ICS calendar; an unknown or revoked address is a plain 404."""
    user = service.user_for_token(token)
    if user is None:
        abort(404)
    body = feed.calendar_for(user, utcnow())
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="rapport.ics"'
    response.headers["Cache-Control"] = "private, max-age=900"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/account/calendar", methods=["POST"])
@login_required
def make():
    """Make a new feed address (the old one stops working) and show it this once."""
    require_button_form()
    token = service.make_feed(current_user)
    db.session.commit()
    address = portal_url("calendar.ics", token=token)
    # The account page itself, with the new address in this block: shown this once (pages are not stored).
    return settings_page(blocks={"calendar": {"feed": service.active_feed(current_user), "new_address": address}}, status=201)


@bp.route("/account/calendar/revoke", methods=["POST"])
@login_required
def revoke():
    """Stop the feed address: calendars that read it get nothing more."""
    require_button_form()
    stopped = service.revoke_feeds(current_user)
    db.session.commit()
    if stopped:
        flash(_("The calendar address no longer works. Remove the calendar from your calendar app."), "success")
    return redirect(url_for("account.settings", _anchor="calendar-heading"))
