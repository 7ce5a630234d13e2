"""Deliverable review pages: the list, the review page, preparing versions, deciding, files and page blocks.

Views are thin: they load what the user may see (``portal.access``) and what the page
shows (``queries``), call one service function inside :func:`portal.web.committing`,
which commits once and turns refusals into messages with a 4xx — 409 when the
deliverable changed under the user (a decision raced another, a version is no longer
current), 422 for invalid input, 403 for a role that may not act — keeping what was typed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from portal import once
from portal.access import (
    admin_required,
    can_manage_project,
    deliverable_file_or_404,
    deliverable_or_404,
    deliverable_version_or_404,
    managed_deliverable_or_404,
    managed_project_or_404,
    project_or_404,
    staff_required,
    visible_projects,
)
from portal.clients.queries import staff_profile
from portal.deliverables import queries, review, service
from portal.deliverables.forms import ApproveForm, CommentForm, DeliverableForm, ReopenForm, RequestChangesForm, ReviewDueForm, VersionForm
from portal.deliverables.links import links_text
from portal.deliverables.review import CHANGED_MEANWHILE
from portal.deliverables.review_due import set_review_due
from portal.extensions import csrf, db
from portal.models import ApprovalRule, Project, User
from portal.models.deliverables import DecisionOutcome, Deliverable, DeliverableStatus, DeliverableVersion, VersionStatus
from portal.pins import service as pin_service
from portal.pins.views import pin_context, request_pin_ids
from portal.storage import delete_quietly
from portal.storage.downloads import send_record, send_thumbnail
from portal.storage.filetypes import extensions_for
from portal.storage.upload_flow import accept_upload, upload_answer
from portal.storage.uploads import UploadPolicy
from portal.timeutil import project_today, utcnow
from portal.waiting import split
from portal.web import committing, require_button_form

bp = Blueprint("deliverables", __name__)

UPLOAD_KINDS = ["any"]  # a deliverable can be any kind of file the portal accepts (see portal.storage.filetypes.KINDS)
SECTION_LIMIT = 5  # deliverables listed on the project page before "All deliverables"

STATUS_LABELS = {
    DeliverableStatus.PREPARING: _l("Being prepared"),
    DeliverableStatus.IN_REVIEW: _l("Waiting for review"),
    DeliverableStatus.CHANGES_REQUESTED: _l("Changes requested"),
    DeliverableStatus.APPROVED: _l("Approved"),
    DeliverableStatus.REOPENED: _l("Reopened"),
}
VERSION_LABELS = {
    VersionStatus.DRAFT: _l("Draft"),
    VersionStatus.IN_REVIEW: _l("Waiting for review"),
    VersionStatus.APPROVED: _l("Approved"),
    VersionStatus.CHANGES_REQUESTED: _l("Changes requested"),
    VersionStatus.SUPERSEDED: _l("Replaced before a decision"),
}
RULE_TEXTS = {
    ApprovalRule.ANY: _l("The first approver to decide settles each version."),
    ApprovalRule.ALL: _l("Every approver must approve; one request for changes sends it back."),
}


# --- Helpers --------------------------------------------------------------------------------


# --- Lists ----------------------------------------------------------------------------------


@bp.route("/projects/<int:project_id>/deliverables")
@login_required
def index(project_id: int):
    """List a project's deliverables: overdue first, then what waits on the client, on the agency, approved."""
    project = project_or_404(current_user, project_id)
    rows = queries.rows_for([project]).get(project.id, [])
    return render_template(
        "deliverables/index.html",
        project=project,
        rows=rows,
        manage=can_manage_project(current_user, project),
        today=project_today(project),
    )


@bp.route("/projects/<int:project_id>/deliverables/new", methods=["GET", "POST"])
@staff_required
def create(project_id: int):
    """Add a deliverable to a project."""
    project = managed_project_or_404(current_user, project_id)
    form = DeliverableForm()
    if request.method == "GET":
        form.included_rounds.data = project.included_rounds
    status = 200
    if (done := once.already_done(form)) is not None:
        return done
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            with committing(form, conflict=CHANGED_MEANWHILE, flash_errors=False) as saved:
                deliverable = service.create_deliverable(
                    current_user,
                    project,
                    title=form.title.data or "",
                    description=form.description.data or "",
                    due_date=form.due_date.data,
                    included_rounds=form.included_rounds.data,
                )
                once.remember(form, url_for("deliverables.show", deliverable_id=deliverable.id))
            if saved.ok:
                flash(_("The deliverable is added. Prepare its first version when it is ready."), "success")
                return redirect(url_for("deliverables.show", deliverable_id=deliverable.id))
            if (done := once.after_refusal(form, saved)) is not None:
                return done
            status = saved.status
    return render_template("deliverables/form.html", form=form, project=project, deliverable=None), status


