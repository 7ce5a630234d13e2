"""Deliverable review: staff submit versions, the client's approvers approve or request changes.

Every function takes the actor explicitly, adds to the session and never commits:
the view, job or command that calls it commits once, so the change, its activity
event and its queued emails are saved together or not at all.

The flow: staff create a deliverable, prepare version N as a draft (files and links,
change notes) and submit it; the project's approvers decide. Under the project's
approval rule *any*, the first decision settles the version; under *all*, it is
approved once every approver approved and sent back as soon as one requests changes.
Changes requested → version N+1, a new revision round; rounds beyond the agreed number
need a note on the impact on the client. An approved deliverable is locked until an
admin reopens it, with a reason.

Concurrency: every change to a deliverable's review state first *claims* the
deliverable (``UPDATE deliverables SET lock_version = :seen + 1 WHERE id = :id AND
lock_version = :seen``). Of two simultaneous decisions the second claim matches no
row (on PostgreSQL it waits for the first transaction's row lock; on SQLite for the
database lock); the loser then reads the deliverable again and re-checks the rules,
so it either proceeds on the new state (another approver's approval under *all*) or
is refused with a Conflict that says what happened. The unique (version, approver)
constraint is the last guard against deciding twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from portal import activity
from portal.access import can_manage_project
from portal.errors import Conflict, DomainError, NotAllowed
from portal.extensions import db
from portal.models import ApprovalRule, Project, ProjectMember, Role, User
from portal.models.deliverables import (
    LINK_SCHEMES,
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
from portal.notify.service import queue_email
from portal.urls import portal_url
from portal.storage.uploads import ReceivedFile
from portal.timeutil import project_today, utcnow

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
NOTES_MAX = 10_000
TEXT_MAX = 5_000
URL_MAX = 2_000
LABEL_MAX = 200
MAX_LINKS = 20
MAX_FILES_PER_VERSION = 50
MAX_INCLUDED_ROUNDS = 50
STORAGE_PREFIX = "deliverables"
CLAIM_ATTEMPTS = 3  # a decision re-reads and retries this often when other decisions land at the same moment
RECENT_DECISIONS_DAYS = 14

LOCKED = _l("This deliverable is approved and locked. Only an admin can reopen it.")
CHANGED_MEANWHILE = _l("This deliverable changed in the meantime. Here is its latest state; check it and try again.")


# --- People ---------------------------------------------------------------------------------


def approvers(project: Project) -> list[User]:
    """Return the people who decide on the project's deliverables: its active client approvers."""
    return list(
        db.session.scalars(
            select(User)
            .join(ProjectMember, ProjectMember.user_id == User.id)
            .where(
                ProjectMember.project_id == project.id,
                ProjectMember.is_approver.is_(True),
                User.role == Role.CLIENT,
                User.client_id == project.client_id,
                User.active.is_(True),
            )
            .order_by(User.name, User.id)
        ).all()
    )


def is_approver(user: User, project: Project) -> bool:
    """Tell whether ``user`` may decide on the project's deliverables."""
    return user.role is Role.CLIENT and any(person.id == user.id for person in approvers(project))


def is_member(user: User, project: Project) -> bool:
    """Tell whether ``user`` is a client member of the project (they read and comment)."""
    return (
        user.role is Role.CLIENT
        and user.client_id == project.client_id
        and any(member.user_id == user.id for member in project.members)
    )


def _wants_email(user: User | None) -> bool:
    """Tell whether ``user`` gets activity emails (active, and asked for them)."""
    return user is not None and user.active and user.notify_activity


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


# --- Links ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkInput:
    """A link typed by staff: the address and an optional label."""

    url: str
    label: str = ""


def _is_web_address(token: str) -> bool:
    """Tell whether ``token`` is an absolute http(s) address with a host, no credentials and no control characters."""
    if len(token) > URL_MAX or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in token):
        return False
    try:
        parts = urlsplit(token)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in LINK_SCHEMES and bool(host) and "@" not in parts.netloc


