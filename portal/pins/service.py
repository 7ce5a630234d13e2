"""The rules of pinned review comments.

Who may do what:

- **place a pin** — a reviewer: one of the project's approvers, or the staff who manage
  the project; only on a file of the version waiting for review (not a draft, not a
  replaced, settled or approved one), on a page the file has, at a spot inside it (or on
  the whole file). Internal pins are for staff only.
- **reply** — anyone who can see the pin, while the project is not archived.
- **settle** — staff who manage the project: resolved, "won't do" (with the reason), or
  open again.
- **check against a newer version** — staff: each pin still open from an earlier version
  is addressed in the current one, or not yet; "addressed" also resolves it.

Every function raises a :class:`portal.errors.DomainError` (a 4xx) with a translated
message and changes nothing when a rule refuses; the caller commits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal import activity
from portal.access import can_manage_project
from portal.deliverables.review import is_approver
from portal.errors import Conflict, DomainError, NotAllowed
from portal.extensions import db
from portal.models import User
from portal.models.deliverables import DeliverableFile, DeliverableVersion, VersionStatus
from portal.models.pins import FilePreview, PinCheck, PinReply, PinStatus, PreviewStatus, ReviewPin
from portal.pins import notifications
from portal.pins.previews import is_pinnable
from portal.timeutil import utcnow

TEXT_MAX = 5_000

NOT_IN_REVIEW = _l("Pins can only be placed on the version waiting for review. This one was replaced or decided.")
ARCHIVED = _l("This project is archived: its review is closed.")


def _clean(text: str | None, *, field: str, missing: Any) -> str:
    """Return ``text`` stripped; refuse it empty (with ``missing``) or too long."""
    text = (text or "").strip()
    if not text:
        raise DomainError(missing, field=field)
    if len(text) > TEXT_MAX:
        raise DomainError(_l("Keep this under %(count)s characters.", count=TEXT_MAX), field=field)
    return text


def _fraction(value: Any, field: str) -> float:
    """Return a spot coordinate as a number from 0 to 1, or refuse it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DomainError(_l("The spot must be inside the file. Click on the picture again."), field=field) from None
    if not math.isfinite(number) or not 0 <= number <= 1:
        raise DomainError(_l("The spot must be inside the file. Click on the picture again."), field=field)
    return number


def may_review(user: User, version: DeliverableVersion) -> bool:
    """Tell whether ``user`` may place pins on ``version``'s files now."""
    project = version.deliverable.project
    return (
        version.status is VersionStatus.IN_REVIEW
        and not project.is_archived
        and (can_manage_project(user, project) or is_approver(user, project))
    )


def page_count(file: DeliverableFile) -> int:
    """Return how many pages of the file a pin may point at (1 for an image or a preview not made yet)."""
    preview = db.session.scalar(select(FilePreview).where(FilePreview.file_id == file.id))
    if preview is None or preview.status is not PreviewStatus.READY:
        return 1
    return max(1, len(preview.pages))


def place(
    actor: User,
    file: DeliverableFile,
    *,
    body: str | None,
    x: Any = None,
    y: Any = None,
    page: Any = 1,
    internal: bool = False,
) -> ReviewPin:
    """Place a pin on ``file`` (at ``x``, ``y`` on ``page``, or on the whole file when both are empty)."""
    version = file.version
    deliverable = version.deliverable
    project = deliverable.project
    manage = can_manage_project(actor, project)
    if project.is_archived:
        raise DomainError(ARCHIVED)
    if not (manage or is_approver(actor, project)):
        raise NotAllowed(_l("Only the project's approvers and its account manager can place pins. You can comment in the conversation instead."))
    if version.status is not VersionStatus.IN_REVIEW:
        raise Conflict(NOT_IN_REVIEW)
    if not is_pinnable(file):
        raise DomainError(_l("Pins can be placed on PNG, JPEG and WebP images and on PDFs. Comment on this file in the conversation."))
    if internal and not manage:
        raise NotAllowed(_l("Only the agency can leave internal pins."))
    text = _clean(body, field="body", missing=_l("Write what should change at this spot."))
    blank = (x in (None, "") and y in (None, ""))
    spot_x = None if blank else _fraction(x, "x")
    spot_y = None if blank else _fraction(y, "y")
    try:
        page_number = int(page or 1)
    except (TypeError, ValueError):
        raise DomainError(_l("Choose a page of the file."), field="page") from None
    if not 1 <= page_number <= page_count(file):
        raise DomainError(_l("This file has no page %(number)s.", number=page_number), field="page")
    number = (db.session.scalar(select(func.max(ReviewPin.number)).where(ReviewPin.deliverable_id == deliverable.id)) or 0) + 1
    pin = ReviewPin(
        deliverable=deliverable,
        version=version,
        file=file,
        number=number,
        page=page_number,
        x=spot_x,
        y=spot_y,
        author=actor,
        body=text,
        internal=internal,
    )
    db.session.add(pin)
    db.session.flush()  # a simultaneous pin taking the same number fails here, as a conflict (see portal.web.committing)
    deliverable.updated_at = utcnow()
    activity.record(
        actor,
        "pin.placed",
        deliverable,
        project=project,
        data={"title": deliverable.title, "version": version.number, "pin": pin.number, "file": file.original_name},
        internal=internal,
    )
    notifications.queue_placed(pin, actor)
    return pin


