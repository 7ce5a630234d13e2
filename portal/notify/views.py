"""The email log: every email the portal sent or tried to send."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.access import admin_required
from portal.forms import EmptyForm
from portal.ids import query_int
from portal.models import EmailStatus, OutboxEmail, Project, User
from portal.notify import queries
from portal.notify.sender import can_requeue, requeue, retry_until, retry_window
from portal.timeutil import utcnow
from portal.web import committing, require_button_form

bp = Blueprint("notify", __name__, url_prefix="/admin/emails")

PAGE_SIZE = 50


def _email_or_404(email_id: int) -> OutboxEmail:
    """Return the email ``email_id``, else abort with 404."""
    email = queries.email(email_id)
    if email is None:
        abort(404)
    return email


@bp.route("/")
@admin_required
def log():
    """List emails newest first, filtered by status, 50 a page."""
    status = request.args.get("status", "")
    page = max(query_int("page", 1) or 1, 1)
    if status not in {s.value for s in EmailStatus}:
        status = ""
    found = queries.email_log(EmailStatus(status) if status else None, page, PAGE_SIZE)
    backlog = queries.backlog()
    window = retry_window()
    return render_template(
        "notify/log.html",
        backlog=backlog if backlog.needs_attention(utcnow()) else None,
        backlog_until=backlog.since + window if backlog.since else None,
        retry_hours=round(window.total_seconds() / 3600),
        retry_until=retry_until,
        emails=found.emails,
        has_more=found.has_more,
        page=page,
        status=status,
        counts=found.counts,
        statuses=list(EmailStatus),
        action_form=EmptyForm(),
    )


@bp.route("/<int:email_id>")
@admin_required
def show(email_id: int):
    """Show one email as it was sent (plain-text body and delivery details)."""
    return _email_page(_email_or_404(email_id))


def _email_page(email: OutboxEmail, status: int = 200) -> tuple[str, int]:
    """Render one email as it was sent (a refused retry answers with it and its 4xx)."""
    return render_template(
        "notify/show.html", email=email, retry_until=retry_until, can_retry=can_requeue(email), action_form=EmptyForm()
    ), status


@bp.route("/<int:email_id>/retry", methods=["POST"])
@admin_required
def retry(email_id: int):
    """Put a dead email back in the queue."""
    email = _email_or_404(email_id)
    require_button_form()
    if not can_requeue(email):  # sent or queued again meanwhile: the page shows where it stands
        return _email_page(email, status=409)
    with committing() as saved:
        requeue(email)
    if not saved.ok:
        return _email_page(email, status=saved.status)
    flash(_("The email is queued again; it goes out within a minute."), "success")
    return redirect(url_for("notify.show", email_id=email.id))


def backlog_panel(viewer: User, projects: list[Project]) -> dict[str, Any] | None:
    """Admins: a line on the home page when emails have waited longer than mail normally takes (one query)."""
    if not viewer.is_admin:
        return None
    backlog = queries.backlog(with_error=False)
    return {"backlog": backlog} if backlog.is_late(utcnow()) else None
