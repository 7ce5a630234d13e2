"""Deliverable review commands: what staff, approvers and admins do to deliverables.

Every function takes the actor explicitly, adds to the session and never commits:
the view, job or command that calls it commits once, so the change, its activity
event and its queued emails are saved together or not at all.

The review flow and how concurrent changes are claimed are described in
:mod:`portal.deliverables.review`; the read models pages use are in
:mod:`portal.deliverables.queries`, the emails in :mod:`portal.deliverables.notifications`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import activity
from portal.access import can_manage_project, is_client_member
from portal.deliverables import notifications
from portal.deliverables.links import LinkInput, parse_links
from portal.deliverables.queries import current_version, draft_of, next_round
from portal.deliverables.review import (
    approved_by,
    approvers,
    claim_after_rereading,
    claim_or_conflict,
    claim_to_decide,
    is_approver,
    past_included_rounds,
    settle,
    settlement,
)
from portal.errors import Conflict, DomainError, NotAllowed
from portal.extensions import db
from portal.models import ApprovalRule, Project, User
from portal.models.deliverables import (
    Decision,
    DecisionOutcome,
    Deliverable,
    DeliverableComment,
    DeliverableFile,
    DeliverableLink,
    DeliverableReopening,
    DeliverableStatus,
    DeliverableVersion,
    ReasonCategory,
    VersionStatus,
)
from portal.models.pins import DecisionPin, ReviewPin
from portal.pins.previews import preview_keys, queue_previews
from portal.storage.uploads import ReceivedFile
from portal.timeutil import project_today, utcnow

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
NOTES_MAX = 10_000
TEXT_MAX = 5_000
MAX_FILES_PER_VERSION = 50
MAX_INCLUDED_ROUNDS = 50
STORAGE_PREFIX = "deliverables"

LOCKED = _l("This deliverable is approved and locked. Only an admin can reopen it.")


# --- People ---------------------------------------------------------------------------------


# --- Checks ---------------------------------------------------------------------------------


def _require_manager(actor: User, project: Project) -> None:
    """Refuse anyone but the project's account manager or an admin."""
    if not can_manage_project(actor, project):
        raise NotAllowed(_l("Only the project's account manager or an admin can do this."))


def _require_writable(project: Project) -> None:
    """Refuse changes to an archived project."""
    if project.is_archived:
        raise DomainError(_l("This project is archived. Restore it to work on its deliverables again."))


def _require_unlocked(deliverable: Deliverable) -> None:
    """Refuse changes to an approved (locked) deliverable."""
    if deliverable.is_locked:
        raise Conflict(LOCKED)


def _clean_title(title: str | None) -> str:
    """Return the title with its whitespace tidied, or refuse a blank or long one."""
    title = " ".join((title or "").split())
    if not title:
        raise DomainError(_l("Name the deliverable, for example \u201cHomepage design\u201d."), field="title")
    if len(title) > TITLE_MAX:
        raise DomainError(_l("Keep the title under %(count)s characters.", count=TITLE_MAX), field="title")
    return title


def _clean_text(text: str | None, *, field: str, limit: int = TEXT_MAX) -> str:
    """Return ``text`` stripped, or refuse it on ``field`` when longer than ``limit``."""
    text = (text or "").strip()
    if len(text) > limit:
        raise DomainError(_l("Keep this under %(count)s characters.", count=limit), field=field)
    return text


def _clean_rounds(value: Any) -> int:
    """Return the number of included rounds, or refuse one that is not a whole number from 0 to the maximum."""
    try:
        rounds = int(value)
    except (TypeError, ValueError):
        raise DomainError(_l("Enter the number of revision rounds included, for example 2."), field="included_rounds") from None
    if not 0 <= rounds <= MAX_INCLUDED_ROUNDS:
        raise DomainError(_l("Enter a number of rounds from 0 to %(max)s.", max=MAX_INCLUDED_ROUNDS), field="included_rounds")
    return rounds


def _check_due(due: date | None, project: Project, today: date | None) -> None:
    """Refuse a due date before today (the project's calendar day)."""
    if due is not None and due < (today or project_today(project)):
        raise DomainError(_l("The due date cannot be in the past."), field="due_date")


