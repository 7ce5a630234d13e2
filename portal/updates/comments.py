"""Talking about a published update: comments, and the client's answer (accurate, not accurate, a concern)."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from portal import once
from portal.access import update_or_404
from portal.models import AckChoice
from portal.updates import service
from portal.updates.forms import AcknowledgeForm, CommentForm
from portal.updates.views import bp, show_page
from portal.web import Outcome, committing, show_error


def _refused(saved: Outcome, form: FlaskForm) -> int:
    """Put a refusal on its form and return its status; one the actor's role may never do is a plain 403."""
    if saved.status == 403:
        abort(403)
    if saved.error is not None:
        show_error(saved.error, form)
    return saved.status


@bp.route("/updates/<int:update_id>/comments", methods=["POST"])
@login_required
def comment(project_id: int, update_id: int):
    """Comment on a published update."""
    update = update_or_404(current_user, project_id, update_id)
    form = CommentForm()
    if (done := once.already_done(form)) is not None:
        return done
    status = 422
    if form.validate_on_submit():
        with committing(form, flash_errors=False) as saved:
            added = service.add_comment(current_user, update, form.body.data or "")
            once.remember(form, url_for("updates.show", project_id=update.project_id, update_id=update.id, _anchor=f"comment-{added.id}"))
        if saved.ok:
            flash(_("Your comment is added."), "success")
            return redirect(url_for("updates.show", project_id=update.project_id, update_id=update.id, _anchor=f"comment-{added.id}"))
        if (twin := once.after_refusal(form, saved, show=False)) is not None:
            return twin
        status = _refused(saved, form)
    return show_page(update, comment_form=form, status=status)


@bp.route("/updates/<int:update_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge(project_id: int, update_id: int):
    """Answer an update: accurate, not accurate, or a concern (the last two with a sentence)."""
    if current_user.is_staff:
        abort(403)  # the client answers; staff read the answers
    update = update_or_404(current_user, project_id, update_id)
    form = AcknowledgeForm()
    status = 422
    if form.validate_on_submit():
        with committing(form, flash_errors=False) as saved:
            service.acknowledge(current_user, update, form.choice.data or "", form.comment.data or "")
        if saved.ok:
            if form.choice.data == AckChoice.ACCURATE.value:
                flash(_("Thank you: you marked this update as accurate."), "success")
            else:
                flash(_("Thank you: your account manager is told and will come back to you."), "success")
            return redirect(url_for("updates.show", project_id=update.project_id, update_id=update.id, _anchor=f"ack-{update.id}"))
        status = _refused(saved, form)
    return show_page(update, ack_form=form, status=status)