def reply(actor: User, pin: ReviewPin, body: str | None) -> PinReply:
    """Add a reply under ``pin``."""
    if pin.deliverable.project.is_archived:
        raise DomainError(ARCHIVED)
    text = _clean(body, field="body", missing=_l("Write your reply."))
    answer = PinReply(pin=pin, author=actor, body=text)
    db.session.add(answer)
    db.session.flush()
    notifications.queue_reply(answer, actor)
    return answer


def settle(actor: User, pin: ReviewPin, status: PinStatus | str, note: str | None = "") -> None:
    """Mark ``pin`` resolved, "won't do" (a reason is required) or open again (staff who manage the project)."""
    project = pin.deliverable.project
    if not can_manage_project(actor, project):
        raise NotAllowed(_l("Only the project's account manager or an admin can settle pins."))
    if project.is_archived:
        raise DomainError(ARCHIVED)
    try:
        status = PinStatus(status)
    except ValueError:
        raise DomainError(_l("Choose what became of the pin.")) from None
    if status is pin.status:
        raise Conflict(_l("Pin %(number)s is already marked so.", number=pin.number))
    reason = ""
    if status is PinStatus.WONT_DO:
        reason = _clean(note, field="note", missing=_l("Say why this will not be done; the client reads it."))
    pin.status = status
    pin.settled_note = reason
    pin.settled_by, pin.settled_at = (None, None) if status is PinStatus.OPEN else (actor, utcnow())
    activity.record(
        actor,
        "pin.settled",
        pin.deliverable,
        project=project,
        data={"title": pin.deliverable.title, "pin": pin.number, "status": status.value, "note": reason},
        internal=pin.internal,
    )


def check(actor: User, pin: ReviewPin, version: DeliverableVersion, *, addressed: bool) -> PinCheck:
    """Record whether the still-open ``pin`` of an earlier version is addressed in ``version`` (the current one)."""
    project = pin.deliverable.project
    if not can_manage_project(actor, project):
        raise NotAllowed(_l("Only the project's account manager or an admin can check pins against a new version."))
    if project.is_archived:
        raise DomainError(ARCHIVED)
    if version.deliverable_id != pin.deliverable_id or version.number <= pin.version.number or version.status is VersionStatus.DRAFT:
        raise Conflict(_l("Pins are checked against the newest submitted version."))
    if version.number != pin.deliverable.current_number:
        raise Conflict(_l("A newer version was submitted meanwhile: check the pins against it."))
    if not pin.is_open:
        raise Conflict(_l("Pin %(number)s is already settled.", number=pin.number))
    done = db.session.scalar(select(PinCheck).where(PinCheck.pin_id == pin.id, PinCheck.version_id == version.id))
    if done is not None:
        if done.addressed == addressed:
            raise Conflict(_l("Pin %(number)s is already checked against version %(version)s.", number=pin.number, version=version.number))
        done.addressed, done.checked_by = addressed, actor
    else:
        done = PinCheck(pin=pin, version_id=version.id, addressed=addressed, checked_by=actor)
        db.session.add(done)
    if addressed:
        pin.status, pin.settled_by, pin.settled_at = PinStatus.RESOLVED, actor, utcnow()
    db.session.flush()
    activity.record(
        actor,
        "pin.checked",
        pin.deliverable,
        project=project,
        data={"title": pin.deliverable.title, "pin": pin.number, "version": version.number, "addressed": addressed},
        internal=pin.internal,
    )
    return done


def pins_for_decision(actor: User, version: DeliverableVersion, ids: Sequence[int]) -> list[ReviewPin]:
    """Return the open pins ``ids`` of ``version`` that ``actor`` may send with a request for changes, or refuse."""
    if not ids:
        return []
    wanted = set(ids)
    query = select(ReviewPin).where(ReviewPin.id.in_(wanted), ReviewPin.version_id == version.id, ReviewPin.status == PinStatus.OPEN)
    if not actor.is_staff:
        query = query.where(ReviewPin.internal.is_(False))
    pins = list(db.session.scalars(query.order_by(ReviewPin.number)))
    if len(pins) != len(wanted):
        raise Conflict(_l("Some of the chosen pins are settled or gone. Look at the pins again and resend."), field="pins")
    return pins
