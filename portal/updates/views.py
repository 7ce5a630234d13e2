"""Progress updates: the feed, writing and publishing, attachments, comments, acknowledgements, the weekly preview.

The update form is sent as ``multipart/form-data`` with its optional files: the body is
streamed by :func:`portal.storage.uploads.receive_upload` (files straight into storage,
checked as they pass), and the text fields it returns fill the same ``UpdateForm``. A
refused file answers 4xx with the form as it was typed; nothing of the post is kept.
"""

from __future__ import annotations

import logging
from typing import Any

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
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from portal.access import (
    can_manage_project,
    managed_project_or_404,
    project_or_404,
    staff_required,
    update_attachment_or_404,
    update_or_404,
    visible_updates,
)
from portal.errors import DomainError
from portal.extensions import csrf, db
from portal.forms import EmptyForm
from portal.models import AckChoice, Project, Update, User
from portal.storage import storage_for
from portal.storage.downloads import send_record, send_thumbnail
from portal.storage.uploads import UploadBatch, UploadPolicy, UploadRejected, drain_body, extensions_for, receive_upload
from portal.timeutil import utcnow
from portal.updates import service
from portal.updates.forms import (
    AcknowledgeForm,
    CommentForm,
    UpdateForm,
    WeeklyNoteForm,
)
from portal.web import apply_domain_error, committing

log = logging.getLogger(__name__)

bp = Blueprint("updates", __name__, url_prefix="/projects/<int:project_id>")

FEED_ON_PROJECT_PAGE = 5
PAGE_SIZE = 25
UPLOAD_KINDS = ["any"]  # an update can carry any file the portal accepts (see portal.storage.uploads.KINDS)
MULTIPART_ALLOWANCE = 1024 * 1024  # room for the text fields and multipart headers next to the files
TEXT_FIELD_BYTES = 256 * 1024  # the body may be 20,000 characters of any script


# --- The project page block ---------------------------------------------------------------


def updates_section(viewer: User, project: Project) -> dict[str, Any]:
    """Show the latest updates of the project, with comments and acknowledgements."""
    items, more = service.feed(viewer, project, visible_updates(viewer, project), limit=FEED_ON_PROJECT_PAGE)
    return {"project": project, "items": items, "more": more, "manage": can_manage_project(viewer, project)}


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


def _upload_policy() -> UploadPolicy:
    """Return what an update's files may be: any accepted type, ``PORTAL_MAX_UPLOAD_MB`` each, a few at once."""
    return UploadPolicy.for_app(
        current_app,
        extensions_for(UPLOAD_KINDS),
        prefix=service.STORAGE_PREFIX,
        max_files=service.MAX_ATTACHMENTS,
        max_field_bytes=TEXT_FIELD_BYTES,
    )


def _upload_help() -> dict[str, Any]:
    """Return what the file inputs tell the user: the accepted extensions and the size limit."""
    extensions = sorted(extensions_for(UPLOAD_KINDS))
    return {
        "accept": ",".join(f".{ext}" for ext in extensions),
        "max_mb": int(current_app.config["MAX_UPLOAD_MB"]),
        "max_files": service.MAX_ATTACHMENTS,
    }


def _receive_files(*, require_files: bool) -> UploadBatch:
    """Stream the posted files into storage; raise UploadRejected (carrying the typed fields) or CSRFError."""
    policy = _upload_policy()
    # Each file is held to the per-file limit while it streams; the request may carry several.
    request.max_content_length = policy.max_bytes * policy.max_files + MULTIPART_ALLOWANCE
    # No database transaction stays open while a large body streams in; rows are read again afterwards.
    db.session.rollback()
    try:
        return receive_upload(request, storage_for(current_app), policy, require_files=require_files)
    except RequestEntityTooLarge:
        raise UploadRejected(
            _l("These files are too large together. Send at most %(count)s files of up to %(mb)s MB each.", count=policy.max_files, mb=current_app.config["MAX_UPLOAD_MB"]),
            status=413,
        ) from None


def _form_page(project: Project, form: UpdateForm, update: Update | None, status: int = 200):
    """Render the update form (new or draft), with the draft's attachments."""
    form.files.render_kw = {"accept": _upload_help()["accept"]}
    return (
        render_template(
            "updates/form.html",
            project=project,
            form=form,
            update=update,
            attachments=list(update.attachments) if update is not None else [],
            upload=_upload_help(),
        ),
        status,
    )


