"""Review previews: the pictures pins sit on, rendered by us in a background step after the upload.

A PDF's pages are rendered through PDFium (``pypdfium2``), an image is re-encoded by
Pillow at a size a screen can show; either way the browser only ever displays our own
JPEG or PNG, never the upload. The database is the queue: a file that can carry pins
gets a ``FilePreview`` row in the upload's transaction, and whoever renders claims it
with a short lease (``UPDATE … WHERE lease is over``), so the web process's thread and
the scheduler's sweep never render the same file twice, and a renderer that died is
replaced once its lease ends.

A broken or encrypted PDF gets a ``failed`` preview saying why; the upload itself
stays, downloadable as ever.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import pypdfium2 as pdfium  # type: ignore[import-untyped]
from flask import Flask, current_app
from PIL import Image, ImageOps
from sqlalchemy import event, inspect, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import DeliverableFile
from portal.models.pins import FilePreview, PreviewPage, PreviewProblem, PreviewStatus
from portal.storage import delete_quietly, storage_for
from portal.storage.base import Storage
from portal.storage.images import max_pixels
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

IMAGE_FORMATS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP"}
PINNABLE = frozenset({*IMAGE_FORMATS, "pdf"})
PAGE_WIDTH = 1600  # pixels across a rendered page: sharp on a laptop, light enough for a phone
MAX_PAGES = 60  # pages rendered per PDF; the rest stay in the download
MAX_PAGE_PIXELS = 16_000_000  # the largest rendered page (a 1600 × 10,000 strip), whatever shape the page has
MAX_ATTEMPTS = 3
LEASE = timedelta(minutes=2)
STORAGE_PREFIX = "previews"
_PENDING = "portal.pins.previews_to_render"
_PDFIUM = threading.Lock()  # PDFium is not thread-safe


def is_pinnable(file: DeliverableFile) -> bool:
    """Tell whether a file can carry pins: a PNG, JPEG or WebP image we could read, or a PDF."""
    extension = file.extension.lower()
    return extension == "pdf" or (extension in IMAGE_FORMATS and bool(file.width and file.height))


def queue_previews(files: Iterable[DeliverableFile]) -> None:
    """Give each pinnable file a pending preview; it is rendered once the transaction has committed."""
    session = db.session()
    for file in files:
        if is_pinnable(file):
            preview = FilePreview(file=file)
            session.add(preview)
            session.info.setdefault(_PENDING, []).append(preview)


def preview_keys(file_ids: list[int]) -> list[str]:
    """Return the storage keys of the rendered pages of these files (to delete with them)."""
    if not file_ids:
        return []
    return list(
        db.session.scalars(select(PreviewPage.storage_key).join(FilePreview, FilePreview.id == PreviewPage.preview_id).where(FilePreview.file_id.in_(file_ids)))
    )


@dataclass(frozen=True)
class RenderReport:
    """What a sweep did."""

    ready: int = 0
    failed: int = 0


def render_pending(limit: int = 20) -> RenderReport:
    """Render previews waiting for a renderer (the scheduler's sweep, and tests); return what became of them."""
    now = utcnow()
    ids = db.session.scalars(
        select(FilePreview.id)
        .where(FilePreview.status == PreviewStatus.PENDING, or_(FilePreview.lease_until.is_(None), FilePreview.lease_until < now))
        .order_by(FilePreview.id)
        .limit(limit)
    ).all()
    ready = failed = 0
    for preview_id in ids:
        status = render(preview_id)
        ready += status is PreviewStatus.READY
        failed += status is PreviewStatus.FAILED
    return RenderReport(ready=ready, failed=failed)


def _claim(preview_id: int) -> bool:
    """Take the preview for LEASE; False when another renderer holds it or it is no longer pending."""
    now = utcnow()
    taken = db.session.execute(
        update(FilePreview)
        .where(
            FilePreview.id == preview_id,
            FilePreview.status == PreviewStatus.PENDING,
            or_(FilePreview.lease_until.is_(None), FilePreview.lease_until < now),
        )
        .values(lease_until=now + LEASE, attempts=FilePreview.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(getattr(taken, "rowcount", 0) == 1)


def render(preview_id: int) -> PreviewStatus | None:
    """Render one preview if it is free to claim; return its new status (None when someone else has it)."""
    if not _claim(preview_id):
        return None
    preview = db.session.get(FilePreview, preview_id)
    if preview is None:  # the file was removed meanwhile
        return None
    storage = storage_for(current_app)
    file = preview.file
    stored: list[str] = []
    try:
        pages, count, problem = _render_file(storage, file, stored)
    except Exception:  # a renderer bug or a storage outage: retried, then shown as not viewable
        log.exception("preview of deliverable file %s failed", file.id)
        delete_quietly(stored, storage)
        db.session.rollback()
        preview = db.session.get(FilePreview, preview_id)
        if preview is not None and preview.attempts >= MAX_ATTEMPTS:
            preview.status, preview.problem, preview.lease_until = PreviewStatus.FAILED, PreviewProblem.BROKEN, None
        elif preview is not None:
            preview.lease_until = utcnow() + timedelta(seconds=30 * preview.attempts)
        db.session.commit()
        return preview.status if preview is not None else None
    preview.pages = pages
    preview.page_count = count
    preview.problem = problem
    preview.status = PreviewStatus.FAILED if problem else PreviewStatus.READY
    preview.lease_until = None
    try:
        db.session.commit()
    except SQLAlchemyError:  # the file went away while it was rendered: its pictures go too
        db.session.rollback()
        delete_quietly(stored, storage)
        return None
    return preview.status


def _render_file(storage: Storage, file: DeliverableFile, stored: list[str]) -> tuple[list[PreviewPage], int, PreviewProblem | None]:
    """Return the rendered pages, the file's page count and the problem, if any; keys written go into ``stored``."""
    if file.extension.lower() == "pdf":
        return _render_pdf(storage, file, stored)
    with storage.open(file.storage_key) as handle, Image.open(handle, formats=[IMAGE_FORMATS[file.extension.lower()]]) as image:
        if image.width * image.height > max_pixels():
            return [], 1, PreviewProblem.BROKEN
        picture = ImageOps.exif_transpose(image) or image
        picture.thumbnail((PAGE_WIDTH, PAGE_WIDTH * 4))
        return [_store_page(storage, picture, 1, stored)], 1, None


def _render_pdf(storage: Storage, file: DeliverableFile, stored: list[str]) -> tuple[list[PreviewPage], int, PreviewProblem | None]:
    """Render a PDF's first MAX_PAGES pages at PAGE_WIDTH pixels across."""
    pages: list[PreviewPage] = []
    with _PDFIUM, storage.open(file.storage_key) as handle:
        try:
            document = pdfium.PdfDocument(handle)
        except pdfium.PdfiumError as error:
            encrypted = "password" in str(error).lower()
            return [], 0, PreviewProblem.ENCRYPTED if encrypted else PreviewProblem.BROKEN
        try:
            count = len(document)
            if count == 0:
                return [], 0, PreviewProblem.EMPTY
            for index in range(min(count, MAX_PAGES)):
                page = document[index]
                try:
                    width, height = page.get_size()
                    scale = max(0.25, min(4.0, PAGE_WIDTH / max(width, 1.0)))
                    # A page far taller than wide would make a picture of billions of pixels: cap its area.
                    scale = min(scale, 0.99 * (MAX_PAGE_PIXELS / max(width * height, 1.0)) ** 0.5)  # 0.99: PDFium rounds up
                    picture = page.render(scale=scale).to_pil()
                finally:
                    page.close()
                pages.append(_store_page(storage, picture, index + 1, stored))
        except pdfium.PdfiumError:
            return [], 0, PreviewProblem.BROKEN
        finally:
            document.close()
    return pages, count, None


def _store_page(storage: Storage, picture: Image.Image, number: int, stored: list[str]) -> PreviewPage:
    """Encode one page (PNG when it has transparency, else JPEG) and store it."""
    has_alpha = picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info)
    out = io.BytesIO()
    if has_alpha:
        picture.convert("RGBA").save(out, "PNG", optimize=True)
        content_type = "image/png"
    else:
        picture.convert("RGB").save(out, "JPEG", quality=84, optimize=True)
        content_type = "image/jpeg"
    out.seek(0)
    saved = storage.save(out, STORAGE_PREFIX)
    stored.append(saved.key)
    return PreviewPage(number=number, storage_key=saved.key, content_type=content_type, width=picture.width, height=picture.height)


# --- Starting the renderer once the upload committed ------------------------------------------


def _start(app: Flask, ids: list[int]) -> None:
    """Render ``ids`` in a thread of this process (the scheduler's sweep catches what a crash leaves)."""

    def work() -> None:
        with app.app_context():
            try:
                for preview_id in ids:
                    render(preview_id)
            finally:
                db.session.remove()

    threading.Thread(target=work, name="portal-previews", daemon=True).start()


def _after_commit(session: Session) -> None:
    """Start rendering the previews this transaction queued, where the app renders in the background."""
    queued: list[FilePreview] = session.info.pop(_PENDING, [])
    if not queued:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["PREVIEW_RENDERING"] == "thread":
        identities = [inspect(preview).identity for preview in queued]  # the ids, without reloading the expired rows
        _start(app, [identity[0] for identity in identities if identity])


def _after_rollback(session: Session) -> None:
    """Forget previews of a transaction that did not commit."""
    session.info.pop(_PENDING, None)


def listen() -> None:
    """Render previews after each commit that queued some (the session class is shared: listen once per process)."""
    if not event.contains(db.session, "after_commit", _after_commit):
        event.listen(db.session, "after_commit", _after_commit)
        event.listen(db.session, "after_rollback", _after_rollback)
