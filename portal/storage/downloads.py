"""Sending stored files: streamed, resumable (HTTP Range), and never rendered by the browser.

The caller authorises first — load the row that owns the file through an
``access.py`` loader (another organisation's file is a 404) — then returns
:func:`send_record` for the file or :func:`send_thumbnail` for its preview. Any row with
the attributes of :class:`StoredRecord` will do (asset files, deliverable files, update
attachments)::

    return send_record(asset_file_or_404(current_user, file_id))

:func:`send_stored_file` is the general form, for an object that is not such a row.

Every response carries:

- ``Content-Disposition: attachment; filename="ascii"; filename*=UTF-8''…`` (RFC 6266 /
  RFC 5987), so the browser saves the file instead of showing it; ``inline`` is only
  honoured for the raster types in :data:`INLINE_TYPES` (thumbnails we encoded ourselves);
- ``X-Content-Type-Options: nosniff`` and ``Content-Security-Policy: sandbox …``, so even
  a file opened directly cannot run script or be sniffed into HTML;
- a strong ``ETag`` (pass the file's SHA-256), ``Accept-Ranges: bytes``; a single ``Range`` gets a
  206 with ``Content-Range``, an unsatisfiable one a 416, several ranges or a stale
  ``If-Range`` the whole file (200). The body is streamed from storage a chunk at a time.

HTML, SVG, XML and script types are sent as ``application/octet-stream``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Literal, Protocol
from urllib.parse import quote

from flask import Response, abort, current_app, request

from portal.storage import storage_for
from portal.storage.base import ObjectNotFound, Storage
from portal.storage.images import thumbnail_content_type
from portal.storage.names import ascii_filename, clean_filename

log = logging.getLogger(__name__)

# Types a browser may display in the page (an <img>): our own re-encoded thumbnails.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# Types a browser would execute or render as a document: always sent as bytes.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "text/ecmascript",
        "application/ecmascript",
        "application/pdf+xml",
    }
)
# Keeps the directives QUALITY.md asks of every response, and sandboxes the document.
DOWNLOAD_CSP = "sandbox; default-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """Return an RFC 6266 Content-Disposition value with an ASCII fallback and a UTF-8 ``filename*``."""
    name = clean_filename(filename)
    fallback = ascii_filename(name).replace("\\", "_").replace('"', "_")
    encoded = quote(name, safe="!#$&+-.^_`|~")
    return f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def safe_content_type(content_type: str) -> str:
    """Return the type to send: the recorded one, unless a browser could render or run it."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    if not base or base in ACTIVE_TYPES or base.endswith(("+xml", "/html")) or "script" in base:
        return "application/octet-stream"
    return base


def _range(size: int, tag: str | None) -> tuple[int, int] | Literal[False] | None:
    """Return the (start, end) asked for, None for the whole file, or False if unsatisfiable.

    ``tag`` is the unquoted strong ETag of the file.
    """
    ranges = request.range
    if ranges is None or ranges.units != "bytes" or len(ranges.ranges) != 1:
        return None  # no Range, one we do not understand, or several: send everything (RFC 9110 §14.2)
    if_range = request.if_range
    if if_range.date is not None or (if_range.etag is not None and if_range.etag != tag):
        return None  # the client's copy is of another version: send everything
    found = ranges.range_for_length(size)
    if found is None:
        return False
    start, stop = found
    return start, stop - 1


def send_stored_file(
    storage: Storage,
    key: str,
    *,
    filename: str,
    content_type: str,
    size: int | None = None,
    etag: str | None = None,
    inline: bool = False,
    max_age: int = 0,
) -> Response:
    """Stream the object ``key`` to an already authorised user; see the module docstring.

    ``size`` is the recorded size (read from storage when omitted); ``etag`` a strong
    validator that changes whenever the bytes do (the SHA-256), unquoted. ``max_age`` > 0
    lets the user's own browser cache the response (private).
    A missing object is logged and answered with 404.
    """
    if size is None:
        try:
            size = storage.size(key)
        except ObjectNotFound:
            log.error("stored object %s is missing", key)
            abort(404)
    mimetype = safe_content_type(content_type)
    headers = {
        "Content-Disposition": content_disposition(filename, inline=inline and mimetype in INLINE_TYPES),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": DOWNLOAD_CSP,
        "Cross-Origin-Resource-Policy": "same-origin",
        "Accept-Ranges": "bytes",
        "Cache-Control": f"private, max-age={max_age}" if max_age > 0 else "private, no-store",
    }
    if etag:
        headers["ETag"] = f'"{etag}"'
        if request.if_none_match.contains(etag):
            return Response(status=304, headers=headers)

    wanted = _range(size, etag)
    if wanted is False:
        return Response(status=416, headers={**headers, "Content-Range": f"bytes */{size}"}, content_type="text/plain")
    start, end = wanted if wanted else (0, size - 1)
    length = end - start + 1 if size else 0
    if request.method == "HEAD" or length == 0:
        body: Iterable[bytes] = []
    else:
        try:
            body = storage.iter_range(key, start, end)
        except ObjectNotFound:
            log.error("stored object %s is missing", key)
            abort(404)
    response = Response(body, status=206 if wanted else 200, headers=headers, content_type=mimetype, direct_passthrough=True)
    response.headers["Content-Length"] = str(length)
    if wanted:
        response.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


class StoredRecord(Protocol):
    """A row that owns a stored file and perhaps its thumbnail (``AssetFile``, ``DeliverableFile``, ``UpdateAttachment``)."""

    @property
    def storage_key(self) -> str: ...
    @property
    def thumbnail_key(self) -> str | None: ...
    @property
    def original_name(self) -> str: ...
    @property
    def content_type(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...


THUMBNAIL_MAX_AGE = 3600  # a preview never changes under its key: the user's browser may keep it an hour


def send_record(record: StoredRecord) -> Response:
    """Send an authorised row's file as an attachment (streamed, resumable); a missing object is a logged 404."""
    return send_stored_file(
        storage_for(current_app),
        record.storage_key,
        filename=record.original_name,
        content_type=record.content_type,
        size=record.size,
        etag=record.sha256,
    )


def send_thumbnail(record: StoredRecord) -> Response:
    """Send an authorised row's preview inline (we re-encoded it, so it is safe to show); none or a missing object is a 404."""
    key = record.thumbnail_key
    if not key:
        abort(404)
    storage = storage_for(current_app)
    try:
        with storage.open(key) as handle:
            content_type = thumbnail_content_type(handle.read(8))
    except ObjectNotFound:
        log.error("stored thumbnail %s is missing", key)
        abort(404)
    stem = record.original_name.rsplit(".", 1)[0]
    return send_stored_file(
        storage,
        key,
        filename=f"{stem}-preview.{'png' if content_type == 'image/png' else 'jpg'}",
        content_type=content_type,
        etag=f"{record.sha256}-thumbnail",
        inline=True,
        max_age=THUMBNAIL_MAX_AGE,
    )


def human_size(size: int | None) -> str:
    """Return a byte count as people read it ("340 KB", "1.2 GB"), with the user's decimal mark.

    Units are of 1024, like ``PORTAL_MAX_UPLOAD_MB``, so a file at the limit reads as the limit.
    Registered as the ``filesize`` template filter by the features that list files.
    """
    from flask_babel import format_decimal

    value = float(size or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            break
        value /= 1024
    return f"{format_decimal(round(value, 1 if unit in ('MB', 'GB') else 0), format='#,##0.#')} {unit}"
