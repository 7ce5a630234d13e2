"""Asset collection pages: the checklist, requests, uploads, reviews and downloads."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal import once
from portal.access import (
    asset_file_or_404,
    asset_request_or_404,
    can_manage_project,
    managed_asset_request_or_404,
    managed_project_or_404,
    project_or_404,
    staff_required,
)
from portal.assets import queries, service
from portal.assets.forms import AssetRequestForm, ReturnForm
from portal.clients.queries import staff_profile
from portal.extensions import csrf
from portal.forms import EmptyForm
from portal.models import AssetRequest, Project, User
from portal.storage.downloads import send_record, send_thumbnail
from portal.storage.filetypes import KIND_LABELS, KINDS, extensions_for
from portal.storage.upload_flow import accept_upload, upload_answer
from portal.storage.uploads import UploadPolicy
from portal.timeutil import project_today
from portal.web import committing, require_button_form

bp = Blueprint("assets", __name__)

CHANGED_MEANWHILE = _l("Someone changed this request in the meantime. Here is its latest state; check it and try again.")


# --- Helpers ----------------------------------------------------------------------------------


def _kind_help() -> list[tuple[str, str, str]]:
    """Return (kind, label, extensions) for the request form's documented allowlists."""
    return [(kind, str(label), ", ".join(f".{ext}" for ext in KINDS[kind])) for kind, label in KIND_LABELS.items()]


def _upload_context(project: Project, asset_request: AssetRequest | None) -> dict[str, Any]:
    """Return what the upload area needs: where to post, the accepted extensions and the size limit."""
    kinds = asset_request.kinds if asset_request else ["any"]
    extensions = sorted(extensions_for(kinds))
    return {
        "action": url_for("assets.upload_to_request", request_id=asset_request.id)
        if asset_request
        else url_for("assets.upload_to_project", project_id=project.id),
        "extensions": extensions,
        "accept": ",".join(f".{ext}" for ext in extensions),
        "max_bytes": int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024,
        "max_mb": int(current_app.config["MAX_UPLOAD_MB"]),
    }


def _request_page(asset_request: AssetRequest, return_form: ReturnForm | None = None, status: int = 200):
    """Render a request with its versions, reviews, upload area and (for staff) review forms."""
    project = asset_request.project
    page = queries.request_page(asset_request)
    return (
        render_template(
            "assets/request.html",
            project=project,
            asset_request=asset_request,
            versions=page.versions,
            reviews=page.reviews,
            manage=can_manage_project(current_user, project),
            today=project_today(project),
            kind_labels=KIND_LABELS,
            upload=_upload_context(project, asset_request) if service.accepts_uploads(project, asset_request) else None,
            return_form=return_form or ReturnForm(),
            action_form=EmptyForm(),
        ),
        status,
    )


def _request_form_page(form: AssetRequestForm, project: Project, asset_request: AssetRequest | None, status: int):
    """Render the request form (new or edit) with the client's profile beside it for staff."""
    page = render_template(
        "assets/request_form.html",
        form=form,
        project=project,
        asset_request=asset_request,
        kind_help=_kind_help(),
        client_profile=staff_profile(current_user, project.client),
    )
    return page, status


def _index_page(project: Project, status: int = 200):
    """Render a project's requests (the checklist) and its general files."""
    page = queries.assets_page(project)
    return (
        render_template(
            "assets/index.html",
            project=project,
            checklist=page.checklist,
            cancelled=page.cancelled,
            files=page.files,
            manage=can_manage_project(current_user, project),
            upload=_upload_context(project, None) if service.accepts_uploads(project) else None,
        ),
        status,
    )


# --- Requests ---------------------------------------------------------------------------------


@bp.route("/projects/<int:project_id>/assets")
@login_required
def index(project_id: int):
    """Show a project's asset requests and shared files."""
    return _index_page(project_or_404(current_user, project_id))


@bp.route("/projects/<int:project_id>/assets/requests/new", methods=["GET", "POST"])
@staff_required
def new_request(project_id: int):
    """Ask the client for files."""
    project = managed_project_or_404(current_user, project_id)
    form = AssetRequestForm()
    status = 422 if request.method == "POST" else 200
    if (done := once.already_done(form)) is not None:
        return done
    if form.validate_on_submit():
        with committing(form, conflict=CHANGED_MEANWHILE, flash_errors=False) as saved:
            asset_request = service.create_request(
                current_user,
                project,
                title=form.title.data or "",
                instructions=form.instructions.data or "",
                kinds=form.kinds.data or [],
                due_date=form.due_date.data,
                required=bool(form.required.data),
            )
            once.remember(form, url_for("assets.show_request", request_id=asset_request.id))
        if saved.ok:
            flash(_("The request is on the client's checklist, and they have been told."), "success")
            return redirect(url_for("assets.show_request", request_id=asset_request.id))
        if (done := once.after_refusal(form, saved)) is not None:
            return done
        status = saved.status
    return _request_form_page(form, project, None, status)


@bp.route("/assets/requests/<int:request_id>")
@login_required
def show_request(request_id: int):
    """Show a request: instructions, versions with their files, reviews, and the upload area."""
    return _request_page(asset_request_or_404(current_user, request_id))


