"""The promises page of a project, its block on the project page, and agreeing to a new date."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.access import is_project_approver, project_or_404
from portal.extensions import db
from portal.forms import EmptyForm
from portal.models import Project, Promise, PromiseKind, PromiseSide, User
from portal.promises import queries
from portal.promises.queries import PromiseStatus
from portal.promises.service import agree as agree_to
from portal.timeutil import utcnow
from portal.web import committing

bp = Blueprint("promises", __name__, url_prefix="/projects/<int:project_id>/promises")

STATUS_LABELS = {
    PromiseStatus.OPEN: _l("Not due yet"),
    PromiseStatus.KEPT_ON_TIME: _l("Kept on time"),
    PromiseStatus.KEPT_LATE: _l("Kept late"),
    PromiseStatus.RENEGOTIATED: _l("Renegotiated"),
    PromiseStatus.BROKEN: _l("Broken"),
}
KIND_LABELS = {
    PromiseKind.DELIVERABLE: _l("Deliverable"),
    PromiseKind.GOAL: _l("Goal"),
    PromiseKind.WEEKLY_UPDATE: _l("Weekly update"),
    PromiseKind.ASSET_REQUEST: _l("Asset request"),
    PromiseKind.RECOVERY_STEP: _l("Recovery step"),
}


class _MonthLater:
    """A project's month, read when the block is drawn: by then the page's health has read it in its own statement."""

    def __init__(self, project: Project, now: datetime) -> None:
        self.project, self.now = project, now

    @cached_property
    def month(self) -> queries.Month:
        """Return the month (from this page view's reading, if there was one)."""
        return queries.months_for([self.project], self.now)[self.project.id]


def promises_section(viewer: User, project: Project) -> dict[str, Any]:
    """Show this month's promises kept on time, per side, on the project page."""
    return {"project": project, "later": _MonthLater(project, utcnow())}


@bp.route("/")
@login_required
def index(project_id: int):
    """List this month's promises of one side (``?side=client``; default the agency's) with status, due date and kept date."""
    project = project_or_404(current_user, project_id)
    return _page(project)


def _page(project: Project, status: int = 200):
    """Render the promises page of ``project`` with ``status``."""
    try:
        side = PromiseSide(request.args.get("side", PromiseSide.AGENCY.value))
    except ValueError:
        side = PromiseSide.AGENCY
    month = queries.months_for([project], utcnow())[project.id]
    approver = is_project_approver(current_user, project)
    return (
        render_template(
            "promises/index.html",
            project=project,
            side=side,
            month=month,
            lines=[line for line in month.lines if line.side is side],
            tally=month.tally(side),
            proposals=queries.open_with_proposal(project) if side is PromiseSide.AGENCY else [],
            can_agree=approver,
            form=EmptyForm(),
            labels={"status": STATUS_LABELS, "kind": KIND_LABELS},
        ),
        status,
    )


@bp.route("/<int:promise_id>/agree", methods=["POST"])
@login_required
def agree(project_id: int, promise_id: int):
    """Agree, as an approver, to the agency's new date for a deliverable."""
    project = project_or_404(current_user, project_id)
    promise = db.session.scalars(select(Promise).where(Promise.id == promise_id, Promise.project_id == project.id)).first()
    if promise is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        flash(_("Reload the page and try again: the form was incomplete."), "danger")
        return _page(project, 400)
    with committing(flash_errors=True) as saved:
        agree_to(current_user, promise, utcnow())
    if not saved.ok:
        return _page(project_or_404(current_user, project_id), saved.status)
    flash(_("You agreed to the new date."), "success")
    return redirect(url_for("promises.index", project_id=project.id))
