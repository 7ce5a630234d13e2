"""Progress updates: drafts and publishing, comments, acknowledgements, the weekly preview and note.

Every function takes the actor explicitly and leaves the commit to its caller. The
weekly dispatch, which commits per project, lives in ``portal.updates.dispatch``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import activity
from portal.access import can_manage_project, is_client_member
from portal.claims import rows_changed
from portal.errors import Conflict, DomainError, NotAllowed
from portal.extensions import db
from portal.models import (
    AckChoice,
    Project,
    ProjectMember,
    Role,
    Update,
    UpdateAcknowledgement,
    UpdateAttachment,
    UpdateComment,
    UpdateKind,
    UpdateStatus,
    User,
    WeeklyNote,
)
from portal.notify.service import queue_email, queued_keys
from portal.storage.uploads import ReceivedFile
from portal.timeutil import utcnow
from portal.urls import portal_url
from portal.weekly.facts import compose
from portal.weekly.slots import WeekSlot, latest_slot, upcoming_slot

UPDATE_FIELDS = ("title", "body", "done", "next_steps", "blockers", "needs")
LIMITS = {"title": 200, "body": 20000, "done": 5000, "next_steps": 5000, "blockers": 5000, "needs": 5000}
COMMENT_LIMIT = 4000
ACK_COMMENT_LIMIT = 2000
NOTE_LIMIT = 5000
MAX_ATTACHMENTS = 20  # files on one update
STORAGE_PREFIX = "updates"  # storage keys of attachments: updates/2026/11/<32 hex>


def _require_manager(actor: User, project: Project) -> None:
    if not can_manage_project(actor, project):
        raise NotAllowed(_l("Only the project's account manager or an admin can do this."))


# --- Writing and publishing ------------------------------------------------------------


def save_update(
    actor: User,
    project: Project,
    values: dict[str, Any],
    *,
    publish: bool,
    update: Update | None = None,
    attachments: Sequence[ReceivedFile] = (),
) -> Update:
    """Create or change a manual update, as a draft or published, with any newly uploaded files; the caller commits.

    ``attachments`` are files already stored (``portal.storage.uploads.receive_upload``);
    if the caller's transaction fails, the caller deletes them (``UploadBatch.discard_on_error``).
    """
    _require_manager(actor, project)
    if update is not None and (update.is_published or update.is_weekly):
        raise Conflict(_l("A published update is a record and cannot be changed. Post a new update to correct it."))
    cleaned = {name: (values.get(name) or "").strip() for name in UPDATE_FIELDS}
    for name, limit in LIMITS.items():
        if len(cleaned[name]) > limit:
            raise DomainError(_l("This is too long: at most %(num)d characters.", num=limit), field=name)
    if not cleaned["title"]:
        raise DomainError(_l("Give the update a title."), field="title")
    if publish and not any(cleaned[name] for name in UPDATE_FIELDS if name != "title"):
        raise DomainError(_l("Write what happened before publishing: the update has no text yet."), field="body")
    if update is None:
        update = Update(project=project, author=actor, kind=UpdateKind.MANUAL, status=UpdateStatus.DRAFT)
        db.session.add(update)
        created = True
    else:
        created = False
    for name, value in cleaned.items():
        setattr(update, name, value)
    db.session.flush()
    if attachments:
        _attach(actor, update, attachments)
    if publish:
        publish_update(actor, update)
    else:
        activity.record(actor, "update.draft_created" if created else "update.draft_saved", update, project=project, internal=True)
    return update


def publish_update(actor: User, update: Update) -> None:
    """Publish a draft: clients see it and those who want activity emails are told, each with their answer links; the caller commits."""
    from portal.updates import answers  # imported here: answers records through this module's acknowledge()

    project = update.project
    _require_manager(actor, project)
    if update.is_published:
        raise Conflict(_l("This update is already published."))
    if not any((getattr(update, name) or "").strip() for name in UPDATE_FIELDS if name != "title"):
        raise DomainError(_l("Write what happened before publishing: the update has no text yet."), field="body")
    update.status = UpdateStatus.PUBLISHED
    update.published_at = utcnow()
    activity.record(actor, "update.published", update, project=project, data={"title": update.title})
    link = portal_url("updates.show", project_id=project.id, update_id=update.id)
    members = client_members(project, weekly=False)
    keys = {member.id: f"update-published:{update.id}:{member.id}" for member in members}
    taken = queued_keys(keys.values())
    for member in members:
        if keys[member.id] in taken:
            continue
        # Each client member answers from the email: three links of their own (portal.updates.answers).
        queue_email(
            member,
            kind="update",
            key=keys[member.id],
            template="emails/update_published.html",
            project=project,
            update=update,
            author=actor,
            link=link,
            answers=answers.issue_links(update, member),
        )


def delete_draft(actor: User, update: Update) -> list[str]:
    """Delete a draft nobody else has seen; return the storage keys of its attachments to delete once committed."""
    _require_manager(actor, update.project)
    if update.is_published:
        raise Conflict(_l("A published update is a record and cannot be deleted."))
    activity.record(actor, "update.draft_deleted", update, project=update.project, data={"title": update.title}, internal=True)
    keys = [key for attachment in update.attachments for key in attachment.keys]
    db.session.delete(update)
    return keys


# --- Attachments -------------------------------------------------------------------------


def check_attachments_allowed(actor: User, update: Update) -> None:
    """Refuse before any byte is stored: only the project's manager or an admin attach files, and only to written updates."""
    _require_manager(actor, update.project)
    if update.is_weekly:
        raise Conflict(_l("The weekly update is written by Rapport: attach files to an update you write."), field="files")