@bp.route("/assets/requests/<int:request_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_request(request_id: int):
    """Change an open request."""
    asset_request = managed_asset_request_or_404(current_user, request_id)
    form = AssetRequestForm(obj=asset_request)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            values = {name: getattr(form, name).data for name in ("title", "instructions", "kinds", "due_date", "required")}
            with committing(form, conflict=CHANGED_MEANWHILE) as saved:
                service.update_request(current_user, asset_request, values)
            if saved.ok:
                flash(_("The request is updated."), "success")
                return redirect(url_for("assets.show_request", request_id=asset_request.id))
            status = saved.status
    elif not asset_request.accepts_files:
        flash(_("This request is closed and can no longer be changed."), "info")
        return redirect(url_for("assets.show_request", request_id=asset_request.id))
    return _request_form_page(form, asset_request.project, asset_request, status)


@bp.route("/assets/requests/<int:request_id>/cancel", methods=["POST"])
@staff_required
def cancel_request(request_id: int):
    """Withdraw a request the agency no longer needs."""
    asset_request = managed_asset_request_or_404(current_user, request_id)
    require_button_form()
    with committing(conflict=CHANGED_MEANWHILE) as saved:
        service.cancel_request(current_user, asset_request)
    if not saved.ok:
        return _request_page(asset_request, status=saved.status)
    flash(_("The request is cancelled. Its files stay available."), "success")
    return redirect(url_for("assets.show_request", request_id=asset_request.id))


@bp.route("/assets/requests/<int:request_id>/accept", methods=["POST"])
@staff_required
def accept(request_id: int):
    """Accept the client's latest version: the request is fulfilled."""
    asset_request = managed_asset_request_or_404(current_user, request_id)
    require_button_form()
    with committing(conflict=CHANGED_MEANWHILE) as saved:
        service.accept(current_user, asset_request)
    if not saved.ok:
        return _request_page(asset_request, status=saved.status)
    flash(_("Accepted. The client has been told."), "success")
    return redirect(url_for("assets.show_request", request_id=asset_request.id))


@bp.route("/assets/requests/<int:request_id>/return", methods=["POST"])
@staff_required
def return_request(request_id: int):
    """Return the client's latest version with a note on what to change."""
    asset_request = managed_asset_request_or_404(current_user, request_id)
    form = ReturnForm()
    status = 422
    if form.validate_on_submit():
        with committing(form, conflict=CHANGED_MEANWHILE) as saved:
            service.return_with_note(current_user, asset_request, form.note.data or "")
        if saved.ok:
            flash(_("Returned with your note. The client has been asked for a new version."), "success")
            return redirect(url_for("assets.show_request", request_id=asset_request.id))
        status = saved.status
    return _request_page(asset_request, return_form=form, status=status)


# --- Uploads ----------------------------------------------------------------------------------


def _receive(project: Project, asset_request: AssetRequest | None):
    """Stream the uploaded files into storage, then record them in one transaction (or delete them again)."""
    kinds = asset_request.kinds if asset_request else ["any"]
    back = url_for("assets.show_request", request_id=asset_request.id) if asset_request else url_for("assets.index", project_id=project.id)
    upload = accept_upload(
        UploadPolicy.for_app(current_app, extensions_for(kinds), prefix=service.STORAGE_PREFIX),
        lambda files: service.add_files(current_user, project, asset_request, files),
        check=lambda: service.check_upload_allowed(current_user, project, asset_request),
        conflict=CHANGED_MEANWHILE,
        back=back,
    )
    if asset_request is not None:
        return upload_answer(upload, back=back, download="assets.download", page=lambda status: _request_page(asset_request, status=status))
    return upload_answer(upload, back=back, download="assets.download", page=lambda status: _index_page(project, status=status))


@bp.route("/assets/requests/<int:request_id>/files", methods=["POST"])
@csrf.exempt  # the token is checked by receive_upload: Flask-WTF would parse (and buffer) the whole body first
@login_required
def upload_to_request(request_id: int):
    """Upload one or more files to a request (a new version after a return)."""
    asset_request = asset_request_or_404(current_user, request_id)
    return _receive(asset_request.project, asset_request)


@bp.route("/projects/<int:project_id>/assets/files", methods=["POST"])
@csrf.exempt  # the token is checked by receive_upload: Flask-WTF would parse (and buffer) the whole body first
@login_required
def upload_to_project(project_id: int):
    """Upload one or more files to the project's shared files."""
    return _receive(project_or_404(current_user, project_id), None)


# --- Downloads --------------------------------------------------------------------------------


@bp.route("/assets/files/<int:file_id>")
@login_required
def download(file_id: int):
    """Send an uploaded file as an attachment (streamed, resumable)."""
    return send_record(asset_file_or_404(current_user, file_id))


@bp.route("/assets/files/<int:file_id>/thumbnail")
@login_required
def thumbnail(file_id: int):
    """Send the preview of an uploaded image (re-encoded by us, so safe to show inline)."""
    return send_thumbnail(asset_file_or_404(current_user, file_id))


# --- Page blocks ------------------------------------------------------------------------------


def project_section(viewer: User, project: Project) -> dict[str, Any] | None:
    """The project page's checklist of asset requests (two queries, however many requests)."""
    return {
        "project": project,
        "checklist": next(iter(queries.checklists([project])), None),
        "file_count": queries.shared_file_count(project),
        "manage": can_manage_project(viewer, project),
    }