# --- Deliverables ---------------------------------------------------------------------------


def create_deliverable(
    actor: User,
    project: Project,
    *,
    title: str,
    description: str = "",
    due_date: date | None = None,
    included_rounds: int | None = None,
    today: date | None = None,
) -> Deliverable:
    """Add a deliverable to ``project`` (included rounds default to the project's). The caller commits."""
    _require_manager(actor, project)
    _require_writable(project)
    values = {
        "title": _clean_title(title),
        "description": _clean_text(description, field="description", limit=DESCRIPTION_MAX),
        "included_rounds": _clean_rounds(project.included_rounds if included_rounds is None else included_rounds),
    }
    _check_due(due_date, project, today)
    deliverable = Deliverable(project=project, created_by=actor, due_date=due_date, status=DeliverableStatus.PREPARING, lock_version=1, **values)
    db.session.add(deliverable)
    db.session.flush()
    activity.record(actor, "deliverable.created", deliverable, project=project, data={"title": deliverable.title})
    return deliverable


def update_deliverable(actor: User, deliverable: Deliverable, values: Mapping[str, Any], *, today: date | None = None) -> list[str]:
    """Change a deliverable's title, description, due date or included rounds; the caller commits."""
    project = deliverable.project
    _require_manager(actor, project)
    _require_writable(project)
    _require_unlocked(deliverable)
    cleaners = {
        "title": _clean_title,
        "description": lambda value: _clean_text(value, field="description", limit=DESCRIPTION_MAX),
        "due_date": lambda value: value,
        "included_rounds": _clean_rounds,
    }
    changes: dict[str, Any] = {}
    for name, clean in cleaners.items():
        if name in values:
            value = clean(values[name])
            if getattr(deliverable, name) != value:
                changes[name] = value
    if "due_date" in changes:
        _check_due(changes["due_date"], project, today)
    if changes:
        claim_or_conflict(deliverable)
        for name, value in changes.items():
            setattr(deliverable, name, value)
        deliverable.updated_at = utcnow()
        activity.record(actor, "deliverable.updated", deliverable, project=project, data={"fields": sorted(changes)})
    return sorted(changes)


# --- Versions -------------------------------------------------------------------------------


def start_version(actor: User, deliverable: Deliverable) -> DeliverableVersion:
    """Start preparing the next version (a draft only staff see), or return the one already started."""
    project = deliverable.project
    _require_manager(actor, project)
    _require_writable(project)
    _require_unlocked(deliverable)
    existing = draft_of(deliverable)
    if existing is not None:
        return existing
    claim_or_conflict(deliverable)
    version = DeliverableVersion(
        deliverable=deliverable,
        number=(deliverable.current_number or 0) + 1,
        status=VersionStatus.DRAFT,
        created_by=actor,
    )
    db.session.add(version)
    db.session.flush()
    return version


def _require_draft(actor: User, version: DeliverableVersion) -> Deliverable:
    """Return the deliverable of a draft ``actor`` may work on, or refuse."""
    deliverable = version.deliverable
    _require_manager(actor, deliverable.project)
    _require_writable(deliverable.project)
    if version.status is not VersionStatus.DRAFT:
        raise Conflict(_l("Version %(number)s was already submitted; it cannot be changed.", number=version.number))
    _require_unlocked(deliverable)
    return deliverable


def check_upload_allowed(actor: User, deliverable: Deliverable) -> DeliverableVersion:
    """Refuse an upload before any byte is stored; return the draft the files will join."""
    _require_manager(actor, deliverable.project)
    _require_writable(deliverable.project)
    _require_unlocked(deliverable)
    draft = draft_of(deliverable)
    if draft is None:
        raise Conflict(_l("Start a new version before uploading files: this one was submitted or discarded meanwhile."))
    return draft


