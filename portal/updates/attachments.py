"""An update's files: what they may be, receiving them, attaching more, taking one off, sending them."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required

from portal import once
from portal.access import managed_project_or_404, staff_required, update_attachment_or_404, update_or_404
from portal.extensions import csrf
from portal.models import Update
from portal.storage import delete_quietly
from portal.storage.downloads import send_record, send_thumbnail
from portal.storage.filetypes import extensions_for
from portal.storage.upload_flow import MULTIPART_ALLOWANCE, accept_upload, receive
from portal.storage.uploads import UploadBatch, UploadPolicy
from portal.updates import service
from portal.updates.views import bp, show_page
from portal.web import committing

UPLOAD_KINDS = ["any"]  # an update can carry any file the portal accepts (see portal.storage.filetypes.KINDS)
TEXT_FIELD_BYTES = 256 * 1024  # the body may be 20,000 characters of any script


def upload_policy() -> UploadPolicy:
    """Return what an update's files may be: any accepted type, ``PORTAL_MAX_UPLOAD_MB`` each, a few at once."""
    return UploadPolicy.for_app(
        current_app,
        extensions_for(UPLOAD_KINDS),
        prefix=service.STORAGE_PREFIX,
        max_files=service.MAX_ATTACHMENTS,
        max_field_bytes=TEXT_FIELD_BYTES,
    )


def upload_help() -> dict[str, Any]:
    """Return what the file inputs tell the user: the accepted extensions and the size limit."""
    extensions = sorted(extensions_for(UPLOAD_KINDS))
    return {
        "accept": ",".join(f".{ext}" for ext in extensions),
        "max_mb": int(current_app.config["MAX_UPLOAD_MB"]),
        "max_files": service.MAX_ATTACHMENTS,
    }


def _limits(policy: UploadPolicy) -> dict[str, Any]:
    """Return the request limit of an update's post and its message: each file is held to its own limit as it streams."""
    return {
        "request_limit": policy.max_bytes * policy.max_files + MULTIPART_ALLOWANCE,
        "too_large": _l(
            "These files are too large together. Send at most %(count)s files of up to %(mb)s MB each.",
            count=policy.max_files,
            mb=current_app.config["MAX_UPLOAD_MB"],
        ),
    }


def receive_files(*, require_files: bool) -> UploadBatch:
    """Stream the posted files into storage; raise UploadRejected (carrying the typed fields) or CSRFError."""
    policy = upload_policy()
    return receive(policy, require_files=require_files, **_limits(policy))


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
    policy = upload_policy()
    upload = accept_upload(
        policy,
        # The update is loaded again: the session was rolled back while the files streamed in.
        lambda files: service.add_attachments(current_user, update_or_404(current_user, project.id, update_id), files),
        check=lambda: service.check_attachments_allowed(current_user, update),
        back=_back_to(update),
        **_limits(policy),
    )
    if upload.repeat_of is not None:
        return once.repeated(upload.repeat_of)
    if upload.error is not None:
        flash(str(upload.error.message), "danger")
        return show_page(update_or_404(current_user, project.id, update_id), status=upload.status)
    flash(ngettext("%(num)d file attached.", "%(num)d files attached.", len(upload.files)), "success")
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
    if not saved.ok:
        return show_page(update_or_404(current_user, project.id, update_id), status=saved.status)
    delete_quietly(keys)
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
