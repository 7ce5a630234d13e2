"""Receiving uploads safely: one place for the rules every feature's uploads follow.

The rules (QUALITY.md, "Uploads"):

- **Streaming.** :func:`receive_upload` parses the ``multipart/form-data`` request body
  itself, a chunk at a time, and writes each file part straight into a storage
  :class:`~portal.storage.base.ObjectWriter`, hashing (SHA-256) and counting as it goes.
  Neither Flask's form parser nor any buffer ever holds a whole file, so memory does
  not grow with the file's size.
- **Size.** Each file may be at most :attr:`UploadPolicy.max_bytes` (``PORTAL_MAX_UPLOAD_MB``);
  the request as a whole is capped by Flask's ``MAX_CONTENT_LENGTH``. Too large → 413.
- **Type.** The extension must be in the policy's allowlist (see :data:`KINDS`), and the
  file's first bytes must match what that extension promises (:func:`sniff`), so a
  ``.png`` that is really HTML is refused. The stored content type comes from our own
  table, never from the browser.
- **Names.** The browser's file name is cleaned (:func:`clean_filename`) and kept only
  as display metadata; storage keys are generated.
- **Images.** Raster images are opened by Pillow under its pixel limit and get a
  thumbnail (:mod:`portal.storage.images`).
- **Empty files** and parts without a file are refused / ignored.
- **All or nothing.** If any file of a request is refused, or the client disconnects,
  every object already stored for that request is deleted before the error is raised.
  After a refused file the rest of the body is still read for its text fields (later
  files are skipped, never stored), so the error carries everything the user typed
  (``UploadRejected.fields``) and a form can be shown again intact.
  After a successful parse, wrap the database work in :meth:`UploadBatch.discard_on_error`
  so a failing transaction deletes the stored objects too.

Typical use in a view (the CSRF token is checked here because the body is not parsed
by Flask-WTF; mark the view ``@csrf.exempt``)::

    policy = UploadPolicy.for_app(current_app, extensions_for(["images"]), prefix="assets")
    batch = receive_upload(request, storage_for(current_app), policy)   # raises UploadRejected
    with batch.discard_on_error():
        service.add_files(current_user, thing, batch.files)
        db.session.commit()
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from flask import Request as FlaskRequest
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, same_origin, validate_csrf
from werkzeug.exceptions import ClientDisconnected
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import NEED_DATA, Data, Epilogue, Field, File, MultipartDecoder
from wtforms import ValidationError

from portal.errors import DomainError
from portal.storage.base import CHUNK_SIZE, ObjectWriter, Storage, StoredFile
from portal.storage.images import ImageRejected, inspect_image, max_pixels

log = logging.getLogger(__name__)

HEAD_SIZE = 16 * 1024  # bytes kept from the start of each file for the magic-byte check
MAX_FIELD_BYTES = 64 * 1024  # a non-file field (the CSRF token…) longer than this is refused
MAX_NAME_LENGTH = 200  # characters of a display name


# --- Errors -----------------------------------------------------------------------------


class UploadRejected(DomainError):
    """An upload was refused; ``message`` says why in the user's language.

    ``status`` is 413 for files over the size limit, 400 for a malformed or interrupted
    request, else 422. ``filename`` is the (cleaned) name of the file at fault, if any.
    ``fields`` holds the form's other fields as far as they were received, so a form that
    sends text with its files can be shown again with what the user typed.
    """

    def __init__(self, message: Any, *, status: int = 422, filename: str | None = None) -> None:
        super().__init__(message, field="files")
        self.status = status
        self.filename = filename
        self.fields: dict[str, str] = {}


# --- File types and kinds ---------------------------------------------------------------


def _starts(*signatures: bytes) -> Callable[[bytes], bool]:
    return lambda head: head.startswith(signatures)


def _riff(form: bytes) -> Callable[[bytes], bool]:
    return lambda head: head[:4] == b"RIFF" and head[8:12] == form


def _iso_media(head: bytes) -> bool:
    """MP4/QuickTime family: a box type at offset 4 (``ftyp`` first, or QuickTime's older atoms)."""
    return head[4:8] in {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def _heif(head: bytes) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] in {b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis", b"avif"}


def _pdf(head: bytes) -> bool:
    return b"%PDF-" in head[:1024]  # the spec allows a little junk before the header


def _mp3(head: bytes) -> bool:
    return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<?php")
_ALLOWED_CONTROL = {0x09, 0x0A, 0x0C, 0x0D, 0x1A, 0x1B}


def _strip_bom(head: bytes) -> bytes:
    return head[len(codecs.BOM_UTF8) :] if head.startswith(codecs.BOM_UTF8) else head


def _text(head: bytes) -> bool:
    """Plain text in any 8-bit or UTF encoding, and not an HTML page or a script in disguise."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if any(byte < 0x20 and byte not in _ALLOWED_CONTROL for byte in head):
        return False
    return not _strip_bom(head).lstrip().lower().startswith(_HTML_MARKERS)


def _svg(head: bytes) -> bool:
    """An SVG document (XML text with an ``<svg`` element near the start)."""
    if any(byte < 0x20 and byte not in _ALLOWED_CONTROL for byte in head):
        return False
    text = _strip_bom(head).lstrip().lower()
    return text.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")) and b"<svg" in text


def _tar(head: bytes) -> bool:
    return head[257:262] == b"ustar"


@dataclass(frozen=True)
class FileType:
    """What an extension promises: its content type, how to recognise it, and Pillow's format if an image."""

    content_type: str
    sniff: Callable[[bytes], bool]
    image_format: str | None = None  # raster images Pillow checks and thumbnails


_ZIP = _starts(b"PK\x03\x04")
_OLE = _starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
_EBML = _starts(b"\x1a\x45\xdf\xa3")
_MPEG_PS = _starts(b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")
_POSTSCRIPT = _starts(b"%!PS", b"\xc5\xd0\xd3\xc6")
_OOXML = "application/vnd.openxmlformats-officedocument."

FILE_TYPES: dict[str, FileType] = {
    # Images and design files.
    "jpg": FileType("image/jpeg", _starts(b"\xff\xd8\xff"), "JPEG"),
    "jpeg": FileType("image/jpeg", _starts(b"\xff\xd8\xff"), "JPEG"),
    "png": FileType("image/png", _starts(b"\x89PNG\r\n\x1a\n"), "PNG"),
    "gif": FileType("image/gif", _starts(b"GIF87a", b"GIF89a"), "GIF"),
    "webp": FileType("image/webp", _riff(b"WEBP"), "WEBP"),
    "tif": FileType("image/tiff", _starts(b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"), "TIFF"),
    "tiff": FileType("image/tiff", _starts(b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"), "TIFF"),
    "bmp": FileType("image/bmp", _starts(b"BM"), "BMP"),
    "heic": FileType("image/heic", _heif),
    "heif": FileType("image/heif", _heif),
    "svg": FileType("image/svg+xml", _svg),
    "eps": FileType("application/postscript", _POSTSCRIPT),
    "ai": FileType("application/postscript", lambda head: _pdf(head) or _POSTSCRIPT(head)),
    "psd": FileType("image/vnd.adobe.photoshop", _starts(b"8BPS")),
    # Documents.
    "pdf": FileType("application/pdf", _pdf),
    "doc": FileType("application/msword", _OLE),
    "docx": FileType(_OOXML + "wordprocessingml.document", _ZIP),
    "xls": FileType("application/vnd.ms-excel", _OLE),
    "xlsx": FileType(_OOXML + "spreadsheetml.sheet", _ZIP),
    "ppt": FileType("application/vnd.ms-powerpoint", _OLE),
    "pptx": FileType(_OOXML + "presentationml.presentation", _ZIP),
    "odt": FileType("application/vnd.oasis.opendocument.text", _ZIP),
    "ods": FileType("application/vnd.oasis.opendocument.spreadsheet", _ZIP),
    "odp": FileType("application/vnd.oasis.opendocument.presentation", _ZIP),
    "rtf": FileType("application/rtf", _starts(b"{\\rtf")),
    "txt": FileType("text/plain", _text),
    "csv": FileType("text/csv", _text),
    "md": FileType("text/markdown", _text),
    # Video.
    "mp4": FileType("video/mp4", _iso_media),
    "m4v": FileType("video/x-m4v", _iso_media),
    "mov": FileType("video/quicktime", _iso_media),
    "webm": FileType("video/webm", _EBML),
    "mkv": FileType("video/x-matroska", _EBML),
    "avi": FileType("video/x-msvideo", _riff(b"AVI ")),
    "mpg": FileType("video/mpeg", _MPEG_PS),
    "mpeg": FileType("video/mpeg", _MPEG_PS),
    # Archives.
    "zip": FileType("application/zip", _ZIP),
    "7z": FileType("application/x-7z-compressed", _starts(b"7z\xbc\xaf\x27\x1c")),
    "rar": FileType("application/vnd.rar", _starts(b"Rar!\x1a\x07")),
    "tar": FileType("application/x-tar", _tar),
    "gz": FileType("application/gzip", _starts(b"\x1f\x8b")),
    "tgz": FileType("application/gzip", _starts(b"\x1f\x8b")),
    # Audio and fonts (accepted by "any").
    "mp3": FileType("audio/mpeg", _mp3),
    "wav": FileType("audio/wav", _riff(b"WAVE")),
    "m4a": FileType("audio/mp4", _iso_media),
    "ogg": FileType("audio/ogg", _starts(b"OggS")),
    "flac": FileType("audio/flac", _starts(b"fLaC")),
    "ttf": FileType("font/ttf", _starts(b"\x00\x01\x00\x00", b"true")),
    "otf": FileType("font/otf", _starts(b"OTTO")),
    "woff": FileType("font/woff", _starts(b"wOFF")),
    "woff2": FileType("font/woff2", _starts(b"wOF2")),
}

# The kinds a request can accept, each an allowlist of extensions (documented for users
# in the request form, which lists them).
KINDS: dict[str, tuple[str, ...]] = {
    "images": ("jpg", "jpeg", "png", "gif", "webp", "tif", "tiff", "bmp", "heic", "heif", "svg", "eps", "ai", "psd"),
    "documents": ("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf", "txt", "csv", "md"),
    "video": ("mp4", "m4v", "mov", "webm", "mkv", "avi", "mpg", "mpeg"),
    "archives": ("zip", "7z", "rar", "tar", "gz", "tgz"),
}
# "any" is every kind above plus audio and fonts: still an allowlist (no HTML, scripts or executables).
KINDS["any"] = tuple(
    dict.fromkeys([*(ext for exts in KINDS.values() for ext in exts), "mp3", "wav", "m4a", "ogg", "flac", "ttf", "otf", "woff", "woff2"])
)

KIND_LABELS = {
    "images": _l("Images and design files"),
    "documents": _l("Documents"),
    "video": _l("Video"),
    "archives": _l("Archives"),
    "any": _l("Any file type"),
}

assert set(KIND_LABELS) == set(KINDS) and all(ext in FILE_TYPES for exts in KINDS.values() for ext in exts)


def extensions_for(kinds: Iterable[str]) -> frozenset[str]:
    """Return the allowed extensions of the given kinds (unknown kinds add nothing)."""
    return frozenset(ext for kind in kinds for ext in KINDS.get(kind, ()))


def sniff(extension: str, head: bytes) -> bool:
    """Tell whether ``head`` (the file's first bytes) looks like a file of ``extension``."""
    file_type = FILE_TYPES.get(extension)
    return bool(file_type and head and file_type.sniff(head))


# --- Names ------------------------------------------------------------------------------


def clean_filename(raw: str | None) -> str:
    """Return a browser-supplied file name made safe to display: base name only, no control,
    format (bidi overrides, zero-width) or unassigned characters, at most 200 characters with
    the extension kept. Never used as a path: storage keys are generated.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10 and stem:
            name = f"{stem[: MAX_NAME_LENGTH - len(ext) - 1].rstrip()}.{ext}"
        else:
            name = name[:MAX_NAME_LENGTH]
    return name or "file"


def extension_of(name: str) -> str:
    """Return the lower-case extension of a cleaned name ("" when it has none)."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def ascii_filename(name: str) -> str:
    """Return an ASCII stand-in for ``name`` (for the plain ``filename=`` of Content-Disposition)."""
    ext = extension_of(name)
    stem = name[: -len(ext) - 1] if ext else name
    decomposed = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    safe = " ".join(re.sub(r"[^A-Za-z0-9._() -]+", "_", decomposed).split()).strip(" ._")
    if not re.search(r"[A-Za-z0-9]", safe):
        safe = "download"
    ext = re.sub(r"[^a-z0-9]+", "", ext)
    return f"{safe[: MAX_NAME_LENGTH - len(ext) - 1]}.{ext}" if ext else safe[:MAX_NAME_LENGTH]


# --- CSRF for bodies Flask-WTF does not parse -------------------------------------------


def check_csrf(token: str | None) -> None:
    """Validate a CSRF token as ``CSRFProtect`` would; raise ``CSRFError`` (400) if it is not valid."""
    try:
        validate_csrf(token)
    except ValidationError as error:
        raise CSRFError(error.args[0]) from None
    from flask import request

    if request.is_secure and current_app.config.get("WTF_CSRF_SSL_STRICT", True):
        if not request.referrer or not same_origin(request.referrer, f"https://{request.host}/"):
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
        for key in self.keys:
            try:
                self.storage.delete(key)
            except Exception:  # noqa: BLE001 - keep deleting the others
                log.exception("could not delete stored upload %s", key)
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

    def feed(self, data: bytes) -> None:
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
        if self.writer is None:
            self.writer = self.storage.writer(self.policy.prefix)
        self.writer.write(data)

    def _sniff(self) -> None:
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
        if self.writer is None or self.writer.size == 0:
            raise UploadRejected(_l("%(name)s is empty. Choose the file again.", name=self.name), filename=self.name)
        if not self.sniffed:
            self._sniff()
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
        if self.writer is not None:
            self.writer.abort()


def _drain(stream: Any) -> None:
    """Read and drop the rest of the body, so the client sees our answer instead of a reset connection."""
    try:
        while stream.read(CHUNK_SIZE):
            pass
    except Exception:  # noqa: BLE001 - the client went away, or the body hit the request limit
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
                        try:
                            part.feed(event.data)
                            if not event.more_data:
                                batch.files.append(part.finish())
                                part = None
                        except UploadRejected as error:
                            part.abort()
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