def _saved(project: Project, update: Update, publish: bool, files: int):
    """Say what happened to a saved update and go on: to the feed once published, else back to the draft."""
    if files:
        flash(ngettext("%(num)d file attached.", "%(num)d files attached.", files), "success")
    if publish:
        flash(_("The update is published. The client's people can read it now."), "success")
        return redirect(url_for("projects.show", project_id=project.id, _anchor=f"update-{update.id}"))
    flash(_("The draft is saved. Only staff see it until you publish it."), "success")
    return redirect(url_for("updates.edit", project_id=project.id, update_id=update.id))


def _files_lost(form: UpdateForm) -> None:
    """Tell the user the files of a refused post were not kept (a browser cannot refill a file input)."""
    form.files.errors = [*form.files.errors, _("Nothing was saved, and no file was kept: choose the files again.")]


def _write_with_files(project: Project, update_id: int | None):
    """Save the update form posted as multipart: text fields and files, in one transaction."""
    try:
        batch = _receive_files(require_files=False)
    except UploadRejected as error:
        update = update_or_404(current_user, project.id, update_id) if update_id else None
        form = UpdateForm(formdata=MultiDict(error.fields), obj=update, meta={"csrf": False})
        form.validate()  # show every mistake at once, the refused file first
        form.files.errors = [str(error.message)]
        _files_lost(form)
        return _form_page(project, form, update, error.status)
    with batch.discard_on_error():  # an abort (the draft is gone) deletes the stored files too
        update = update_or_404(current_user, project.id, update_id) if update_id else None
        if update is not None and update.is_published:
            batch.discard()
            flash(_("A published update is a record and cannot be changed. Post a new update to correct it."), "info")
            return redirect(url_for("updates.show", project_id=project.id, update_id=update.id))
    # The token was checked while streaming (CSRFError otherwise); the form checks the text.
    form = UpdateForm(formdata=MultiDict(batch.fields), obj=update, meta={"csrf": False})
    count = len(batch.files)
    if not form.validate():
        batch.discard()
        if count:
            _files_lost(form)
        return _form_page(project, form, update, 422)
    publish = batch.fields.get("action") == "publish"
    try:
        with batch.discard_on_error():
            update = service.save_update(current_user, project, _values(form), publish=publish, update=update, attachments=batch.files)
            db.session.commit()
    except DomainError as error:
        db.session.rollback()
        if not apply_domain_error(form, error):
            flash(str(error.message), "danger")
        if count:
            _files_lost(form)
        status = error.status if error.status != 400 else 422
        return _form_page(project, form, update_or_404(current_user, project.id, update_id) if update_id else None, status)
    return _saved(project, update, publish, count)


def _write(project: Project, update: Update | None):
    """Show the update form, or save what it sent (with files: streamed; without: an ordinary form post)."""
    if request.method == "POST" and request.mimetype == "multipart/form-data":
        return _write_with_files(project, update.id if update else None)
    if request.method == "POST":
        csrf.protect()  # the view is exempt for its streamed posts; every other post is checked as usual
    form = UpdateForm(obj=update)
    if form.validate_on_submit():
        publish = request.form.get("action") == "publish"
        with committing(form) as saved:
            update = service.save_update(current_user, project, _values(form), publish=publish, update=update)
        if saved.ok:
            return _saved(project, update, publish, 0)
    status = 422 if request.method == "POST" else 200
    return _form_page(project, form, update, status)


@bp.route("/updates/new", methods=["GET", "POST"])
@csrf.exempt  # multipart posts are checked by receive_upload (Flask-WTF would buffer the whole body first)
@staff_required
def create(project_id: int):
    """Write a progress update, with optional files: save it as a draft or publish it."""
    return _write(managed_project_or_404(current_user, project_id), None)


@bp.route("/updates/<int:update_id>/edit", methods=["GET", "POST"])
@csrf.exempt  # multipart posts are checked by receive_upload (Flask-WTF would buffer the whole body first)
@staff_required
def edit(project_id: int, update_id: int):
    """Change a draft and its files, then save it again or publish it."""
    project = managed_project_or_404(current_user, project_id)
    update = update_or_404(current_user, project.id, update_id)
    if update.is_published:
        if request.method == "POST":
            drain_body(request)
        flash(_("A published update is a record and cannot be changed. Post a new update to correct it."), "info")
        return redirect(url_for("updates.show", project_id=project.id, update_id=update.id))
    return _write(project, update)


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


