"""Receiving uploads safely: one place for the rules every feature's uploads follow.

The rules (QUALITY.md, "Uploads"):

- **Streaming.** :func:`receive_upload` parses the ``multipart/form-data`` request body
  itself, a chunk at a time, and writes each file part straight into a storage
  :class:`~portal.storage.base.ObjectWriter`, hashing (SHA-256) and counting as it goes.
  Neither Flask's form parser nor any buffer ever holds a whole file, so memory does
  not grow with the file's size.
- **Size.** Each file may be at most :attr:`UploadPolicy.max_bytes` (``PORTAL_MAX_UPLOAD_MB``);
  the request as a whole is capped by Flask's ``MAX_CONTENT_LENGTH``. Too large → 413.
- **Type.** The extension must be in the policy's allowlist (see
  :data:`~portal.storage.filetypes.KINDS`), and the file's first bytes must match what
  that extension promises (:func:`~portal.storage.filetypes.sniff`), so a
  ``.png`` that is really HTML is refused. The stored content type comes from our own
  table, never from the browser.
- **Names.** The browser's file name is cleaned (:func:`~portal.storage.names.clean_filename`) and kept only
  as display metadata; storage keys are generated.
- **Images.** Raster images are opened by Pillow under its pixel limit and get a
  thumbnail (:mod:`portal.storage.images`).
- **SVG.** The whole file is parsed as it streams (:mod:`portal.storage.svg`): script,
  event attributes, ``javascript:`` URLs, external references and entity declarations
  refuse it.
- **Empty files** and parts without a file are refused / ignored.
- **All or nothing.** If any file of a request is refused, or the client disconnects,
  every object already stored for that request is deleted before the error is raised.
  After a refused file the rest of the body is still read for its text fields (later
  files are skipped, never stored), so the error carries everything the user typed
  (``UploadRejected.fields``) and a form can be shown again intact.
  After a successful parse, wrap the database work in :meth:`UploadBatch.discard_on_error`
  so a failing transaction deletes the stored objects too.

The CSRF token is checked here because the body is not parsed by Flask-WTF: mark the
view ``@csrf.exempt``. Views do not call :func:`receive_upload` directly but run the one
upload flow of :mod:`portal.storage.upload_flow` (checks before the body, limits, the
transaction recording the files, the answers)::

    batch = receive_upload(request, storage_for(current_app), policy)   # raises UploadRejected
    with batch.discard_on_error():
        service.add_files(current_user, thing, batch.files)
        db.session.commit()
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, current_app, request
from flask import Request as FlaskRequest
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, same_origin, validate_csrf
from werkzeug.exceptions import ClientDisconnected
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import NEED_DATA, Data, Epilogue, Field, File, MultipartDecoder
from wtforms import ValidationError

from portal.errors import DomainError
from portal.storage import delete_quietly
from portal.storage.base import CHUNK_SIZE, ObjectWriter, Storage, StorageError, StoredFile
from portal.storage.filetypes import FILE_TYPES, sniff
from portal.storage.images import ImageRejected, inspect_image, max_pixels
from portal.storage.names import clean_filename, extension_of
from portal.storage.svg import SvgCheck, SvgRefused

log = logging.getLogger(__name__)

# What a backend raises when it cannot store: its own error, the disk's, or the object store's.
STORAGE_FAILURES: tuple[type[BaseException], ...] = (StorageError, OSError, BotoCoreError, ClientError)
STORE_FAILED = _l("The file could not be stored just now, so nothing was saved. Try again in a few minutes.")

HEAD_SIZE = 16 * 1024  # bytes kept from the start of each file for the magic-byte check
MAX_FIELD_BYTES = 64 * 1024  # a non-file field (the CSRF token…) longer than this is refused


# --- Errors -----------------------------------------------------------------------------


class UploadRejected(DomainError):
    """An upload was refused; ``message`` says why in the user's language.

    ``status`` is 413 for files over the size limit, 400 for a malformed or interrupted
    request, 503 when the storage failed, else 422. ``filename`` is the (cleaned) name of the file at fault, if any.
    ``fields`` holds the form's other fields as far as they were received, so a form that
    sends text with its files can be shown again with what the user typed.
    """

    def __init__(self, message: Any, *, status: int = 422, filename: str | None = None) -> None:
        super().__init__(message, field="files")
        self.status = status
        self.filename = filename
        self.fields: dict[str, str] = {}


# --- CSRF for bodies Flask-WTF does not parse -------------------------------------------


def check_csrf(token: str | None) -> None:
    """Validate a CSRF token as ``CSRFProtect`` would; raise ``CSRFError`` (400) if it is not valid."""
    try:
        validate_csrf(token)
    except ValidationError as error:
        raise CSRFError(error.args[0]) from None
    if (
        request.is_secure
        and current_app.config.get("WTF_CSRF_SSL_STRICT", True)
        and (not request.referrer or not same_origin(request.referrer, f"https://{request.host}/"))
    ):
        raise CSRFError("The referrer does not match the host.")


# --- Policy, results --------------------------------------------------------------------


@dataclass(frozen=True)
class UploadPolicy:
    """What one upload endpoint accepts."""

    extensions: frozenset[str]
    max_bytes: int
    prefix: str  # storage key prefix, e.g. "assets" or "deliverables"
    max_files: int = 20
    max_field_bytes: int = MAX_FIELD_BYTES  # a longer text field is refused (413)
    thumbnails: bool = True
    pixel_limit: int = field(default_factory=max_pixels)
    file_field: str = "files"

    @classmethod
    def for_app(cls, app: Flask, extensions: Iterable[str], *, prefix: str, **values: Any) -> UploadPolicy:
        """Return a policy with the app's per-file limit (``PORTAL_MAX_UPLOAD_MB``)."""
        return cls(frozenset(extensions), int(app.config["MAX_UPLOAD_MB"]) * 1024 * 1024, prefix, **values)