def _attach(actor: User, update: Update, received: Sequence[ReceivedFile]) -> list[UpdateAttachment]:
    check_attachments_allowed(actor, update)
    if len(update.attachments) + len(received) > MAX_ATTACHMENTS:
        raise DomainError(_l("An update can have at most %(count)s files.", count=MAX_ATTACHMENTS), field="files")
    added = [
        UpdateAttachment(
            **item.record(),
            uploaded_by=actor,
        )
        for item in received
    ]
    update.attachments.extend(added)
    db.session.flush()
    return added


def add_attachments(actor: User, update: Update, received: Sequence[ReceivedFile]) -> list[UpdateAttachment]:
    """Attach stored uploads to a draft or a published update; the caller commits (or deletes the stored objects)."""
    if not received:
        raise DomainError(_l("Choose at least one file to upload."), field="files")
    added = _attach(actor, update, received)
    data = {"title": update.title, "files": [a.original_name for a in added]}
    activity.record(actor, "update.attachments_added", update, project=update.project, data=data, internal=not update.is_published)
    return added


def remove_attachment(actor: User, attachment: UpdateAttachment) -> list[str]:
    """Take a file off an update; return the storage keys to delete once the transaction committed."""
    update = attachment.update
    check_attachments_allowed(actor, update)
    keys = attachment.keys
    data = {"title": update.title, "file": attachment.original_name}
    update.attachments.remove(attachment)
    db.session.flush()
    activity.record(actor, "update.attachment_removed", update, project=update.project, data=data, internal=not update.is_published)
    return keys


def client_members(project: Project, *, weekly: bool) -> list[User]:
    """Return the project's active client members who want these emails (weekly or activity)."""
    preference = User.notify_weekly if weekly else User.notify_activity
    return list(
        db.session.scalars(
            select(User)
            .join(ProjectMember, ProjectMember.user_id == User.id)
            .where(
                ProjectMember.project_id == project.id,
                User.role == Role.CLIENT,
                User.client_id == project.client_id,
                User.active.is_(True),
                preference.is_(True),
            )
            .order_by(User.id)
        )
    )


# --- Comments and acknowledgements ------------------------------------------------------