def add_files(actor: User, version: DeliverableVersion, received: Sequence[ReceivedFile]) -> list[DeliverableFile]:
    """Record stored uploads as files of a draft version. The caller commits (or deletes the stored objects)."""
    _require_draft(actor, version)
    if not received:
        raise DomainError(_l("Choose at least one file to upload."), field="files")
    if len(version.files) + len(received) > MAX_FILES_PER_VERSION:
        raise DomainError(_l("A version can have at most %(count)s files.", count=MAX_FILES_PER_VERSION), field="files")
    files = [
        DeliverableFile(
            version=version,
            **item.record(),
            uploaded_by=actor,
        )
        for item in received
    ]
    db.session.add_all(files)
    db.session.flush()
    queue_previews(files)  # the pictures pins sit on, rendered once this transaction has committed
    return files


def _keys(files: Iterable[DeliverableFile]) -> list[str]:
    """Return the storage keys the files occupy (files, thumbnails and rendered review pages)."""
    files = list(files)
    pages = preview_keys([f.id for f in files])
    return [key for f in files for key in (f.storage_key, f.thumbnail_key) if key] + pages


def remove_file(actor: User, file: DeliverableFile) -> list[str]:
    """Take a file out of a draft; return the storage keys to delete once the transaction committed."""
    _require_draft(actor, file.version)
    keys = _keys([file])
    file.version.files.remove(file)
    db.session.flush()
    return keys


def discard_draft(actor: User, version: DeliverableVersion) -> list[str]:
    """Throw a draft away; return the storage keys to delete once the transaction committed."""
    _require_draft(actor, version)
    keys = _keys(version.files)
    db.session.delete(version)
    db.session.flush()
    return keys


def _apply_draft(version: DeliverableVersion, change_notes: str, links: list[LinkInput], impact_note: str) -> None:
    """Put the notes and links on the draft, replacing the saved ones."""
    version.change_notes = change_notes
    version.impact_note = impact_note
    version.links.clear()
    db.session.flush()  # the old links go before the new ones arrive
    version.links.extend(DeliverableLink(url=link.url, label=link.label, position=i) for i, link in enumerate(links))


def save_draft(actor: User, version: DeliverableVersion, *, change_notes: str = "", links: str = "", impact_note: str = "") -> None:
    """Keep the draft's change notes, links and impact note without submitting it. The caller commits."""
    _require_draft(actor, version)
    _apply_draft(
        version,
        _clean_text(change_notes, field="change_notes", limit=NOTES_MAX),
        parse_links(links),
        _clean_text(impact_note, field="impact_note"),
    )


def submit_version(
    actor: User,
    version: DeliverableVersion,
    *,
    change_notes: str = "",
    links: str = "",
    impact_note: str = "",
    now: datetime | None = None,
) -> DeliverableVersion:
    """Submit a draft for review: it becomes the current version and the approvers are emailed.

    A version still in review is superseded (its decisions stay on record). Refused when
    the version has neither files nor links, when nobody can decide, and — past the
    included rounds — without a note on the impact on the client. The caller commits.
    """
    deliverable = _require_draft(actor, version)
    project = deliverable.project
    notes = _clean_text(change_notes, field="change_notes", limit=NOTES_MAX)
    parsed = parse_links(links)
    impact = _clean_text(impact_note, field="impact_note")
    _apply_draft(version, notes, parsed, impact)
    if not version.files and not version.links:
        raise DomainError(_l("A version cannot be empty: upload at least one file above, or add a link."), field="links")
    if version.number > 1 and not notes:
        raise DomainError(_l("Say what changed since version %(number)s.", number=version.number - 1), field="change_notes")
    people = approvers(project)
    if not people:
        raise DomainError(_l("Nobody can decide on this yet: make at least one client member of the project an approver, then submit."))
    claim_or_conflict(deliverable)
    previous = current_version(deliverable)
    round_ = next_round(deliverable, previous)
    over = past_included_rounds(deliverable, round_)
    if over and not impact:
        raise DomainError(
            _l(
                "This version is past the %(count)s revision rounds agreed. Say how it affects the client (time, cost) before you submit it.",
                count=deliverable.included_rounds,
            ),
            field="impact_note",
        )
    now = now or utcnow()
    if previous is not None and previous.status is VersionStatus.IN_REVIEW:
        previous.status = VersionStatus.SUPERSEDED
        previous.settled_at = now
    version.status = VersionStatus.IN_REVIEW
    version.round = round_
    version.over_rounds = over
    version.submitted_by = actor
    version.submitted_at = now
    deliverable.current_number = version.number
    deliverable.status = DeliverableStatus.IN_REVIEW
    deliverable.approved_at = None
    deliverable.updated_at = now
    db.session.flush()
    activity.record(
        actor,
        "deliverable.version_submitted",
        deliverable,
        project=project,
        data={
            "title": deliverable.title,
            "version": version.number,
            "round": round_,
            "over_rounds": over,
            "files": [f.original_name for f in version.files],
            "links": [link.url for link in version.links],
            "superseded": previous.number if previous is not None and previous.status is VersionStatus.SUPERSEDED else None,
        },
    )
    notifications.queue_submitted(version, people, actor)
    return version


