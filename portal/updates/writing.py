"""Writing progress updates (staff): the form with its optional files, drafts, publishing, deleting.

The update form is sent as ``multipart/form-data`` with its optional files: the body is
streamed by :func:`portal.storage.upload_flow.receive` (files straight into storage,
checked as they pass), and the text fields it returns fill the same ``UpdateForm``. A
refused file answers 4xx with the form as it was typed; nothing of the post is kept.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from portal import once
from portal.access import managed_project_or_404, staff_required, update_or_404
from portal.clients.queries import staff_profile
from portal.extensions import csrf
from portal.models import Project, Update
from portal.storage import delete_quietly
from portal.storage.uploads import UploadRejected, drain_body
from portal.updates import service
from portal.updates.attachments import receive_files, upload_help
from portal.updates.forms import UpdateForm
from portal.updates.views import bp, show_page
from portal.web import committing, require_button_form


def _values(form: UpdateForm) -> dict[str, str]:
    """Return the update's text fields as the form holds them."""
    return {name: getattr(form, name).data or "" for name in service.UPDATE_FIELDS}


def _form_page(project: Project, form: UpdateForm, update: Update | None, status: int = 200):
    """Render the update form (new or draft), with the draft's attachments."""
    help_ = upload_help()
    form.files.render_kw = {"accept": help_["accept"]}
    return (
        render_template(
            "updates/form.html",
            project=project,
            form=form,
            update=update,
            attachments=list(update.attachments) if update is not None else [],
            upload=help_,
            client_profile=staff_profile(current_user, project.client),
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


def _result_url(project: Project, update: Update) -> str:
    """Return where a new update lives: the feed once published, else its draft."""
    if update.is_published:
        return url_for("projects.show", project_id=project.id, _anchor=f"update-{update.id}")
    return url_for("updates.edit", project_id=project.id, update_id=update.id)


def _published_is_a_record(project: Project, update: Update):
    """Send staff back to a published update: it cannot be edited any more."""
    flash(_("A published update is a record and cannot be changed. Post a new update to correct it."), "info")
    return redirect(url_for("updates.show", project_id=project.id, update_id=update.id))


def _files_lost(form: UpdateForm) -> None:
    """Tell the user the files of a refused post were not kept (a browser cannot refill a file input)."""
    form.files.errors = [*form.files.errors, _("Nothing was saved, and no file was kept: choose the files again.")]


def _write_with_files(project: Project, update_id: int | None):
    """Save the update form posted as multipart: text fields and files, in one transaction."""
    try:
        batch = receive_files(require_files=False)
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
            return _published_is_a_record(project, update)
    # The token was checked while streaming (CSRFError otherwise); the form checks the text.
    form = UpdateForm(formdata=MultiDict(batch.fields), obj=update, meta={"csrf": False})
    if update_id is None and (done := once.already_done(form)) is not None:
        batch.discard()  # the same form was already saved: its files are not kept twice
        return done
    count = len(batch.files)
    if not form.validate():
        batch.discard()
        if count:
            _files_lost(form)
        return _form_page(project, form, update, 422)
    publish = batch.fields.get("action") == "publish"
    # committing() turns refusals into an outcome; any other error (a 500) deletes the stored files on its way out.
    with batch.discard_on_error(), committing(form, flash_errors=False) as saved:
        update = service.save_update(current_user, project, _values(form), publish=publish, update=update, attachments=batch.files)
        if update_id is None:
            once.remember(form, _result_url(project, update))
    if not saved.ok:
        batch.discard()
        if (twin := once.after_refusal(form, saved)) is not None:  # a draft's edit has no remembered key: only the refusal shows
            return twin
        if count:
            _files_lost(form)
        return _form_page(project, form, update_or_404(current_user, project.id, update_id) if update_id else None, saved.status)
    return _saved(project, update, publish, count)


def _write(project: Project, update: Update | None):
    """Show the update form, or save what it sent (with files: streamed; without: an ordinary form post)."""
    if request.method == "POST" and request.mimetype == "multipart/form-data":
        return _write_with_files(project, update.id if update else None)
    if request.method == "POST":
        csrf.protect()  # the view is exempt for its streamed posts; every other post is checked as usual
    form = UpdateForm(obj=update)
    status = 422 if request.method == "POST" else 200
    if update is None and (done := once.already_done(form)) is not None:
        return done
    if form.validate_on_submit():
        publish = request.form.get("action") == "publish"
        with committing(form, flash_errors=False) as saved:
            saved_update = service.save_update(current_user, project, _values(form), publish=publish, update=update)
            if update is None:
                once.remember(form, _result_url(project, saved_update))
        if saved.ok:
            return _saved(project, saved_update, publish, 0)
        if (twin := once.after_refusal(form, saved)) is not None:  # a draft's edit has no remembered key: only the refusal shows
            return twin
        status = saved.status
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
        return _published_is_a_record(project, update)
    return _write(project, update)


@bp.route("/updates/<int:update_id>/publish", methods=["POST"])
@staff_required
def publish(project_id: int, update_id: int):
    """Publish a draft as it was saved."""
    project = managed_project_or_404(current_user, project_id)
    update = update_or_404(current_user, project.id, update_id)
    require_button_form()
    with committing() as saved:
        service.publish_update(current_user, update)
    if not saved.ok:
        return show_page(update_or_404(current_user, project.id, update_id), status=saved.status)
    flash(_("The update is published. The client's people can read it now."), "success")
    return redirect(url_for("projects.show", project_id=project.id, _anchor=f"update-{update.id}"))


@bp.route("/updates/<int:update_id>/delete", methods=["POST"])
@staff_required
def delete(project_id: int, update_id: int):
    """Delete a draft and its files."""
    project = managed_project_or_404(current_user, project_id)
    update = update_or_404(current_user, project.id, update_id)
    require_button_form()
    keys: list[str] = []
    with committing() as saved:
        keys = service.delete_draft(current_user, update)
    if not saved.ok:
        return show_page(update_or_404(current_user, project.id, update_id), status=saved.status)
    delete_quietly(keys)
    flash(_("The draft is deleted."), "success")
    return redirect(url_for("projects.show", project_id=project.id))