def add_comment(actor: User, update: Update, body: str) -> UpdateComment:
    """Comment on a published update (its client members and staff); the caller commits."""
    project = update.project
    if not (can_manage_project(actor, project) or is_client_member(actor, project)):
        raise NotAllowed(_l("Only the project's people can comment on its updates."))
    if not update.is_published:
        raise Conflict(_l("Comments open once the update is published."))
    text = (body or "").strip()
    if not text:
        raise DomainError(_l("Write your comment first."), field="body")
    if len(text) > COMMENT_LIMIT:
        raise DomainError(_l("This is too long: at most %(num)d characters.", num=COMMENT_LIMIT), field="body")
    comment = UpdateComment(update_id=update.id, author=actor, body=text)
    db.session.add(comment)
    db.session.flush()
    activity.record(actor, "update.commented", comment, project=project, data={"update_id": update.id})
    link = portal_url("updates.show", project_id=project.id, update_id=update.id) + f"#comment-{comment.id}"
    if actor.is_staff:
        recipients = [m for m in client_members(project, weekly=False) if m.id != actor.id]
    else:
        manager = project.manager
        recipients = [manager] if manager.wants_activity_email else []
    for recipient in recipients:
        queue_email(
            recipient,
            kind="update_comment",
            key=f"update-comment:{comment.id}:{recipient.id}",
            template="emails/update_comment.html",
            project=project,
            update=update,
            comment=comment,
            author=actor,
            link=link,
        )
    return comment


class _Unchanged(enum.Enum):
    SCORE = "unchanged"


KEEP_SCORE = _Unchanged.SCORE  # the in-portal answer asks no score: answering there keeps the one given by email


def acknowledge(
    actor: User, update: Update, choice: AckChoice | str, comment: str = "", *, score: int | _Unchanged | None = KEEP_SCORE
) -> UpdateAcknowledgement:
    """Record a client member's answer to a published update (answering again replaces it); the caller commits.

    "Not accurate" and "I have a concern" need a sentence, and the account manager is told.
    ``score`` is the optional 1–5 satisfaction asked with the emailed answer (None: none given).
    """
    project = update.project
    if not is_client_member(actor, project):
        raise NotAllowed(_l("Only the client's people on this project can acknowledge its updates."))
    if not update.is_published:
        raise Conflict(_l("This update is not published."))
    try:
        choice = AckChoice(choice)
    except ValueError:
        raise DomainError(_l("Choose one of the answers."), field="choice") from None
    text = (comment or "").strip()
    if choice is not AckChoice.ACCURATE and not text:
        raise DomainError(_l("Tell us in a sentence what is wrong, so we can act on it."), field="comment")
    if len(text) > ACK_COMMENT_LIMIT:
        raise DomainError(_l("This is too long: at most %(num)d characters.", num=ACK_COMMENT_LIMIT), field="comment")
    if score is not KEEP_SCORE and score is not None and (isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5):
        raise DomainError(_l("Choose a score from 1 to 5, or none."), field="score")
    ack = _existing_ack(update, actor)
    if ack is None:
        ack = UpdateAcknowledgement(update_id=update.id, user_id=actor.id, choice=choice, comment=text, score=None if score is KEEP_SCORE else score)
        db.session.add(ack)
        try:
            db.session.flush()
        except IntegrityError:
            # A double click: the other request inserted first. This is the first write of the
            # transaction, so rolling back loses nothing; answer by changing that row instead.
            db.session.rollback()
            ack = _existing_ack(update, actor)
            if ack is None:
                raise
            _revise(ack, choice, text, score)
    else:
        _revise(ack, choice, text, score)
    db.session.flush()
    activity.record(actor, "update.acknowledged", update, project=project, data={"choice": choice.value})
    manager = project.manager
    if choice is not AckChoice.ACCURATE and manager.wants_activity_email:
        queue_email(
            manager,
            kind="update_ack",
            key=f"update-ack:{ack.id}:{ack.revision}",
            template="emails/update_acknowledged.html",
            project=project,
            update=update,
            ack=ack,
            client_user=actor,
            link=portal_url("updates.show", project_id=project.id, update_id=update.id) + f"#acknowledgements-{update.id}",
        )
    return ack


def _existing_ack(update: Update, user: User) -> UpdateAcknowledgement | None:
    return db.session.scalar(
        select(UpdateAcknowledgement).where(UpdateAcknowledgement.update_id == update.id, UpdateAcknowledgement.user_id == user.id)
    )


def _revise(ack: UpdateAcknowledgement, choice: AckChoice, text: str, score: int | _Unchanged | None) -> None:
    new_score = ack.score if score is KEEP_SCORE else score
    if ack.choice is choice and ack.comment == text and ack.score == new_score:
        return
    ack.choice = choice
    ack.comment = text
    ack.score = new_score
    ack.revision += 1