def parse_links(text: str | None) -> list[LinkInput]:
    """Read one link per line ("Staging site https://staging.example.com"); refuse anything but http(s) addresses.

    The address is the word starting with ``http://`` or ``https://``; the rest of the
    line is its label. Addresses with a user name or password are refused (they are a
    classic way to disguise where a link goes).
    """
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > MAX_LINKS:
        raise DomainError(_l("Add at most %(count)s links to a version.", count=MAX_LINKS), field="links")
    links: list[LinkInput] = []
    for number, line in enumerate(lines, start=1):
        words = line.split()
        addresses = [word for word in words if word.lower().startswith(("http://", "https://"))]
        if len(addresses) != 1 or not _is_web_address(addresses[0]):
            if len(addresses) > 1:
                message = _l("Line %(line)s has more than one address. Put each link on its own line.", line=number)
            else:
                message = _l(
                    "Line %(line)s is not a web address. Links must start with http:// or https://, for example https://staging.example.com.",
                    line=number,
                )
            raise DomainError(message, field="links")
        label = " ".join(word for word in words if word is not addresses[0]).strip(" :|-–—")
        if len(label) > LABEL_MAX:
            raise DomainError(_l("Line %(line)s: keep the label under %(count)s characters.", line=number, count=LABEL_MAX), field="links")
        links.append(LinkInput(url=addresses[0], label=label))
    return links


def links_text(links: Iterable[DeliverableLink]) -> str:
    """Return saved links in the form's one-per-line format."""
    return "\n".join(f"{link.label} {link.url}".strip() for link in links)


# --- Deliverables ---------------------------------------------------------------------------


