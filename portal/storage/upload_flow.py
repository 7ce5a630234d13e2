"""The one upload flow a view runs: check, stream the files in, record them in one transaction, answer.

Every upload endpoint does the same steps around :func:`~portal.storage.uploads.receive_upload`:

1. ask the feature whether this user may upload here at all, *before* reading a byte of
   the body (a refusal drains the body, so the client sees the answer, not a reset);
2. cap the request (the per-file limit plus room for the multipart headers);
3. roll the session back, so no database transaction stays open while a large body
   streams in (the feature's rows are read again afterwards);
4. stream the files into storage, turning a request over the limit into a 413 with a
   message, and a wrong CSRF token into a 400 for the page's script (a plain form post
   gets the usual CSRF error page);
5. record the files in one transaction (:func:`portal.web.committing`): a refusal or a
   race lost at commit time (409) deletes the stored objects again, and so does any error;
6. answer: JSON for the page's script (201 with the files), else a flash and a redirect
   back, or the page again with the refusal.

A view keeps only its own parts::

    upload = accept_upload(
        policy,
        lambda files: service.add_files(current_user, thing, files),
        check=lambda: service.check_upload_allowed(current_user, thing),
    )
    return upload_answer(upload, back=url_for(...), download="things.download", page=lambda status: _page(thing, status))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from flask import current_app, flash, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from portal import once
from portal.errors import DomainError
from portal.extensions import db
from portal.storage import storage_for
from portal.storage.uploads import ReceivedFile, UploadBatch, UploadPolicy, UploadRejected, drain_body, receive_upload
from portal.web import committing, wants_json

MULTIPART_ALLOWANCE = 1024 * 1024  # room for multipart headers and text fields, so a file of exactly the limit fits

PAGE_EXPIRED = _l("The page expired. Reload it and upload the files again.")

T = TypeVar("T")


class RecordedFile(Protocol):
    """What the answer to the page's script tells about each recorded file."""

    @property
    def id(self) -> int:
        """Return the record's id (its download URL takes it as ``file_id``)."""

    @property
    def original_name(self) -> str:
        """Return the file's display name."""

    @property
    def size(self) -> int:
        """Return the file's size in bytes."""


R = TypeVar("R", bound=RecordedFile)


@dataclass
class Upload(Generic[T]):
    """What became of an upload: the files as the feature recorded them, or the refusal and its status."""

    files: list[T] = field(default_factory=list)
    error: DomainError | None = None
    repeat_of: str | None = None  # a repeated form: nothing stored again; where the first send landed

    @property
    def ok(self) -> bool:
        """Tell whether the files are stored and recorded."""
        return self.error is None

    @property
    def status(self) -> int:
        """Return the status to answer with: 201 once recorded, else the refusal's (400, 403, 409, 413, 422)."""
        return self.error.status if self.error is not None else 201


def receive(
    policy: UploadPolicy, *, request_limit: int | None = None, too_large: Any = None, require_files: bool = True
) -> UploadBatch:
    """Stream the request's files into storage under ``policy``, with no transaction open.

    ``request_limit`` caps the whole body (default: ``MAX_CONTENT_LENGTH``, else one file
    of the policy's size, plus :data:`MULTIPART_ALLOWANCE`); a body over it is refused
    with ``too_large`` (default: the per-file limit in MB) and 413. Raises
    :class:`~portal.storage.uploads.UploadRejected` or ``CSRFError`` like
    :func:`~portal.storage.uploads.receive_upload`.
    """
    if request_limit is None:
        request_limit = (current_app.config.get("MAX_CONTENT_LENGTH") or policy.max_bytes) + MULTIPART_ALLOWANCE
    request.max_content_length = request_limit
    # No database transaction stays open while a large body streams in; rows are read again afterwards.
    db.session.rollback()
    try:
        return receive_upload(request, storage_for(current_app), policy, require_files=require_files)
    except RequestEntityTooLarge:
        message = too_large or _l("That file is too large. Files can be at most %(mb)s MB.", mb=current_app.config["MAX_UPLOAD_MB"])
        raise UploadRejected(message, status=413) from None


def accept_upload(
    policy: UploadPolicy,
    record: Callable[[list[ReceivedFile]], Sequence[T]],
    *,
    check: Callable[[], object] | None = None,
    conflict: str | None = None,
    request_limit: int | None = None,
    too_large: Any = None,
    back: str | None = None,
) -> Upload[T]:
    """Run the one upload flow: check, stream the files in, record them in one transaction, or say why not.

    ``check`` raises a :class:`~portal.errors.DomainError` when the user may not upload
    here at all; it runs before the body is read. ``record`` turns the stored files into
    the feature's rows inside the transaction (re-reading what it needs: the session was
    rolled back while the body streamed) and returns them. ``conflict`` is the message for
    a race lost at commit time (409). A wrong CSRF token is raised as ``CSRFError`` unless
    the page's script sent the files: it gets a 400 refusal it can show.

    ``back`` is the page a plain form post lands on: with it, the form's one-time key
    (:mod:`portal.once`, with the files' hashes as what it said) makes a repeat (Back, then
    Upload again) store nothing and land there.
    """
    if check is not None:
        try:
            check()
        except DomainError as error:
            drain_body(request)
            return Upload(error=error)
    try:
        batch = receive(policy, request_limit=request_limit, too_large=too_large)
    except UploadRejected as error:
        return Upload(error=error)
    except CSRFError:
        if not wants_json():
            raise
        return Upload(error=UploadRejected(PAGE_EXPIRED, status=400))
    submission = None
    if back is not None and not wants_json():
        said = sorted((received.stored.sha256, received.name) for received in batch.files)
        submission = once.Submission.of(batch.fields.get("submission_key"), said)
        if submission is not None and (earlier := submission.earlier()) is not None:
            batch.discard()
            return Upload(repeat_of=earlier)
    files: list[T] = []
    # committing() turns refusals into an outcome; any other error (a 500) deletes the stored objects on its way out.
    with batch.discard_on_error(), committing(conflict=conflict, flash_errors=False) as saved:
        files = list(record(batch.files))
        if submission is not None and back is not None:
            submission.remember(back)
    if not saved.ok:
        batch.discard()
        if submission is not None and (earlier := submission.earlier()) is not None:
            return Upload(repeat_of=earlier)  # a twin sent at the same moment won the key
        return Upload(error=saved.error)
    return Upload(files=files)


def upload_answer(upload: Upload[R], *, back: str, download: str, page: Callable[[int], ResponseReturnValue]) -> ResponseReturnValue:
    """Answer an upload: JSON for the page's script, else a flash and a redirect ``back``, or ``page(status)`` on a refusal.

    ``download`` is the endpoint of a recorded file's download (it takes ``file_id``).
    """
    if upload.repeat_of is not None:
        return once.repeated(upload.repeat_of)
    if upload.error is not None:
        if wants_json():
            return jsonify(error=str(upload.error.message)), upload.status
        flash(str(upload.error.message), "danger")
        return page(upload.status)
    files = upload.files
    message = _("%(count)s file uploaded.", count=len(files)) if len(files) == 1 else _("%(count)s files uploaded.", count=len(files))
    if wants_json():
        return jsonify(
            message=message,
            redirect=back,
            files=[{"id": f.id, "name": f.original_name, "size": f.size, "url": url_for(download, file_id=f.id)} for f in files],
        ), 201
    flash(message, "success")
    return redirect(back)
