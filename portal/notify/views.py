"""The email log: every email the portal sent or tried to send."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.access import admin_required
from portal.extensions import db
from portal.forms import EmptyForm
from portal.models import EmailStatus, OutboxEmail
from portal.notify.sender import requeue

bp = Blueprint("notify", __name__, url_prefix="/admin/emails")

PAGE_SIZE = 50


@bp.route("/")
@admin_required
def log():
    """List emails newest first, filtered by status, 50 a page."""
    status = request.args.get("status", "")
    page = max(request.args.get("page", 1, type=int), 1)
    query = select(OutboxEmail)
    if status in {s.value for s in EmailStatus}:
        query = query.where(OutboxEmail.status == EmailStatus(status))
    else:
        status = ""
    emails = db.session.scalars(
        query.order_by(OutboxEmail.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    ).all()
    counts = dict(db.session.execute(select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)).all())
    return render_template(
        "notify/log.html",
        emails=emails[:PAGE_SIZE],
        has_more=len(emails) > PAGE_SIZE,
        page=page,
        status=status,
        counts=counts,
        statuses=list(EmailStatus),
        action_form=EmptyForm(),
    )


@bp.route("/<int:email_id>")
@admin_required
def show(email_id: int):
    """Show one email as it was sent (plain-text body and delivery details)."""
    email = db.session.get(OutboxEmail, email_id)
    if email is None:
        abort(404)
    return render_template("notify/show.html", email=email, action_form=EmptyForm())


@bp.route("/<int:email_id>/retry", methods=["POST"])
@admin_required
def retry(email_id: int):
    """Put a dead email back in the queue."""
    email = db.session.get(OutboxEmail, email_id)
    if email is None:
        abort(404)
    if EmptyForm().validate_on_submit() and email.status is EmailStatus.DEAD:
        requeue(email)
        db.session.commit()
        flash(_("The email is queued again; it goes out within a minute."), "success")
    return redirect(url_for("notify.show", email_id=email.id))