@bp.route("/deliverables/<int:deliverable_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(deliverable_id: int):
    """Change a deliverable's title, description, due date or included rounds."""
    deliverable = managed_deliverable_or_404(current_user, deliverable_id)
    if deliverable.is_locked:
        flash(str(service.LOCKED), "info")
        return redirect(url_for("deliverables.show", deliverable_id=deliverable.id))
    form = DeliverableForm(obj=deliverable)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            values = {name: getattr(form, name).data for name in ("title", "description", "due_date", "included_rounds")}
            with committing(form, conflict=CHANGED_MEANWHILE) as saved:
                service.update_deliverable(current_user, deliverable, values)
            if saved.ok:
                flash(_("The deliverable is updated."), "success")
                return redirect(url_for("deliverables.show", deliverable_id=deliverable.id))
            status = saved.status
    return render_template("deliverables/form.html", form=form, project=deliverable.project, deliverable=deliverable), status


# --- The review page ------------------------------------------------------------------------


def _show_page(
    deliverable: Deliverable,
    *,
    approve_form: ApproveForm | None = None,
    changes_form: RequestChangesForm | None = None,
    comment_form: CommentForm | None = None,
    reopen_form: ReopenForm | None = None,
    review_due_form: ReviewDueForm | None = None,
    status: int = 200,
):
    """Render the review page: the current version, the decision forms, the history and the conversation."""
    project = deliverable.project
    manage = can_manage_project(current_user, project)
    page = queries.review_page(deliverable)
    draft = queries.draft_of(deliverable) if manage else None
    responding = manage and deliverable.status is DeliverableStatus.CHANGES_REQUESTED
    return (
        render_template(
            "deliverables/show.html",
            project=project,
            deliverable=deliverable,
            versions=page.versions,
            current=page.current,
            row=queries.Row(deliverable, page.current),
            state=page.state,
            viewer_approves=page.state.has_approver(current_user),
            can_decide=review.can_decide(current_user, project, page.current, page.state),
            manage=manage,
            draft=draft,
            reopenings=page.reopenings,
            comments=page.comments,
            waiting=split(queries.waiting_so_far(deliverable, page), utcnow()),
            today=project_today(project),
            approve_form=approve_form or ApproveForm(prefix="approve"),
            changes_form=changes_form or RequestChangesForm(prefix="changes"),
            comment_form=comment_form or CommentForm(prefix="comment"),
            reopen_form=reopen_form or ReopenForm(prefix="reopen"),
            review_due_form=review_due_form or ReviewDueForm(prefix="review", data={"review_due": page.current.review_due if page.current else None}),
            # Answering a request for changes is writing to the client: their profile is at hand (staff only).
            client_profile=staff_profile(current_user, project.client) if responding else None,
            **pin_context(deliverable, page.current),
        ),
        status,
    )


@bp.route("/deliverables/<int:deliverable_id>")
@login_required
def show(deliverable_id: int):
    """Show a deliverable for review: its current version, who decides, the history and the conversation."""
    return _show_page(deliverable_or_404(current_user, deliverable_id))


def _decide(deliverable_id: int, number: int, outcome: DecisionOutcome):
    """Record the current user's decision on version ``number``; a lost race or a stale page answers 409."""
    version = deliverable_version_or_404(current_user, deliverable_id, number)
    deliverable = version.deliverable
    approve_form = ApproveForm(prefix="approve")
    changes_form = RequestChangesForm(prefix="changes")
    form: FlaskForm = approve_form if outcome is DecisionOutcome.APPROVE else changes_form
    status = 422
    if form.validate_on_submit():
        with committing(form, conflict=CHANGED_MEANWHILE) as saved:
            requested = outcome is DecisionOutcome.CHANGES_REQUESTED
            service.decide(
                current_user,
                version,
                outcome=outcome,
                reason_category=changes_form.reason_category.data if requested else None,
                text=form.text.data or "",
                pins=pin_service.pins_for_decision(current_user, version, request_pin_ids()) if requested else (),
            )
        if saved.ok:
            if outcome is DecisionOutcome.APPROVE:
                flash(_("Thank you: your approval of version %(number)s is recorded and the agency has been told.", number=number), "success")
            else:
                flash(_("Your request for changes on version %(number)s is recorded and the agency has been told.", number=number), "success")
            return redirect(url_for("deliverables.show", deliverable_id=deliverable.id))
        status = saved.status
        db.session.expire_all()  # show the state that won, not what this request had read
    return _show_page(deliverable, approve_form=approve_form, changes_form=changes_form, status=status)


@bp.route("/deliverables/<int:deliverable_id>/versions/<int:number>/approve", methods=["POST"])
@login_required
def approve(deliverable_id: int, number: int):
    """Approve a version (project approvers)."""
    return _decide(deliverable_id, number, DecisionOutcome.APPROVE)


@bp.route("/deliverables/<int:deliverable_id>/versions/<int:number>/request-changes", methods=["POST"])
@login_required
def request_changes(deliverable_id: int, number: int):
    """Request changes on a version, with a reason (project approvers)."""
    return _decide(deliverable_id, number, DecisionOutcome.CHANGES_REQUESTED)


@bp.route("/deliverables/<int:deliverable_id>/versions/<int:number>/review-due", methods=["POST"])
@staff_required
def review_due(deliverable_id: int, number: int):
    """Change the date the approvers should decide on the version in review by (their daily digest shows it)."""
    deliverable = managed_deliverable_or_404(current_user, deliverable_id)
    version = deliverable_version_or_404(current_user, deliverable_id, number)
    form = ReviewDueForm(prefix="review")
    status = 422
    if version.status is not VersionStatus.IN_REVIEW:
        flash(_("Version %(number)s is no longer waiting for a decision: its review date cannot change.", number=number), "warning")
        status = 409
    elif form.validate_on_submit():
        with committing(form) as saved:
            set_review_due(current_user, version, form.review_due.data)
        if saved.ok:
            flash(_("The review date of version %(number)s is saved.", number=number), "success")
            return redirect(url_for("deliverables.show", deliverable_id=deliverable.id))
        status = saved.status
    return _show_page(deliverable, review_due_form=form, status=status)


@bp.route("/deliverables/<int:deliverable_id>/reopen", methods=["POST"])
@admin_required
def reopen(deliverable_id: int):
    """Reopen an approved deliverable, with the reason (admins)."""
    deliverable = deliverable_or_404(current_user, deliverable_id)
    form = ReopenForm(prefix="reopen")
    status = 422
    if form.validate_on_submit():
        with committing(form, conflict=CHANGED_MEANWHILE) as saved:
            service.reopen(current_user, deliverable, form.reason.data or "")
        if saved.ok:
            flash(_("The deliverable is reopened. The account manager can now submit a new version."), "success")
            return redirect(url_for("deliverables.show", deliverable_id=deliverable.id))
        status = saved.status
        db.session.expire_all()
    return _show_page(deliverable, reopen_form=form, status=status)


@bp.route("/deliverables/<int:deliverable_id>/comments", methods=["POST"])
@login_required
def comment(deliverable_id: int):
    """Add a message to the deliverable's conversation."""
    deliverable = deliverable_or_404(current_user, deliverable_id)
    form = CommentForm(prefix="comment")
    if (done := once.already_done(form)) is not None:
        return done
    status = 422
    if form.validate_on_submit():
        with committing(form, conflict=CHANGED_MEANWHILE, flash_errors=False) as saved:
            added = service.add_comment(current_user, deliverable, form.body.data or "")
            once.remember(form, url_for("deliverables.show", deliverable_id=deliverable.id, _anchor=f"comment-{added.id}"))
        if saved.ok:
            return redirect(url_for("deliverables.show", deliverable_id=deliverable.id, _anchor=f"comment-{added.id}"))
        if (done := once.after_refusal(form, saved)) is not None:
            return done
        status = saved.status
    return _show_page(deliverable, comment_form=form, status=status)


# --- Preparing a version --------------------------------------------------------------------


def _upload_context(deliverable: Deliverable) -> dict[str, Any]:
    """Return what the upload area needs: where to post, the accepted extensions and the size limit."""
    extensions = sorted(extensions_for(UPLOAD_KINDS))
    return {
        "action": url_for("deliverables.upload", deliverable_id=deliverable.id),
        "extensions": extensions,
        "accept": ",".join(f".{ext}" for ext in extensions),
        "max_bytes": int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024,
        "max_mb": int(current_app.config["MAX_UPLOAD_MB"]),
    }


def _draft_page(deliverable: Deliverable, draft: DeliverableVersion, form: VersionForm | None = None, status: int = 200):
    """Render the page where staff prepare a version: upload area, files, notes, links and the submit button."""
    if form is None:
        form = VersionForm(
            data={"change_notes": draft.change_notes, "links": links_text(draft.links), "impact_note": draft.impact_note, "review_due": draft.review_due}
        )
    current = queries.current_version(deliverable)
    round_ = queries.next_round(deliverable, current)
    files = queries.draft_files(draft)
    return (
        render_template(
            "deliverables/draft.html",
            project=deliverable.project,
            deliverable=deliverable,
            draft=draft,
            current=current,
            files=files,
            form=form,
            round=round_,
            over=review.past_included_rounds(deliverable, round_),
            approver_count=len(review.approvers(deliverable.project)),
            upload=_upload_context(deliverable),
            client_profile=staff_profile(current_user, deliverable.project.client),
        ),
        status,
    )


def _draft_or_redirect(deliverable: Deliverable):
    """Return the deliverable's draft, or None after flashing why there is none."""
    draft = queries.draft_of(deliverable)
    if draft is None:
        flash(_("There is no version in preparation. Start one with \u201cPrepare a new version\u201d."), "info")
    return draft


@bp.route("/deliverables/<int:deliverable_id>/versions/new", methods=["POST"])
@staff_required
def start_version(deliverable_id: int):
    """Start preparing the next version (or go back to the one in preparation)."""
    deliverable = managed_deliverable_or_404(current_user, deliverable_id)
    require_button_form()
    with committing(conflict=CHANGED_MEANWHILE) as saved:
        service.start_version(current_user, deliverable)
    if not saved.ok:
        db.session.expire_all()
        return _show_page(deliverable, status=saved.status)
    return redirect(url_for("deliverables.draft", deliverable_id=deliverable.id))


@bp.route("/deliverables/<int:deliverable_id>/draft", methods=["GET", "POST"])
@staff_required
def draft(deliverable_id: int):
    """Prepare the next version: save the notes and links, or submit the version for review."""
    deliverable = managed_deliverable_or_404(current_user, deliverable_id)
    version = _draft_or_redirect(deliverable)
    if version is None:
        return redirect(url_for("deliverables.show", deliverable_id=deliverable.id))
    if request.method == "GET":
        return _draft_page(deliverable, version)
    form = VersionForm()
    status = 422
    if form.validate_on_submit():
        notes, links, impact = form.change_notes.data or "", form.links.data or "", form.impact_note.data or ""
        submitting = bool(form.submit.data)
        with committing(form, conflict=CHANGED_MEANWHILE) as saved:
            set_review_due(current_user, version, form.review_due.data)
            if submitting:
                service.submit_version(current_user, version, change_notes=notes, links=links, impact_note=impact)
            else:
                service.save_draft(current_user, version, change_notes=notes, links=links, impact_note=impact)
        if saved.ok and submitting:
            flash(_("Version %(number)s is submitted for review. The approvers have been told.", number=version.number), "success")
            return redirect(url_for("deliverables.show", deliverable_id=deliverable.id))
        if saved.ok:
            flash(_("Draft saved. Only the agency can see it until you submit it."), "success")
            return redirect(url_for("deliverables.draft", deliverable_id=deliverable.id))
        status = saved.status
        db.session.expire_all()
        version = queries.draft_of(deliverable)
        if version is None:  # submitted or discarded by a colleague meanwhile
            return redirect(url_for("deliverables.show", deliverable_id=deliverable.id))
    return _draft_page(deliverable, version, form, status)


@bp.route("/deliverables/<int:deliverable_id>/draft/discard", methods=["POST"])
@staff_required
def discard_draft(deliverable_id: int):
    """Throw away the version in preparation and its files."""
    deliverable = managed_deliverable_or_404(current_user, deliverable_id)
    require_button_form()
    version = _draft_or_redirect(deliverable)
    if version is None:
        return redirect(url_for("deliverables.show", deliverable_id=deliverable.id))
    keys: list[str] = []
    with committing(conflict=CHANGED_MEANWHILE) as saved:
        keys = service.discard_draft(current_user, version)
    if not saved.ok:
        db.session.expire_all()  # show the state that won, not what this request had read
        return _show_page(deliverable, status=saved.status)
    delete_quietly(keys)
    flash(_("The draft is discarded."), "success")
    return redirect(url_for("deliverables.show", deliverable_id=deliverable.id))


@bp.route("/deliverables/<int:deliverable_id>/draft/files/<int:file_id>/remove", methods=["POST"])
@staff_required
def remove_file(deliverable_id: int, file_id: int):
    """Take a file out of the version in preparation."""
    deliverable = managed_deliverable_or_404(current_user, deliverable_id)
    require_button_form()
    version = _draft_or_redirect(deliverable)
    if version is None:
        return redirect(url_for("deliverables.show", deliverable_id=deliverable.id))
    target = next((f for f in version.files if f.id == file_id), None)
    if target is None:
        abort(404)
    keys: list[str] = []
    with committing(conflict=CHANGED_MEANWHILE) as saved:
        keys = service.remove_file(current_user, target)
    if not saved.ok:
        db.session.expire_all()
        return _show_page(deliverable, status=saved.status)
    delete_quietly(keys)
    flash(_("%(name)s is removed from the draft.", name=target.original_name), "success")
    return redirect(url_for("deliverables.draft", deliverable_id=deliverable.id))


# --- Uploads --------------------------------------------------------------------------------


def _upload_failed(deliverable: Deliverable, status: int):
    """Show the draft page again after a refused upload (the review page once no version is in preparation)."""
    db.session.expire_all()
    version = queries.draft_of(deliverable)
    if version is None:
        return _show_page(deliverable, status=status)
    return _draft_page(deliverable, version, status=status)


@bp.route("/deliverables/<int:deliverable_id>/draft/files", methods=["POST"])
@csrf.exempt  # the token is checked by receive_upload: Flask-WTF would parse (and buffer) the whole body first
@staff_required
def upload(deliverable_id: int):
    """Upload files to the version in preparation (streamed into storage, then recorded in one transaction)."""
    deliverable = managed_deliverable_or_404(current_user, deliverable_id)
    back = url_for("deliverables.draft", deliverable_id=deliverable.id)
    outcome = accept_upload(
        UploadPolicy.for_app(current_app, extensions_for(UPLOAD_KINDS), prefix=service.STORAGE_PREFIX),
        # The draft is looked up again: the session was rolled back while the files streamed in.
        lambda files: service.add_files(current_user, service.check_upload_allowed(current_user, deliverable), files),
        check=lambda: service.check_upload_allowed(current_user, deliverable),
        conflict=CHANGED_MEANWHILE,
        back=back,
    )
    return upload_answer(outcome, back=back, download="deliverables.download", page=lambda status: _upload_failed(deliverable, status))


# --- Downloads ------------------------------------------------------------------------------


@bp.route("/deliverables/files/<int:file_id>")
@login_required
def download(file_id: int):
    """Send a deliverable's file as an attachment (streamed, resumable)."""
    return send_record(deliverable_file_or_404(current_user, file_id))


@bp.route("/deliverables/files/<int:file_id>/thumbnail")
@login_required
def thumbnail(file_id: int):
    """Send the preview of an image (re-encoded by us, so safe to show inline)."""
    return send_thumbnail(deliverable_file_or_404(current_user, file_id))


# --- Page blocks ----------------------------------------------------------------------------


def project_section(viewer: User, project: Project) -> dict[str, Any] | None:
    """The project page's deliverables: what waits on whom, the next due (one query, however many)."""
    rows = queries.rows_for([project]).get(project.id, [])
    return {
        "project": project,
        "rows": rows[:SECTION_LIMIT],
        "total": len(rows),
        "waiting_on_client": sum(1 for r in rows if r.deliverable.status.waiting_on_client),
        "approved": sum(1 for r in rows if r.deliverable.status is DeliverableStatus.APPROVED),
        "manage": can_manage_project(viewer, project),
        "today": project_today(project),
    }


def decisions_panel(viewer: User, projects: list[Project]) -> dict[str, Any] | None:
    """Staff: recent approvals on every project they may see (not only the listed page), newest first (one query)."""
    if not viewer.is_staff:
        return None
    everything = visible_projects(viewer).with_only_columns(Project.id)
    decisions = queries.recent_decisions(everything, outcome=DecisionOutcome.APPROVE)
    return {"decisions": decisions, "days": queries.RECENT_DECISIONS_DAYS} if decisions else None


# The review page, for the pins feature's routes that answer on it (a refused check of a carried-over pin).
show_page = _show_page