@dataclass(frozen=True)
class ReceivedFile:
    """A file stored from an upload, with what the feature records about it."""

    stored: StoredFile
    name: str  # cleaned display name; never a path
    extension: str
    content_type: str  # from FILE_TYPES, never from the browser
    thumbnail: StoredFile | None = None
    width: int | None = None
    height: int | None = None

    @property
    def keys(self) -> list[str]:
        """Return every storage key this file occupies (the file and its thumbnail)."""
        return [self.stored.key] + ([self.thumbnail.key] if self.thumbnail else [])

    def record(self) -> dict[str, Any]:
        """Return the columns every stored-file record keeps (AssetFile, DeliverableFile, UpdateAttachment)."""
        return {
            "original_name": self.name,
            "extension": self.extension,
            "content_type": self.content_type,
            "size": self.stored.size,
            "sha256": self.stored.sha256,
            "storage_key": self.stored.key,
            "thumbnail_key": self.thumbnail.key if self.thumbnail else None,
            "width": self.width,
            "height": self.height,
        }


@dataclass
class UploadBatch:
    """The files and form fields of one upload request; its objects are already stored."""

    storage: Storage
    files: list[ReceivedFile] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        """Return every storage key the batch occupies."""
        return [key for received in self.files for key in received.keys]

    def discard(self) -> None:
        """Delete every stored object of the batch (best effort: failures are logged)."""
        delete_quietly(self.keys, self.storage)
        self.files.clear()

    @contextmanager
    def discard_on_error(self) -> Iterator[UploadBatch]:
        """Delete the stored objects if the block fails (for example the transaction recording them)."""
        try:
            yield self
        except BaseException:
            self.discard()
            raise


# --- The streaming parser ---------------------------------------------------------------