# --- Deciding -------------------------------------------------------------------------------


def _outcome(value: Any) -> DecisionOutcome:
    """Return the outcome named by ``value``, or refuse an unknown one."""
    try:
        return DecisionOutcome(value)
    except ValueError:
        raise DomainError(_l("Approve the version, or request changes.")) from None


def _category(value: Any) -> ReasonCategory:
    """Return the reason category named by ``value``, or refuse a missing or unknown one."""
    try:
        return ReasonCategory(value)
    except ValueError:
        raise DomainError(_l("Choose the reason for the changes."), field="reason_category") from None


def decide(
    actor: User,
    version: DeliverableVersion,
    *,
    outcome: DecisionOutcome | str,
    reason_category: ReasonCategory | str | None = None,
    text: str = "",
    pins: Sequence[ReviewPin] = (),
    now: datetime | None = None,
) -> Decision:
    """Record an approver's decision on the current version and settle it under the project's rule.

    Requesting changes needs a reason category and a text, or open pins of the version
    (``pins``, checked by :func:`portal.pins.service.pins_for_decision`) as its detail. Deciding on a version that is
    no longer current, deciding twice, or losing a race to a decision that settled the
    version raises Conflict with a message saying so; nothing is recorded then. Staff
    are emailed at once. The caller commits.
    """
    deliverable = version.deliverable
    project = deliverable.project
    if not is_approver(actor, project):
        raise NotAllowed(_l("Only the project's approvers can decide on its deliverables. You can comment instead."))
    _require_writable(project)
    outcome = _outcome(outcome)
    text = _clean_text(text, field="text")
    category: ReasonCategory | None = None
    if outcome is DecisionOutcome.CHANGES_REQUESTED:
        category = _category(reason_category)
        if not text and not pins:
            raise DomainError(_l("Say what should change, or choose the pins that say it, so the agency can act on it."), field="text")
    elif pins:
        raise DomainError(_l("Pins go with a request for changes, not with an approval."))

    claim_to_decide(actor, deliverable, version)

    now = now or utcnow()
    decision = Decision(deliverable=deliverable, version=version, approver=actor, outcome=outcome, reason_category=category, text=text, decided_at=now)
    db.session.add(decision)
    try:
        db.session.flush()
    except IntegrityError:
        # Only reachable if the claim was bypassed; the unique (version, approver) constraint holds the line.
        raise Conflict(_l("You already decided on version %(number)s.", number=version.number)) from None

    db.session.add_all(DecisionPin(decision_id=decision.id, pin_id=pin.id) for pin in pins)
    settled = settlement(project, version, decision)
    deliverable.updated_at = now
    if settled is not None:
        settle(deliverable, version, settled, now)
    db.session.flush()
    verb = "deliverable.approved" if outcome is DecisionOutcome.APPROVE else "deliverable.changes_requested"
    activity.record(
        actor,
        verb,
        deliverable,
        project=project,
        data={
            "title": deliverable.title,
            "version": version.number,
            "decision_id": decision.id,
            "reason": category.value if category else None,
            "text": text,
            "pins": [pin.number for pin in pins],
            "settled": settled.value if settled else None,
        },
    )
    notifications.queue_decided(decision, deliverable, version, settled)
    return decision