def _delete_stored(keys: list[str]) -> None:
    """Delete stored objects after their rows are gone (best effort: a leftover is logged, never an error)."""
    storage = storage_for(current_app)
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # noqa: BLE001 - keep deleting the others
            log.exception("could not delete stored update attachment %s", key)


@bp.route("/updates/<int:update_id>/delete", methods=["POST"])
@staff_required
def delete(project_id: int, update_id: int):
    """Delete a draft and its files."""
    project = managed_project_or_404(current_user, project_id)
    update = update_or_404(current_user, project.id, update_id)
    if EmptyForm().validate_on_submit():
        keys: list[str] = []
        with committing() as saved:
            keys = service.delete_draft(current_user, update)
        if not saved.ok:
            return redirect(url_for("updates.show", project_id=project.id, update_id=update.id))
        _delete_stored(keys)
        flash(_("The draft is deleted."), "success")
    return redirect(url_for("projects.show", project_id=project.id))


# --- Attachments -----------------------------------------------------------------------------


def _back_to(update: Update) -> str:
    """Return where staff manage an update's files: the draft's form, or the published update's page."""
    endpoint = "updates.show" if update.is_published else "updates.edit"
    return url_for(endpoint, project_id=update.project_id, update_id=update.id, _anchor=f"attachments-{update.id}")


@bp.route("/updates/<int:update_id>/attachments", methods=["POST"])
@csrf.exempt  # the token is checked by receive_upload: Flask-WTF would parse (and buffer) the whole body first
@staff_required
def add_attachments(project_id: int, update_id: int):
    """Attach files to an update (a published one too: it stays a record, with more files)."""
    project = managed_project_or_404(current_user, project_id)
    update = update_or_404(current_user, project.id, update_id)
    try:
        service.check_attachments_allowed(current_user, update)
    except DomainError as error:
        drain_body(request)
        flash(str(error.message), "danger")
        return _show_page(update, status=error.status if error.status != 400 else 422)
    try:
        batch = _receive_files(require_files=True)
    except UploadRejected as error:
        flash(str(error.message), "danger")
        return _show_page(update_or_404(current_user, project.id, update_id), status=error.status)
    try:
        with batch.discard_on_error():
            update = update_or_404(current_user, project.id, update_id)
            added = service.add_attachments(current_user, update, batch.files)
            db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
        return _show_page(update_or_404(current_user, project.id, update_id), status=error.status if error.status != 400 else 422)
    flash(ngettext("%(num)d file attached.", "%(num)d files attached.", len(added)), "success")
    return redirect(_back_to(update))


@bp.route("/updates/<int:update_id>/attachments/<int:attachment_id>/remove", methods=["POST"])
@staff_required
def remove_attachment(project_id: int, update_id: int, attachment_id: int):
    """Take a file off an update (asked to confirm first on the page)."""
    project = managed_project_or_404(current_user, project_id)
    attachment = update_attachment_or_404(current_user, project.id, update_id, attachment_id)
    update = attachment.update
    name = attachment.original_name
    keys: list[str] = []
    with committing() as saved:
        keys = service.remove_attachment(current_user, attachment)
    if saved.ok:
        _delete_stored(keys)
        flash(_("%(name)s is removed from the update.", name=name), "success")
    return redirect(_back_to(update))


@bp.route("/updates/<int:update_id>/attachments/<int:attachment_id>")
@login_required
def download_attachment(project_id: int, update_id: int, attachment_id: int):
    """Send an update's file as an attachment (streamed, resumable) to whoever may read the update."""
    return send_record(update_attachment_or_404(current_user, project_id, update_id, attachment_id))


@bp.route("/updates/<int:update_id>/attachments/<int:attachment_id>/thumbnail")
@login_required
def attachment_thumbnail(project_id: int, update_id: int, attachment_id: int):
    """Send the preview of an attached image (re-encoded by us, so safe to show inline)."""
    return send_thumbnail(update_attachment_or_404(current_user, project_id, update_id, attachment_id))


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