class _FilePart:
    """One file part being streamed into storage: size limit, magic bytes, then image checks."""

    def __init__(self, storage: Storage, policy: UploadPolicy, name: str) -> None:
        self.storage = storage
        self.policy = policy
        self.name = name
        self.extension = extension_of(name)
        self.writer: ObjectWriter | None = None
        self.head = bytearray()
        self.sniffed = False
        if self.extension not in policy.extensions:
            raise UploadRejected(
                _l(
                    "%(name)s: this type of file is not accepted here. Accepted: %(extensions)s.",
                    name=name,
                    extensions=", ".join(sorted(policy.extensions)),
                ),
                filename=name,
            )
        self.file_type = FILE_TYPES[self.extension]
        # An SVG is checked whole, as it streams: script or outside references anywhere refuse it.
        self.svg = SvgCheck() if self.extension == "svg" else None

    def feed(self, data: bytes) -> None:
        """Write the next chunk of the file, refusing it once it is over the size limit or its head does not match."""
        if not data:
            return
        size = self.writer.size if self.writer else 0
        if size + len(data) > self.policy.max_bytes:
            raise UploadRejected(
                _l("%(name)s is too large. Files can be at most %(mb)s MB.", name=self.name, mb=self.policy.max_bytes // (1024 * 1024)),
                status=413,
                filename=self.name,
            )
        if not self.sniffed:
            self.head += data[: HEAD_SIZE - len(self.head)]
            if len(self.head) >= HEAD_SIZE:
                self._sniff()
        if self.svg is not None:
            self._check_svg(self.svg.feed, data)
        if self.writer is None:
            self.writer = self.storage.writer(self.policy.prefix)
        self.writer.write(data)

    def _check_svg(self, step: Callable[..., None], *args: bytes) -> None:
        """Run one step of the SVG check, turning a refusal into the user's message."""
        try:
            step(*args)
        except SvgRefused as refused:
            log.info("SVG %r refused: %s", self.name, refused.reason)
            raise UploadRejected(
                _l(
                    "%(name)s contains scripts or links to content outside the file, which SVG files may not carry here. "
                    "Export it again as a plain SVG, or as PNG or PDF.",
                    name=self.name,
                ),
                filename=self.name,
            ) from None

    def _sniff(self) -> None:
        """Refuse the file unless its first bytes match what its extension promises."""
        self.sniffed = True
        if not sniff(self.extension, bytes(self.head)):
            raise UploadRejected(
                _l(
                    "%(name)s is not really a .%(extension)s file: its content does not match its name. Export it again in that format.",
                    name=self.name,
                    extension=self.extension,
                ),
                filename=self.name,
            )

    def finish(self) -> ReceivedFile:
        """Commit the stored object and, for an image, check its pixels and make its thumbnail."""
        if self.writer is None or self.writer.size == 0:
            raise UploadRejected(_l("%(name)s is empty. Choose the file again.", name=self.name), filename=self.name)
        if not self.sniffed:
            self._sniff()
        if self.svg is not None:
            self._check_svg(self.svg.close)
        stored = self.writer.commit()
        received = ReceivedFile(stored=stored, name=self.name, extension=self.extension, content_type=self.file_type.content_type)
        if self.file_type.image_format:
            try:
                info = inspect_image(
                    self.storage,
                    stored.key,
                    self.file_type.image_format,
                    pixel_limit=self.policy.pixel_limit,
                    thumbnail_prefix=self.policy.prefix if self.policy.thumbnails else None,
                )
            except ImageRejected as error:
                self.storage.delete(stored.key)
                raise UploadRejected(_l("%(name)s: %(reason)s", name=self.name, reason=error.message), filename=self.name) from None
            except BaseException:
                self.storage.delete(stored.key)
                raise
            received = ReceivedFile(
                stored=stored,
                name=self.name,
                extension=self.extension,
                content_type=self.file_type.content_type,
                thumbnail=info.thumbnail,
                width=info.width,
                height=info.height,
            )
        return received

    def abort(self) -> None:
        """Drop what was written of a file that will not be kept."""
        if self.writer is not None:
            self.writer.abort()


def _drain(stream: Any) -> None:
    """Read and drop the rest of the body, so the client sees our answer instead of a reset connection."""
    # Whatever reading raises ends the drain: the client went away, or the body hit the request limit.
    with suppress(Exception):
        while stream.read(CHUNK_SIZE):
            pass


def drain_body(request: FlaskRequest) -> None:
    """Read and drop a request body that will not be parsed (an upload refused before its first byte)."""
    try:
        stream = request.stream
    except Exception:  # noqa: BLE001 - over the request limit: nothing can be read
        return
    _drain(stream)


def receive_upload(
    request: FlaskRequest, storage: Storage, policy: UploadPolicy, *, csrf: bool = True, require_files: bool = True
) -> UploadBatch:
    """Stream the files of a ``multipart/form-data`` request into ``storage`` under ``policy``.

    Returns an :class:`UploadBatch` whose files are stored completely and passed every
    check. Raises :class:`UploadRejected` (nothing is left stored) when a file breaks a
    rule, none was sent (unless ``require_files`` is False: a form whose files are
    optional), or the body is malformed or cut short; ``CSRFError`` when the
    token (``X-CSRFToken`` header, or a ``csrf_token`` field before the first file) is
    missing or wrong; ``RequestEntityTooLarge`` when the request is over the limit.
    Only parts named ``policy.file_field`` are taken as files; other fields (at most
    ``policy.max_field_bytes`` each) are returned in ``batch.fields``, and on a refusal
    in ``UploadRejected.fields``.
    """
    mimetype, options = parse_options_header(request.headers.get("Content-Type", ""))
    boundary = options.get("boundary", "")
    if mimetype != "multipart/form-data" or not boundary or len(boundary) > 200:
        raise UploadRejected(_l("Send the files with the upload form."), status=400)
    token_ok = not csrf
    header_token = request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token")
    if csrf and header_token:
        check_csrf(header_token)
        token_ok = True

    stream = request.stream  # raises RequestEntityTooLarge when Content-Length is over the limit
    decoder = MultipartDecoder(boundary.encode("latin-1"), max_form_memory_size=2 * CHUNK_SIZE + HEAD_SIZE, max_parts=policy.max_files + 20)
    batch = UploadBatch(storage)
    part: _FilePart | None = None
    field_name: str | None = None
    field_value = bytearray()
    files_seen = 0
    finished = False
    refused: UploadRejected | None = None  # the first refused file: later files are skipped, fields still read
    try:
        while not finished:
            chunk = stream.read(CHUNK_SIZE)
            decoder.receive_data(chunk or None)
            while (event := decoder.next_event()) is not NEED_DATA:
                if isinstance(event, Epilogue):
                    finished = True
                    break
                if isinstance(event, Field):
                    field_name, field_value, part = event.name, bytearray(), None
                elif isinstance(event, File):
                    field_name, part = None, None
                    if not token_ok:
                        raise CSRFError("The CSRF token is missing.")
                    if refused is not None or event.name != policy.file_field or not event.filename:
                        continue  # another file input, one sent with no file chosen, or after a refusal: dropped
                    files_seen += 1
                    try:
                        if files_seen > policy.max_files:
                            raise UploadRejected(_l("Send at most %(count)s files at once.", count=policy.max_files))
                        part = _FilePart(storage, policy, clean_filename(event.filename))
                    except UploadRejected as error:
                        refused = error
                        batch.discard()
                elif isinstance(event, Data):
                    if part is not None:
                        current = part
                        try:
                            current.feed(event.data)
                            if not event.more_data:
                                batch.files.append(current.finish())
                                part = None
                        except UploadRejected as error:
                            current.abort()
                            part = None
                            refused = error
                            batch.discard()
                    elif field_name is not None:
                        field_value += event.data
                        if len(field_value) > policy.max_field_bytes:
                            raise UploadRejected(_l("The form sent too much text."), status=413)
                        if not event.more_data:
                            value = field_value.decode("utf-8", "replace").replace("\x00", "")  # NUL is never text (and PostgreSQL refuses it)
                            batch.fields[field_name] = value
                            if csrf and field_name == "csrf_token" and not token_ok:
                                check_csrf(value)
                                token_ok = True
                            field_name = None
            if not chunk:
                break
        if not finished:
            raise UploadRejected(_l("The upload was interrupted. Try again."), status=400)
        if csrf and not token_ok:
            raise CSRFError("The CSRF token is missing.")
        if refused is not None:
            raise refused
        if require_files and not batch.files:
            raise UploadRejected(_l("Choose at least one file to upload."))
    except UploadRejected as error:
        if part is not None:
            part.abort()
        batch.discard()
        error.fields = dict(batch.fields)
        _drain(stream)
        raise
    except STORAGE_FAILURES:
        # The disk or the object store failed (full, down, refused): nothing is kept, and the
        # person is told it is not their file's fault. The body is drained so they see the answer.
        log.exception("storing an upload failed on %s %s", request.method, request.path)
        if part is not None:
            part.abort()
        batch.discard()
        failed = UploadRejected(STORE_FAILED, status=503)
        failed.fields = dict(batch.fields)
        _drain(stream)
        raise failed from None
    except (ClientDisconnected, ValueError):
        # The client went away mid-body, or sent something that is not multipart.
        if part is not None:
            part.abort()
        batch.discard()
        interrupted = UploadRejected(_l("The upload was interrupted. Try again."), status=400)
        interrupted.fields = dict(batch.fields)
        raise interrupted from None
    except BaseException:
        if part is not None:
            part.abort()
        batch.discard()
        raise
    return batch
