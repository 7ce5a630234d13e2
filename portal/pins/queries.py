"""What the pinned review pages read: a file's pins and preview, carried-over pins, counts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import User
from portal.models.deliverables import Deliverable, DeliverableFile, DeliverableVersion
from portal.models.pins import DecisionPin, FilePreview, PinCheck, PinReply, PinStatus, ReviewPin


def _visible(viewer: User, query: Select[Any]) -> Select[Any]:
    """Narrow a pin query to what ``viewer`` may read: internal pins are for staff only."""
    return query if viewer.is_staff else query.where(ReviewPin.internal.is_(False))


def _loaded(query: Select[Any]) -> Select[Any]:
    """Load what a pin shows: its author, replies with their authors, who settled it, its checks."""
    return query.options(
        selectinload(ReviewPin.author),
        selectinload(ReviewPin.settled_by),
        selectinload(ReviewPin.replies).selectinload(PinReply.author),
        selectinload(ReviewPin.checks),
    ).order_by(ReviewPin.number)


def has_pins(deliverable: Deliverable) -> bool:
    """Tell whether any pin was ever placed on the deliverable (whoever may read it)."""
    return db.session.scalar(select(ReviewPin.id).where(ReviewPin.deliverable_id == deliverable.id).limit(1)) is not None


def pins_of_file(viewer: User, file: DeliverableFile) -> list[ReviewPin]:
    """Return the pins on ``file`` that ``viewer`` may read, in order."""
    return list(db.session.scalars(_loaded(_visible(viewer, select(ReviewPin).where(ReviewPin.file_id == file.id)))))


def pins_of_version(viewer: User, version: DeliverableVersion) -> list[ReviewPin]:
    """Return every pin on ``version``'s files that ``viewer`` may read."""
    return list(db.session.scalars(_loaded(_visible(viewer, select(ReviewPin).where(ReviewPin.version_id == version.id)))))


def open_pins(viewer: User, version: DeliverableVersion) -> list[ReviewPin]:
    """Return the open pins on ``version`` that ``viewer`` may read (what a request for changes can carry)."""
    query = select(ReviewPin).where(ReviewPin.version_id == version.id, ReviewPin.status == PinStatus.OPEN)
    return list(db.session.scalars(_visible(viewer, query).options(selectinload(ReviewPin.file)).order_by(ReviewPin.number)))


@dataclass(frozen=True)
class Carried:
    """A pin of an earlier version beside the current one, and staff's check of it (None: not checked yet)."""

    pin: ReviewPin
    addressed: bool | None


def carried_over(viewer: User, deliverable: Deliverable, current: DeliverableVersion | None) -> list[Carried]:
    """Return the pins of earlier versions still open when ``current`` came, with whether they are addressed in it."""
    if current is None or current.number <= 1:
        return []
    checked = select(PinCheck.pin_id).where(PinCheck.version_id == current.id)
    query = (
        select(ReviewPin)
        .join(DeliverableVersion, DeliverableVersion.id == ReviewPin.version_id)
        .where(
            ReviewPin.deliverable_id == deliverable.id,
            DeliverableVersion.number < current.number,
            (ReviewPin.status == PinStatus.OPEN) | ReviewPin.id.in_(checked),
        )
    )
    pins = list(db.session.scalars(_loaded(_visible(viewer, query)).options(selectinload(ReviewPin.file), selectinload(ReviewPin.version))))
    result = []
    for pin in pins:
        mine = next((c for c in pin.checks if c.version_id == current.id), None)
        result.append(Carried(pin, None if mine is None else mine.addressed))
    return result


def checks_by_version(viewer: User, deliverable: Deliverable) -> dict[int, list[tuple[ReviewPin, bool]]]:
    """Return, per version id, the earlier pins staff checked against it (addressed or not): the history shows them."""
    query = select(PinCheck, ReviewPin).join(ReviewPin, ReviewPin.id == PinCheck.pin_id).where(ReviewPin.deliverable_id == deliverable.id)
    if not viewer.is_staff:
        query = query.where(ReviewPin.internal.is_(False))
    rows = db.session.execute(query.order_by(ReviewPin.number)).all()
    result: dict[int, list[tuple[ReviewPin, bool]]] = {}
    for check, pin in rows:
        result.setdefault(check.version_id, []).append((pin, check.addressed))
    return result


def decision_pins(viewer: User, deliverable: Deliverable) -> dict[int, list[ReviewPin]]:
    """Return, per decision id, the pins a request for changes was sent with."""
    query = select(DecisionPin.decision_id, ReviewPin).join(ReviewPin, ReviewPin.id == DecisionPin.pin_id).where(ReviewPin.deliverable_id == deliverable.id)
    if not viewer.is_staff:
        query = query.where(ReviewPin.internal.is_(False))
    rows = db.session.execute(query.order_by(ReviewPin.number)).all()
    result: dict[int, list[ReviewPin]] = {}
    for decision_id, pin in rows:
        result.setdefault(decision_id, []).append(pin)
    return result


def open_counts(deliverable_ids: Iterable[int], *, staff: bool) -> dict[int, int]:
    """Return the number of open pins per deliverable (client-visible ones unless ``staff``), in one query."""
    ids = list(deliverable_ids)
    if not ids:
        return {}
    query = (
        select(ReviewPin.deliverable_id, func.count())
        .where(ReviewPin.deliverable_id.in_(ids), ReviewPin.status == PinStatus.OPEN)
        .group_by(ReviewPin.deliverable_id)
    )
    if not staff:
        query = query.where(ReviewPin.internal.is_(False))
    return dict(db.session.execute(query).all())


def open_counts_by_file(viewer: User, file_ids: list[int]) -> dict[int, int]:
    """Return the number of open pins ``viewer`` can read per file, in one query."""
    if not file_ids:
        return {}
    query = select(ReviewPin.file_id, func.count()).where(ReviewPin.file_id.in_(file_ids), ReviewPin.status == PinStatus.OPEN)
    if not viewer.is_staff:
        query = query.where(ReviewPin.internal.is_(False))
    return dict(db.session.execute(query.group_by(ReviewPin.file_id)).all())


def preview_of(file: DeliverableFile) -> FilePreview | None:
    """Return the file's preview with its pages, if the file has one."""
    return db.session.scalar(select(FilePreview).where(FilePreview.file_id == file.id).options(selectinload(FilePreview.pages)))


def previews_of(files: Iterable[DeliverableFile]) -> dict[int, FilePreview]:
    """Return the previews of ``files`` by file id (one query)."""
    ids = [f.id for f in files]
    if not ids:
        return {}
    return {p.file_id: p for p in db.session.scalars(select(FilePreview).where(FilePreview.file_id.in_(ids)).options(selectinload(FilePreview.pages)))}