def _claim(deliverable: Deliverable) -> bool:
    """Take the deliverable's next lock version; False when someone changed it since it was read.

    The conditional UPDATE waits for a concurrent writer (row lock on PostgreSQL, the
    database lock on SQLite) and then matches nothing if that writer changed it.
    """
    seen = deliverable.lock_version
    result = db.session.execute(
        update(Deliverable).where(Deliverable.id == deliverable.id, Deliverable.lock_version == seen).values(lock_version=seen + 1),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        return False
    set_committed_value(deliverable, "lock_version", seen + 1)
    return True


def _claim_or_conflict(deliverable: Deliverable) -> None:
    """Claim the deliverable for a staff change, or raise Conflict when it changed meanwhile."""
    if not _claim(deliverable):
        raise Conflict(CHANGED_MEANWHILE)


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
        _claim_or_conflict(deliverable)
        for name, value in changes.items():
            setattr(deliverable, name, value)
        deliverable.updated_at = utcnow()
        activity.record(actor, "deliverable.updated", deliverable, project=project, data={"fields": sorted(changes)})
    return sorted(changes)


# --- Versions: drafts -----------------------------------------------------------------------


def current_version(deliverable: Deliverable) -> DeliverableVersion | None:
    """Return the latest submitted version, or None before the first submission."""
    if deliverable.current_number is None:
        return None
    return db.session.scalar(
        select(DeliverableVersion).where(
            DeliverableVersion.deliverable_id == deliverable.id, DeliverableVersion.number == deliverable.current_number
        )
    )


def draft_of(deliverable: Deliverable) -> DeliverableVersion | None:
    """Return the version staff are preparing, if any."""
    return db.session.scalar(
        select(DeliverableVersion).where(DeliverableVersion.deliverable_id == deliverable.id, DeliverableVersion.status == VersionStatus.DRAFT)
    )


def next_round(deliverable: Deliverable, current: DeliverableVersion | None = None) -> int:
    """Return the revision round a version submitted now would be in.

    The first version is round 0; a version answering a change request (or following a
    reopening) starts the next round; one replacing a version still in review keeps its round.
    """
    current = current if current is not None else current_version(deliverable)
    if current is None:
        return 0
    if current.status in (VersionStatus.CHANGES_REQUESTED, VersionStatus.APPROVED):
        return current.round + 1
    return current.round


def start_version(actor: User, deliverable: Deliverable) -> DeliverableVersion:
    """Start preparing the next version (a draft only staff see), or return the one already started."""
    project = deliverable.project
    _require_manager(actor, project)
    _require_writable(project)
    _require_unlocked(deliverable)
    existing = draft_of(deliverable)
    if existing is not None:
        return existing
    _claim_or_conflict(deliverable)
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
    return files


def _keys(files: Iterable[DeliverableFile]) -> list[str]:
    """Return the storage keys the files occupy (files and thumbnails)."""
    return [key for f in files for key in (f.storage_key, f.thumbnail_key) if key]


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
    _claim_or_conflict(deliverable)
    previous = current_version(deliverable)
    round_ = next_round(deliverable, previous)
    over = round_ > deliverable.included_rounds
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
    link = portal_url("deliverables.show", deliverable_id=deliverable.id)
    for person in people:
        if _wants_email(person):
            queue_email(
                person,
                kind="deliverable_submitted",
                key=f"deliverable-version:{version.id}:to:{person.id}",
                template="emails/deliverable_submitted.html",
                project=project,
                deliverable=deliverable,
                version=version,
                actor=actor,
                link=link,
            )
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


def _last_decision(version: DeliverableVersion) -> Decision | None:
    """Return the latest decision on ``version`` (the one that settled it, once settled)."""
    return db.session.scalar(
        select(Decision)
        .where(Decision.version_id == version.id)
        .options(joinedload(Decision.approver))
        .order_by(Decision.decided_at.desc(), Decision.id.desc())
        .limit(1)
    )


def _check_decidable(actor: User, deliverable: Deliverable, version: DeliverableVersion) -> None:
    """Raise a Conflict saying why ``actor`` cannot decide on ``version`` now, if they cannot."""
    if version.status is VersionStatus.DRAFT:
        raise Conflict(_l("This version has not been submitted for review."))
    own = db.session.scalar(select(Decision).where(Decision.version_id == version.id, Decision.approver_id == actor.id))
    if own is not None:
        if own.outcome is DecisionOutcome.APPROVE:
            message = _l("You already approved version %(number)s. Decisions are permanent; add a comment if something changed.", number=version.number)
        else:
            message = _l("You already requested changes on version %(number)s. Decisions are permanent; add a comment if something changed.", number=version.number)
        raise Conflict(message)
    if deliverable.current_number != version.number or version.status is VersionStatus.SUPERSEDED:
        raise Conflict(
            _l(
                "Version %(number)s is no longer the current one: version %(current)s was submitted since. Look at it before you decide.",
                number=version.number,
                current=deliverable.current_number,
            )
        )
    if version.status in (VersionStatus.APPROVED, VersionStatus.CHANGES_REQUESTED):
        last = _last_decision(version)
        name = last.approver.display_name if last is not None else ""
        if version.status is VersionStatus.APPROVED:
            raise Conflict(_l("%(name)s already approved version %(number)s, so your decision was not recorded.", name=name, number=version.number))
        raise Conflict(
            _l(
                "%(name)s already requested changes on version %(number)s, so your decision was not recorded. The agency will submit a new version.",
                name=name,
                number=version.number,
            )
        )
    if deliverable.status is not DeliverableStatus.IN_REVIEW:
        raise Conflict(_l("This deliverable is not waiting for a decision."))


def _settlement(project: Project, version: DeliverableVersion, decision: Decision) -> VersionStatus | None:
    """Return how ``decision`` settles the version under the project's rule, or None while others must still decide."""
    if decision.outcome is DecisionOutcome.CHANGES_REQUESTED:
        return VersionStatus.CHANGES_REQUESTED
    if project.approval_rule is ApprovalRule.ANY:
        return VersionStatus.APPROVED
    required = {person.id for person in approvers(project)}
    approved = set(
        db.session.scalars(
            select(Decision.approver_id).where(Decision.version_id == version.id, Decision.outcome == DecisionOutcome.APPROVE)
        )
    )
    return VersionStatus.APPROVED if required <= approved else None


def decide(
    actor: User,
    version: DeliverableVersion,
    *,
    outcome: DecisionOutcome | str,
    reason_category: ReasonCategory | str | None = None,
    text: str = "",
    now: datetime | None = None,
) -> Decision:
    """Record an approver's decision on the current version and settle it under the project's rule.

    Requesting changes needs a reason category and a text. Deciding on a version that is
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
        if not text:
            raise DomainError(_l("Say what should change, so the agency can act on it."), field="text")

    for _attempt in range(CLAIM_ATTEMPTS):
        _check_decidable(actor, deliverable, version)
        if _claim(deliverable):
            break
        # Someone decided (or submitted) at the same moment: read the new state and check again.
        db.session.refresh(deliverable)
        db.session.refresh(version)
    else:
        raise Conflict(CHANGED_MEANWHILE)

    now = now or utcnow()
    decision = Decision(deliverable=deliverable, version=version, approver=actor, outcome=outcome, reason_category=category, text=text, decided_at=now)
    db.session.add(decision)
    try:
        db.session.flush()
    except IntegrityError:
        # Only reachable if the claim was bypassed; the unique (version, approver) constraint holds the line.
        raise Conflict(_l("You already decided on version %(number)s.", number=version.number)) from None

    settled = _settlement(project, version, decision)
    deliverable.updated_at = now
    if settled is not None:
        version.status = settled
        version.settled_at = now
        if settled is VersionStatus.APPROVED:
            deliverable.status = DeliverableStatus.APPROVED
            deliverable.approved_at = now
        else:
            deliverable.status = DeliverableStatus.CHANGES_REQUESTED
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
            "settled": settled.value if settled else None,
        },
    )
    _email_staff_about(decision, deliverable, version, settled)
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
        for _attempt in range(CLAIM_ATTEMPTS):
            if _claim(deliverable):
                break
            db.session.refresh(deliverable)  # someone decided or submitted: read what they did, then claim again
        else:
            continue  # still contended after every attempt: the other writer's outcome stands
        version = current_version(deliverable)
        if deliverable.status is not DeliverableStatus.IN_REVIEW or version is None or version.status is not VersionStatus.IN_REVIEW:
            continue
        approvals = set(
            db.session.scalars(
                select(Decision.approver_id).where(Decision.version_id == version.id, Decision.outcome == DecisionOutcome.APPROVE)
            )
        )
        if not approvals:
            continue
        if project.approval_rule is not ApprovalRule.ANY:
            if required is None:
                required = {person.id for person in approvers(project)}
            if not (required and required <= approvals):
                continue
        version.status = VersionStatus.APPROVED
        version.settled_at = now
        deliverable.status = DeliverableStatus.APPROVED
        deliverable.approved_at = deliverable.updated_at = now
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


def _staff_recipients(deliverable: Deliverable, version: DeliverableVersion) -> list[User]:
    """Return the account manager and whoever submitted the version (if staff), once each."""
    people: dict[int, User] = {}
    for person in (deliverable.project.manager, version.submitted_by):
        if person is not None and person.is_staff and _wants_email(person):
            people.setdefault(person.id, person)
    return list(people.values())


def _email_staff_about(decision: Decision, deliverable: Deliverable, version: DeliverableVersion, settled: VersionStatus | None) -> None:
    """Queue the decision's email to staff, saying what it settled or who still has to decide."""
    project = deliverable.project
    waiting = [] if settled is not None else review_state(project, version).waiting_for
    link = portal_url("deliverables.show", deliverable_id=deliverable.id)
    for person in _staff_recipients(deliverable, version):
        queue_email(
            person,
            kind="deliverable_decided",
            key=f"deliverable-decision:{decision.id}:to:{person.id}",
            template="emails/deliverable_decided.html",
            project=project,
            deliverable=deliverable,
            version=version,
            decision=decision,
            settled=settled.value if settled else None,
            waiting=[p.display_name for p in waiting],
            link=link,
        )


def on_approvers_changed(actor: User, *, project: Project, **_: Any) -> None:
    """Resettle ``project`` 's versions in review once its approvers or its rule changed (``portal.signals.approvers_changed``)."""
    resettle(actor, project)


@dataclass(frozen=True)
class ReviewState:
    """Who decides on a version under the project's rule, who did, and who still has to."""

    rule: ApprovalRule
    approvers: list[User]
    decisions: list[Decision] = field(default_factory=list)

    @property
    def decided_ids(self) -> set[int]:
        """Return the ids of the people who decided on the version."""
        return {d.approver_id for d in self.decisions}

    @property
    def waiting_for(self) -> list[User]:
        """Return the approvers who have not decided yet."""
        decided = self.decided_ids
        return [person for person in self.approvers if person.id not in decided]


def review_state(project: Project, version: DeliverableVersion, people: list[User] | None = None) -> ReviewState:
    """Return the review state of ``version`` (``people``: the project's approvers, if already loaded)."""
    decisions = list(
        db.session.scalars(
            select(Decision).where(Decision.version_id == version.id).options(joinedload(Decision.approver)).order_by(Decision.decided_at, Decision.id)
        )
    )
    return ReviewState(rule=project.approval_rule, approvers=people if people is not None else approvers(project), decisions=decisions)


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
    _claim_or_conflict(deliverable)
    reopening = DeliverableReopening(deliverable=deliverable, version_number=deliverable.current_number or 0, reopened_by=actor, reason=reason)
    db.session.add(reopening)
    deliverable.status = DeliverableStatus.REOPENED
    deliverable.approved_at = None
    deliverable.updated_at = utcnow()
    db.session.flush()
    activity.record(
        actor, "deliverable.reopened", deliverable, project=project, data={"title": deliverable.title, "version": reopening.version_number, "reason": reason}
    )
    people: dict[int, User] = {p.id: p for p in approvers(project)}
    people.setdefault(project.manager.id, project.manager)
    link = portal_url("deliverables.show", deliverable_id=deliverable.id)
    for person in people.values():
        if person.id != actor.id and _wants_email(person):
            queue_email(
                person,
                kind="deliverable_reopened",
                key=f"deliverable-reopened:{reopening.id}:to:{person.id}",
                template="emails/deliverable_reopened.html",
                project=project,
                deliverable=deliverable,
                reopening=reopening,
                actor=actor,
                link=link,
            )
    return reopening


# --- Conversation ---------------------------------------------------------------------------


def add_comment(actor: User, deliverable: Deliverable, body: str) -> DeliverableComment:
    """Add a message to the deliverable's thread (staff and every client member); the other side is emailed."""
    project = deliverable.project
    if not (can_manage_project(actor, project) or is_member(actor, project)):
        raise NotAllowed(_l("Only the project's members and its account manager can comment here."))
    _require_writable(project)
    body = _clean_text(body, field="body")
    if not body:
        raise DomainError(_l("Write a message first."), field="body")
    comment = DeliverableComment(deliverable=deliverable, author=actor, version_number=deliverable.current_number, body=body)
    db.session.add(comment)
    db.session.flush()
    activity.record(actor, "deliverable.commented", deliverable, project=project, data={"title": deliverable.title, "comment_id": comment.id})
    if actor.is_staff:
        audience = [m.user for m in project.members if m.user.role is Role.CLIENT and m.user.client_id == project.client_id]
    else:
        audience = [project.manager]
    link = f"{portal_url('deliverables.show', deliverable_id=deliverable.id)}#comment-{comment.id}"
    for person in audience:
        if person.id != actor.id and _wants_email(person):
            queue_email(
                person,
                kind="deliverable_comment",
                key=f"deliverable-comment:{comment.id}:to:{person.id}",
                template="emails/deliverable_comment.html",
                project=project,
                deliverable=deliverable,
                comment=comment,
                actor=actor,
                link=link,
            )
    return comment


# --- Lists ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A deliverable with its current version, as lists show it."""

    deliverable: Deliverable
    current: DeliverableVersion | None

    @property
    def rounds_used(self) -> int:
        """Return the revision rounds used so far (0 until a version answers a change request)."""
        return self.current.round if self.current is not None else 0

    @property
    def over_rounds(self) -> bool:
        """Tell whether more rounds were used than were agreed."""
        return self.rounds_used > self.deliverable.included_rounds

    @property
    def waiting_since(self) -> datetime | None:
        """Return when the current version was submitted, while it waits for the client."""
        if self.deliverable.status is DeliverableStatus.IN_REVIEW and self.current is not None:
            return self.current.submitted_at
        return None


_STATUS_ORDER = {
    DeliverableStatus.IN_REVIEW: 0,
    DeliverableStatus.CHANGES_REQUESTED: 1,
    DeliverableStatus.REOPENED: 1,
    DeliverableStatus.PREPARING: 2,
    DeliverableStatus.APPROVED: 3,
}


def list_order(row: Row, today: date) -> tuple:
    """Sort key: overdue first, then waiting on the client, on the agency, approved; each by due date."""
    d = row.deliverable
    return (not d.is_overdue(today), _STATUS_ORDER[d.status], d.due_date is None, d.due_date or date.max, d.id)


def rows_for(projects: Sequence[Project], *, now: datetime | None = None) -> dict[int, list[Row]]:
    """Return each project's deliverables with their current versions, in list order as of ``now`` (one query)."""
    if not projects:
        return {}
    found = db.session.execute(
        select(Deliverable, DeliverableVersion)
        .outerjoin(
            DeliverableVersion,
            and_(DeliverableVersion.deliverable_id == Deliverable.id, DeliverableVersion.number == Deliverable.current_number),
        )
        .where(Deliverable.project_id.in_([p.id for p in projects]))
    ).all()
    by_project: dict[int, list[Row]] = defaultdict(list)
    for deliverable, version in found:
        by_project[deliverable.project_id].append(Row(deliverable, version))
    todays = {p.id: project_today(p, now) for p in projects}
    return {pid: sorted(rows, key=lambda r: list_order(r, todays[pid])) for pid, rows in by_project.items()}




def recent_decisions(
    projects: Sequence[Project] | Select[Any],
    *,
    now: datetime | None = None,
    days: int = RECENT_DECISIONS_DAYS,
    limit: int = 8,
    outcome: DecisionOutcome | None = None,
) -> list[Decision]:
    """Return the latest decisions (of one ``outcome``, if given) on ``projects`` within ``days``, newest first (one query).

    ``projects`` is a list of projects, or a select of project ids (e.g. every project a viewer may see).
    """
    if isinstance(projects, Select):
        project_ids: Any = projects
    elif projects:
        project_ids = [p.id for p in projects]
    else:
        return []
    since = (now or utcnow()) - timedelta(days=days)
    query = select(Decision).join(Deliverable, Deliverable.id == Decision.deliverable_id)
    if outcome is not None:
        query = query.where(Decision.outcome == outcome)
    return list(
        db.session.scalars(
            query.where(Deliverable.project_id.in_(project_ids), Decision.decided_at >= since)
            .options(joinedload(Decision.approver), joinedload(Decision.version), joinedload(Decision.deliverable).joinedload(Deliverable.project))
            .order_by(Decision.decided_at.desc(), Decision.id.desc())
            .limit(limit)
        ).all()
    )


# --- For the weekly update ------------------------------------------------------------------


def _path(endpoint: str, **values: Any) -> str:
    """Return a path inside the portal; works outside requests (scheduler, CLI)."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def deliverable_facts(project: Project, period_start: datetime, period_end: datetime, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Return the state of ``project``'s deliverables as plain, JSON-ready data for the weekly update.

    ``period_start`` (inclusive) and ``period_end`` (exclusive) bound the week being
    reported, ``now`` is the moment of composing; all aware UTC. "Today" is the
    calendar day of ``now`` in the project's time zone. Four queries, whatever the
    number of deliverables. Dates are ISO strings, ``link`` a path inside the portal.
    Every list is in the order a reader needs it:

    - ``overdue``: not approved, due date before today, most overdue first —
      ``{deliverable_id, title, due_date, days_late, status, waiting_on: "client"|"agency", link}``.
    - ``waiting_on_client``: the current version waits for the approvers, longest waiting first —
      ``{deliverable_id, title, version, since (ISO datetime), days_waiting, waiting_for: [names], link}``
      (``waiting_for``: every approver who has not decided on that version).
    - ``decisions``: every decision made in the period, oldest first —
      ``{deliverable_id, title, version, approver, outcome: "approve"|"changes_requested",
      reason: "off_brief"|"quality"|"factual_error"|"new_request"|"other"|None, text,
      decided_at (ISO datetime), version_status, link}``.
    - ``next_due``: not approved, due today or later, soonest first —
      ``{deliverable_id, title, due_date, days_left, status, waiting_on, link}``.
    - ``rounds``: every deliverable with a submitted version —
      ``{deliverable_id, title, used, included, over: used > included, link}``.

    ``status`` is a :class:`~portal.models.deliverables.DeliverableStatus` value.
    """
    today = project_today(project, now)
    rows = rows_for([project], now=now).get(project.id, [])

    def base(d: Deliverable) -> dict[str, Any]:
        """Return what every entry says about its deliverable."""
        return {"deliverable_id": d.id, "title": d.title, "link": _path("deliverables.show", deliverable_id=d.id)}

    def waiting_on(d: Deliverable) -> str:
        """Return whose turn it is: "client" or "agency"."""
        return "client" if d.status.waiting_on_client else "agency"

    overdue, next_due, rounds, waiting = [], [], [], []
    for row in rows:
        d = row.deliverable
        if d.due_date is not None and d.status is not DeliverableStatus.APPROVED:
            if d.due_date < today:
                overdue.append({**base(d), "due_date": d.due_date.isoformat(), "days_late": (today - d.due_date).days, "status": d.status.value, "waiting_on": waiting_on(d)})
            else:
                next_due.append({**base(d), "due_date": d.due_date.isoformat(), "days_left": (d.due_date - today).days, "status": d.status.value, "waiting_on": waiting_on(d)})
        if row.current is not None:
            rounds.append({**base(d), "used": row.rounds_used, "included": d.included_rounds, "over": row.over_rounds})
        if row.waiting_since is not None:
            waiting.append(row)

    waiting_entries = []
    if waiting:
        people = approvers(project)
        decided: dict[int, set[int]] = defaultdict(set)
        for version_id, approver_id in db.session.execute(
            select(Decision.version_id, Decision.approver_id).where(Decision.version_id.in_([r.current.id for r in waiting if r.current]))
        ):
            decided[version_id].add(approver_id)
        for row in sorted(waiting, key=lambda r: (r.waiting_since, r.deliverable.id)):
            since = row.waiting_since
            assert row.current is not None and since is not None
            waiting_entries.append(
                {
                    **base(row.deliverable),
                    "version": row.current.number,
                    "since": since.isoformat(),
                    "days_waiting": (now - since).days,
                    "waiting_for": [p.display_name for p in people if p.id not in decided[row.current.id]],
                }
            )

    decisions = db.session.scalars(
        select(Decision)
        .join(Deliverable, Deliverable.id == Decision.deliverable_id)
        .where(Deliverable.project_id == project.id, Decision.decided_at >= period_start, Decision.decided_at < period_end)
        .options(joinedload(Decision.approver), joinedload(Decision.version), joinedload(Decision.deliverable))
        .order_by(Decision.decided_at, Decision.id)
    ).all()
    decision_entries = [
        {
            **base(decision.deliverable),
            "version": decision.version.number,
            "approver": decision.approver.display_name,
            "outcome": decision.outcome.value,
            "reason": decision.reason_category.value if decision.reason_category else None,
            "text": decision.text,
            "decided_at": decision.decided_at.isoformat(),
            "version_status": decision.version.status.value,
        }
        for decision in decisions
    ]
    overdue.sort(key=lambda item: (-item["days_late"], item["deliverable_id"]))
    next_due.sort(key=lambda item: (item["days_left"], item["deliverable_id"]))
    return {
        "overdue": overdue,
        "waiting_on_client": waiting_entries,
        "decisions": decision_entries,
        "next_due": next_due,
        "rounds": rounds,
    }