# --- Reading the feed (a constant number of queries, whatever its length) --------------


@dataclass
class FeedItem:
    """An update with what its reader needs next to it."""

    update: Update
    comments: list[UpdateComment]
    comment_count: int
    acks: list[UpdateAcknowledgement]  # staff: everyone's; clients: their own
    own_ack: UpdateAcknowledgement | None
    waiting_for: list[User]  # staff: client members who have not answered yet
    attachments: list[UpdateAttachment] = field(default_factory=list)


def feed(
    viewer: User, project: Project, query, *, limit: int, offset: int = 0, comments_each: int | None = 3
) -> tuple[list[FeedItem], bool]:
    """Return a page of feed items from ``query`` (a visible_updates select) and whether more follow."""
    updates = list(
        db.session.scalars(
            query.options(joinedload(Update.author))
            .order_by(Update.status == UpdateStatus.PUBLISHED, Update.published_at.desc(), Update.id.desc())
            .offset(offset)
            .limit(limit + 1)
        )
    )
    more = len(updates) > limit
    updates = updates[:limit]
    ids = [u.id for u in updates]
    if not ids:
        return [], more
    # The newest few comments of each update (or all), each with its update's total, in one query.
    ranked = (
        select(
            UpdateComment.id,
            func.row_number().over(partition_by=UpdateComment.update_id, order_by=UpdateComment.id.desc()).label("rank"),
            func.count().over(partition_by=UpdateComment.update_id).label("total"),
        )
        .where(UpdateComment.update_id.in_(ids))
        .subquery()
    )
    comment_query = (
        select(UpdateComment, ranked.c.total).join(ranked, ranked.c.id == UpdateComment.id).options(joinedload(UpdateComment.author))
    )
    if comments_each is not None:
        comment_query = comment_query.where(ranked.c.rank <= comments_each)
    counts: dict[int, int] = {}
    comments: dict[int, list[UpdateComment]] = {}
    for comment, total in db.session.execute(comment_query.order_by(UpdateComment.id)):
        comments.setdefault(comment.update_id, []).append(comment)
        counts[comment.update_id] = total
    ack_query = select(UpdateAcknowledgement).where(UpdateAcknowledgement.update_id.in_(ids))
    if not viewer.is_staff:
        ack_query = ack_query.where(UpdateAcknowledgement.user_id == viewer.id)
    acks: dict[int, list[UpdateAcknowledgement]] = {}
    for ack in db.session.scalars(ack_query.options(joinedload(UpdateAcknowledgement.user)).order_by(UpdateAcknowledgement.id)):
        acks.setdefault(ack.update_id, []).append(ack)
    attachments: dict[int, list[UpdateAttachment]] = {}
    for attachment in db.session.scalars(
        select(UpdateAttachment).where(UpdateAttachment.update_id.in_(ids)).order_by(UpdateAttachment.id)
    ):
        attachments.setdefault(attachment.update_id, []).append(attachment)
    members: list[User] = []
    if viewer.is_staff:
        # The project's members come with it (project_or_404 loads them and their users).
        members = sorted((m.user for m in project.members if m.user.active), key=lambda user: (user.name, user.id))
    items = []
    for u in updates:
        update_acks = acks.get(u.id, [])
        answered = {a.user_id for a in update_acks}
        items.append(
            FeedItem(
                update=u,
                comments=comments.get(u.id, []),
                comment_count=counts.get(u.id, 0),
                acks=update_acks,
                own_ack=next((a for a in update_acks if a.user_id == viewer.id), None),
                waiting_for=[m for m in members if m.id not in answered] if u.is_published else [],
                attachments=attachments.get(u.id, []),
            )
        )
    return items, more


# --- The weekly update: preview and personal note ---------------------------------------


@dataclass
class WeeklyPreview:
    """The coming weekly update of a project, as it would be composed now."""

    slot: WeekSlot
    due_now: bool  # the slot has passed and the update goes out within minutes
    facts: list[dict[str, Any]]
    recipients: list[User]
    copy_to: list[User]
    note: WeeklyNote | None


