"""Progress updates: the feed, writing and publishing, comments, acknowledgements, the weekly preview."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

import portal.expectations.weekly  # registers the expectation facts of the update (the import is its use)
import portal.updates.providers  # noqa: F401 - registers this feature's facts
from portal.access import (
    can_manage_project,
    managed_project_or_404,
    project_or_404,
    staff_required,
    update_or_404,
    visible_updates,
)
from portal.errors import DomainError
from portal.extensions import db
from portal.forms import EmptyForm, apply_domain_error, committing
from portal.markdown import render_markdown
from portal.models import AckChoice, Project, Update, User
from portal.sections import home_panels, project_sections
from portal.timeutil import utcnow
from portal.updates import service, weekly
from portal.updates.forms import (
    ACK_LABELS,
    AcknowledgeForm,
    CommentForm,
    UpdateForm,
    WeeklyNoteForm,
)

bp = Blueprint("updates", __name__, url_prefix="/projects/<int:project_id>")

FEED_ON_PROJECT_PAGE = 5
PAGE_SIZE = 25


# --- Template helpers (registered on the app: emails use them too) ------------------------


@bp.app_template_filter("markdown")
def markdown_filter(text: str | None) -> Markup:
    """Render Markdown typed by a person as sanitised HTML."""
    return render_markdown(text)


@bp.app_template_filter("iso_date")
def iso_date_filter(value: str | None) -> date | None:
    """Turn a fact's ISO date (``2026-03-09``) back into a date for the ``date`` filter."""
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


@bp.app_template_filter("iso_datetime")
def iso_datetime_filter(value: str | None) -> datetime | None:
    """Turn a fact's ISO timestamp back into an aware datetime for the ``datetime`` filter."""
    try:
        parsed = datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


@bp.app_template_filter("fact_href")
def fact_href_filter(link: str | None, external: bool = False) -> str | None:
    """Return a fact's link for a page (path) or an email (absolute); None unless it is a portal path."""
    if not link or not link.startswith("/") or link.startswith("//") or urlsplit(link).scheme:
        return None
    if external:
        return current_app.config["BASE_URL"].rstrip("/") + link
    return request.script_root + link


@bp.record_once
def _template_globals(state) -> None:
    """Offer the fact helpers to every template, macro files and emails included (globals, not context)."""
    state.app.jinja_env.globals.update(group_facts=weekly.group_facts, facts_are_quiet=weekly.is_quiet, ack_labels=ACK_LABELS)


# --- The project page block and the home panel ------------------------------------------


@project_sections.register("updates", order=20, template="updates/_project_section.html")
def updates_section(viewer: User, project: Project) -> dict[str, Any]:
    """Show the latest updates of the project, with comments and acknowledgements."""
    items, more = service.feed(viewer, project, visible_updates(viewer, project), limit=FEED_ON_PROJECT_PAGE)
    return {"project": project, "items": items, "more": more, "manage": can_manage_project(viewer, project)}


@home_panels.register("calls", order=15, template="updates/_home_calls.html")
def calls_panel(viewer: User, projects: list[Project]) -> dict[str, Any] | None:
    """List, for staff, the projects whose weekly update suggested a call this week."""
    if not viewer.is_staff:
        return None
    calls = service.projects_to_call(projects, utcnow())
    return {"calls": calls} if calls else None


# --- Reading ---------------------------------------------------------------------------