def resettle(actor: User, project: Project, *, now: datetime | None = None) -> list[Deliverable]:
    """Settle the versions in review that the project's approvers have now all approved; the caller commits.

    Called after the approvers or the approval rule of ``project`` changed: when the one
    approver still missing under the *all* rule leaves the project, or the rule becomes
    *any* while approvals are in, the version is approved by the approvals it already
    has — instead of waiting for a person who can no longer decide. A version without
    any approval is never approved this way. Returns the deliverables it approved.

    Each deliverable in review is claimed (its lock version taken) *before* its approvals
    are read. A decision being recorded at the same moment holds that claim until it
    commits, so this either sees its approval or the decision sees the changed approvers:
    under the *all* rule, an approval racing the removal of the last missing approver
    cannot leave the version waiting for nobody. One query per deliverable in review.
    """
    in_review = db.session.scalars(
        select(Deliverable).where(Deliverable.project_id == project.id, Deliverable.status == DeliverableStatus.IN_REVIEW)
    ).all()
    now = now or utcnow()
    required: set[int] | None = None
    settled = []
    for deliverable in in_review:
        if not claim_after_rereading(deliverable):
            continue  # still contended after every attempt: the other writer's outcome stands
        version = current_version(deliverable)
        if deliverable.status is not DeliverableStatus.IN_REVIEW or version is None or version.status is not VersionStatus.IN_REVIEW:
            continue
        approvals = approved_by(version)
        if not approvals:
            continue
        if project.approval_rule is not ApprovalRule.ANY:
            if required is None:
                required = {person.id for person in approvers(project)}
            if not (required and required <= approvals):
                continue
        settle(deliverable, version, VersionStatus.APPROVED, now)
        deliverable.updated_at = now
        activity.record(
            actor,
            "deliverable.settled_by_rule",
            deliverable,
            project=project,
            data={"title": deliverable.title, "version": version.number, "approvals": len(approvals), "settled": VersionStatus.APPROVED.value},
        )
        settled.append(deliverable)
    db.session.flush()
    return settled


def on_approvers_changed(actor: User, *, project: Project, **_: Any) -> None:
    """Resettle ``project`` 's versions in review once its approvers or its rule changed (``portal.signals.approvers_changed``)."""
    resettle(actor, project)


# --- Reopening ------------------------------------------------------------------------------


def reopen(actor: User, deliverable: Deliverable, reason: str) -> DeliverableReopening:
    """Reopen an approved deliverable (admins only) with a reason; the next version starts a new round."""
    project = deliverable.project
    if not actor.is_admin:
        raise NotAllowed(_l("Only an admin can reopen an approved deliverable."))
    _require_writable(project)
    reason = _clean_text(reason, field="reason")
    if not reason:
        raise DomainError(_l("Say why the approved deliverable is reopened; the reason stays on record."), field="reason")
    if deliverable.status is not DeliverableStatus.APPROVED:
        raise Conflict(_l("Only an approved deliverable can be reopened, and this one is not approved (any more)."))
    claim_or_conflict(deliverable)
    reopening = DeliverableReopening(deliverable=deliverable, version_number=deliverable.current_number or 0, reopened_by=actor, reason=reason)
    db.session.add(reopening)
    deliverable.status = DeliverableStatus.REOPENED
    deliverable.approved_at = None
    deliverable.updated_at = utcnow()
    db.session.flush()
    activity.record(
        actor, "deliverable.reopened", deliverable, project=project, data={"title": deliverable.title, "version": reopening.version_number, "reason": reason}
    )
    notifications.queue_reopened(reopening, actor)
    return reopening


# --- Conversation ---------------------------------------------------------------------------


def add_comment(actor: User, deliverable: Deliverable, body: str) -> DeliverableComment:
    """Add a message to the deliverable's thread (staff and every client member); the other side is emailed."""
    project = deliverable.project
    if not (can_manage_project(actor, project) or is_client_member(actor, project)):
        raise NotAllowed(_l("Only the project's members and its account manager can comment here."))
    _require_writable(project)
    body = _clean_text(body, field="body")
    if not body:
        raise DomainError(_l("Write a message first."), field="body")
    comment = DeliverableComment(deliverable=deliverable, author=actor, version_number=deliverable.current_number, body=body)
    db.session.add(comment)
    db.session.flush()
    activity.record(actor, "deliverable.commented", deliverable, project=project, data={"title": deliverable.title, "comment_id": comment.id})
    notifications.queue_comment(comment, actor)
    return comment