def last_weekly(project: Project) -> Update | None:
    """Return the project's latest weekly update."""
    return db.session.scalar(
        select(Update)
        .where(Update.project_id == project.id, Update.kind == UpdateKind.WEEKLY)
        .order_by(Update.period_end.desc())
        .limit(1)
    )


def coming_slot(project: Project, now: datetime, last: Update | None) -> tuple[WeekSlot, bool]:
    """Return the slot of the next weekly update and whether it is already due (not sent yet)."""
    latest = latest_slot(project, now)
    sent_key = (last.iso_year, last.iso_week) if last is not None and last.iso_year and last.iso_week else None
    if (sent_key is None or latest.key > sent_key) and latest.at > project.created_at:
        return latest, True
    return upcoming_slot(project, now, sent_key), False


def preview_weekly(viewer: User, project: Project, now: datetime) -> WeeklyPreview:
    """Compose the coming weekly update of ``project`` without sending or storing anything."""
    _require_manager(viewer, project)
    last = last_weekly(project)
    slot, due_now = coming_slot(project, now, last)
    period_start = last.period_end if last is not None and last.period_end else slot.at - timedelta(days=7)
    facts = [f.to_json() for f in compose(project, period_start, slot.at, now)]
    manager = project.manager
    return WeeklyPreview(
        slot=slot,
        due_now=due_now,
        facts=facts,
        recipients=client_members(project, weekly=True),
        copy_to=[manager] if manager.active and manager.notify_weekly else [],
        note=pending_note(project),
    )


def pending_note(project: Project) -> WeeklyNote | None:
    """Return the personal note waiting for the project's next weekly update."""
    return db.session.scalar(
        select(WeeklyNote)
        .where(WeeklyNote.project_id == project.id, WeeklyNote.update_id.is_(None))
        .order_by(WeeklyNote.id.desc())
        .limit(1)
    )


def save_weekly_note(
    actor: User, project: Project, body: str, *, note_id: int | None = None, version: int | None = None
) -> WeeklyNote | None:
    """Add, change or (with an empty body) remove the personal note of the coming weekly update.

    The note the form was opened on is named by ``note_id``/``version``: if it went out
    with an update meanwhile, or someone else changed it, nothing is overwritten and a
    Conflict says so (the caller keeps what was typed). The caller commits.
    """
    _require_manager(actor, project)
    text = (body or "").strip()
    if len(text) > NOTE_LIMIT:
        raise DomainError(_l("This is too long: at most %(num)d characters.", num=NOTE_LIMIT), field="body")
    current = pending_note(project)
    if note_id:
        opened = db.session.scalar(select(WeeklyNote).where(WeeklyNote.id == note_id, WeeklyNote.project_id == project.id))
        if opened is None or opened.update_id is not None:
            raise Conflict(
                _l("Your earlier note went out with the weekly update in the meantime. Your text is kept below: save it again for next week's update."),
                field="body",
            )
        if opened.version != version:
            raise Conflict(_l("Someone changed this note in the meantime. Check it below, then save again."), field="body")
        current = opened
    elif current is not None:
        raise Conflict(_l("Someone added a note in the meantime. Check it below, then save again."), field="body")
    if current is None:
        if not text:
            return None
        note = WeeklyNote(project_id=project.id, author=actor, body=text)
        db.session.add(note)
        db.session.flush()
        activity.record(actor, "weekly.note_added", note, project=project, internal=True)
        return note
    # The guard on update_id and version makes the change lose against a dispatch that took the note.
    guard = (WeeklyNote.id == current.id, WeeklyNote.update_id.is_(None), WeeklyNote.version == current.version)
    if not text:
        done = rows_changed(delete(WeeklyNote).where(*guard))
        verb = "weekly.note_removed"
    else:
        done = rows_changed(
            update(WeeklyNote).where(*guard).values(body=text, author_id=actor.id, version=current.version + 1, updated_at=utcnow())
        )
        verb = "weekly.note_changed"
    if not done:
        raise Conflict(
            _l("Your earlier note went out with the weekly update in the meantime. Your text is kept below: save it again for next week's update."),
            field="body",
        )
    activity.record(actor, verb, current, project=project, internal=True)
    db.session.expire(current)
    return None if not text else current


# --- The manager's home: clients who would rather talk ------------------------------------

