"""Helpers shared by the deliverable review tests: files, versions and decisions made through the services."""

from __future__ import annotations

import io

from flask import current_app
from sqlalchemy import select

from portal.deliverables import service
from portal.extensions import db
from portal.models import Project, User
from portal.models.deliverables import Decision, Deliverable, DeliverableFile, DeliverableVersion
from portal.storage import storage_for
from portal.storage.images import inspect_image
from portal.storage.uploads import ReceivedFile
from tests.integration.asset_helpers import PDF, png_bytes

__all__ = ["PDF", "add_file", "decisions", "make_deliverable", "png_bytes", "submit"]


def add_file(actor: User, version: DeliverableVersion, content: bytes = PDF, name: str = "brief.pdf") -> DeliverableFile:
    """Store ``content`` and record it on a draft through the service, as an upload would (the caller commits)."""
    storage = storage_for(current_app)
    stored = storage.save(io.BytesIO(content), service.STORAGE_PREFIX)
    extension = name.rsplit(".", 1)[-1].lower()
    thumbnail = width = height = None
    if extension == "png":
        info = inspect_image(storage, stored.key, "PNG", thumbnail_prefix=service.STORAGE_PREFIX)
        thumbnail, width, height = info.thumbnail, info.width, info.height
    content_type = {"png": "image/png", "pdf": "application/pdf"}.get(extension, "application/octet-stream")
    received = ReceivedFile(stored=stored, name=name, extension=extension, content_type=content_type, thumbnail=thumbnail, width=width, height=height)
    return service.add_files(actor, version, [received])[0]


def make_deliverable(manager: User, project: Project, title: str = "Homepage design", **values) -> Deliverable:
    """Create a deliverable through the service and commit."""
    deliverable = service.create_deliverable(manager, project, title=title, **values)
    db.session.commit()
    return deliverable


def submit(
    actor: User,
    deliverable: Deliverable,
    *,
    notes: str = "",
    links: str = "",
    impact: str = "",
    file: tuple[bytes, str] | None = (PDF, "design.pdf"),
) -> DeliverableVersion:
    """Prepare the next version (with a file unless ``file`` is None), submit it and commit."""
    version = service.start_version(actor, deliverable)
    if file is not None:
        add_file(actor, version, *file)
    if not notes and version.number > 1:
        notes = f"What changed in version {version.number}"
    service.submit_version(actor, version, change_notes=notes, links=links, impact_note=impact)
    db.session.commit()
    return version


def decisions(deliverable_id: int) -> list[Decision]:
    """Return every decision recorded on a deliverable, oldest first."""
    return list(db.session.scalars(select(Decision).where(Decision.deliverable_id == deliverable_id).order_by(Decision.id)))