@bp.route("/updates")
@login_required
def index(project_id: int):
    """List every update of a project the reader may see, newest first."""
    project = project_or_404(current_user, project_id)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    items, more = service.feed(
        current_user, project, visible_updates(current_user, project), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render_template(
        "updates/index.html", project=project, items=items, more=more, page=page, manage=can_manage_project(current_user, project)
    )


def _show_page(update: Update, *, comment_form: CommentForm | None = None, ack_form: AcknowledgeForm | None = None, status: int = 200):
    project = update.project
    items, _more = service.feed(
        current_user, project, visible_updates(current_user, project).where(Update.id == update.id), limit=1, comments_each=None
    )
    return (
        render_template(
            "updates/show.html",
            project=project,
            item=items[0],
            manage=can_manage_project(current_user, project),
            comment_form=comment_form,
            ack_form=ack_form,
            open_choice=ack_form.choice.data if ack_form is not None else None,
        ),
        status,
    )


@bp.route("/updates/<int:update_id>")
@login_required
def show(project_id: int, update_id: int):
    """Show one update with all its comments and acknowledgements."""
    return _show_page(update_or_404(current_user, project_id, update_id))


# --- Writing (staff) ---------------------------------------------------------------------


def _values(form: UpdateForm) -> dict[str, str]:
    return {name: getattr(form, name).data or "" for name in service.UPDATE_FIELDS}


@bp.route("/updates/new", methods=["GET", "POST"])
@staff_required
def create(project_id: int):
    """Write a progress update: save it as a draft or publish it."""
    project = managed_project_or_404(current_user, project_id)
    form = UpdateForm()
    if form.validate_on_submit():
        publish = request.form.get("action") == "publish"
        with committing(form) as saved:
            update = service.save_update(current_user, project, _values(form), publish=publish)
        if saved.ok:
            if publish:
                flash(_("The update is published. The client's people can read it now."), "success")
                return redirect(url_for("projects.show", project_id=project.id, _anchor=f"update-{update.id}"))
            flash(_("The draft is saved. Only staff see it until you publish it."), "success")
            return redirect(url_for("updates.edit", project_id=project.id, update_id=update.id))
    status = 422 if request.method == "POST" else 200
    return render_template("updates/form.html", project=project, form=form, update=None), status


@bp.route("/updates/<int:update_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(project_id: int, update_id: int):
    """Change a draft, then save it again or publish it."""
    project = managed_project_or_404(current_user, project_id)
    update = update_or_404(current_user, project.id, update_id)
    if update.is_published:
        flash(_("A published update is a record and cannot be changed. Post a new update to correct it."), "info")
        return redirect(url_for("updates.show", project_id=project.id, update_id=update.id))
    form = UpdateForm(obj=update)
    if form.validate_on_submit():
        publish = request.form.get("action") == "publish"
        with committing(form) as saved:
            service.save_update(current_user, project, _values(form), publish=publish, update=update)
        if saved.ok:
            if publish:
                flash(_("The update is published. The client's people can read it now."), "success")
                return redirect(url_for("projects.show", project_id=project.id, _anchor=f"update-{update.id}"))
            flash(_("The draft is saved. Only staff see it until you publish it."), "success")
            return redirect(url_for("updates.edit", project_id=project.id, update_id=update.id))
    status = 422 if request.method == "POST" else 200
    return render_template("updates/form.html", project=project, form=form, update=update, action_form=EmptyForm()), status


@bp.route("/updates/<int:update_id>/publish", methods=["POST"])
@staff_required
def publish(project_id: int, update_id: int):
    """Publish a draft as it was saved."""
    project = managed_project_or_404(current_user, project_id)
    update = update_or_404(current_user, project.id, update_id)
    if EmptyForm().validate_on_submit():
        with committing() as saved:
            service.publish_update(current_user, update)
        if not saved.ok:
            return redirect(url_for("updates.show", project_id=project.id, update_id=update.id))
        flash(_("The update is published. The client's people can read it now."), "success")
    return redirect(url_for("projects.show", project_id=project.id, _anchor=f"update-{update.id}"))


@bp.route("/updates/<int:update_id>/delete", methods=["POST"])
@staff_required
def delete(project_id: int, update_id: int):
    """Delete a draft."""
    project = managed_project_or_404(current_user, project_id)
    update = update_or_404(current_user, project.id, update_id)
    if EmptyForm().validate_on_submit():
        with committing() as saved:
            service.delete_draft(current_user, update)
        if not saved.ok:
            return redirect(url_for("updates.show", project_id=project.id, update_id=update.id))
        flash(_("The draft is deleted."), "success")
    return redirect(url_for("projects.show", project_id=project.id))


# --- Comments and acknowledgements ----------------------------------------------------------


# Comments, answers and the weekly note answer with the refusal's own status (403, 409, 422),
# so they handle DomainError themselves instead of using committing().


@bp.route("/updates/<int:update_id>/comments", methods=["POST"])
@login_required
def comment(project_id: int, update_id: int):
    """Comment on a published update."""
    update = update_or_404(current_user, project_id, update_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            added = service.add_comment(current_user, update, form.body.data)
        except DomainError as error:
            db.session.rollback()
            if error.status == 403:
                abort(403)
            if not apply_domain_error(form, error):
                flash(str(error.message), "danger")
            return _show_page(update, comment_form=form, status=error.status if error.status != 400 else 422)
        db.session.commit()
        flash(_("Your comment is added."), "success")
        return redirect(url_for("updates.show", project_id=update.project_id, update_id=update.id, _anchor=f"comment-{added.id}"))
    return _show_page(update, comment_form=form, status=422)


@bp.route("/updates/<int:update_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge(project_id: int, update_id: int):
    """Answer an update: accurate, not accurate, or a concern (the last two with a sentence)."""
    if current_user.is_staff:
        abort(403)  # the client answers; staff read the answers
    update = update_or_404(current_user, project_id, update_id)
    form = AcknowledgeForm()
    if form.validate_on_submit():
        try:
            service.acknowledge(current_user, update, form.choice.data, form.comment.data or "")
        except DomainError as error:
            db.session.rollback()
            if error.status == 403:
                abort(403)
            if not apply_domain_error(form, error):
                flash(str(error.message), "danger")
            return _show_page(update, ack_form=form, status=error.status if error.status != 400 else 422)
        db.session.commit()
        if form.choice.data == AckChoice.ACCURATE.value:
            flash(_("Thank you: you marked this update as accurate."), "success")
        else:
            flash(_("Thank you: your account manager is told and will come back to you."), "success")
        return redirect(url_for("updates.show", project_id=update.project_id, update_id=update.id, _anchor=f"ack-{update.id}"))
    return _show_page(update, ack_form=form, status=422)


# --- The weekly update: preview and personal note (staff) ---------------------------------


def _weekly_page(project: Project, form: WeeklyNoteForm | None = None, status: int = 200):
    preview = service.preview_weekly(current_user, project, utcnow())
    if form is None:
        note = preview.note
        form = WeeklyNoteForm(
            formdata=None,
            body=note.body if note else "",
            note_id=note.id if note else None,
            version=note.version if note else None,
        )
    return render_template("updates/weekly.html", project=project, preview=preview, form=form), status


@bp.route("/weekly")
@staff_required
def weekly_preview(project_id: int):
    """Preview the coming weekly update and add a personal note to it."""
    return _weekly_page(managed_project_or_404(current_user, project_id))


@bp.route("/weekly/note", methods=["POST"])
@staff_required
def weekly_note(project_id: int):
    """Save the personal note of the coming weekly update."""
    project = managed_project_or_404(current_user, project_id)
    form = WeeklyNoteForm()
    if form.validate_on_submit():
        try:
            note = service.save_weekly_note(
                current_user, project, form.body.data or "", note_id=form.note_id.data, version=form.version.data
            )
        except DomainError as error:
            db.session.rollback()
            if not apply_domain_error(form, error):
                flash(str(error.message), "danger")
            fresh = service.pending_note(project)
            # Keep what was typed, but point the form at the note as it is now.
            form.note_id.data = fresh.id if fresh else None
            form.version.data = fresh.version if fresh else None
            return _weekly_page(project, form, error.status if error.status != 400 else 422)
        db.session.commit()
        flash(_("Your note is saved: it goes out with the coming weekly update.") if note else _("No personal note goes with the coming update."), "success")
        return redirect(url_for("updates.weekly_preview", project_id=project.id))
    return _weekly_page(project, form, 422)
