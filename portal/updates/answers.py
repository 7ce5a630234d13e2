"""Answering an update from its email: three links per client recipient, each bound to the update, the person and the answer.

Each link holds a secret of 256 bits from :mod:`secrets`; only its SHA-256 is stored. A link
works for 14 days, and only for its own person's answer on its own update: using it again
changes that answer (the in-portal answer and the emailed one are the same
:class:`~portal.models.UpdateAcknowledgement`). Opening a link changes nothing; the page it
opens has the button (and, for "not accurate" and a concern, the sentence) that answers.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select
from sqlalchemy.orm import joinedload

from portal.access import is_client_member
from portal.errors import DomainError
from portal.extensions import db
from portal.models import AckChoice, Project, Role, Update, UpdateAcknowledgement, User
from portal.models.updates import UpdateAnswerLink
from portal.timeutil import utcnow
from portal.updates import service
from portal.urls import portal_url

LINK_LIFETIME = timedelta(days=14)
_SECRET_BYTES = 32  # 256 bits
_LONGEST_SECRET = 100  # anything longer was not made here: refused before hashing


class Refusal(enum.StrEnum):
    """Why an answer link does not work."""

    UNKNOWN = "unknown"  # forged, mistyped, or its update was deleted
    EXPIRED = "expired"
    SOMEONE_ELSE = "someone_else"  # the browser is logged in as another person
    GONE = "gone"  # the person can no longer see the update


_STATUS = {Refusal.UNKNOWN: 404, Refusal.EXPIRED: 410, Refusal.SOMEONE_ELSE: 403, Refusal.GONE: 404}
_MESSAGES = {
    Refusal.UNKNOWN: _l("This link does not work"),
    Refusal.EXPIRED: _l("This link has expired"),
    Refusal.SOMEONE_ELSE: _l("This link was sent to someone else"),
    Refusal.GONE: _l("This update is no longer open to you"),
}


class LinkRefused(DomainError):
    """An answer link that does not work; nothing was changed. ``person`` is whom it was sent to, once known."""

    def __init__(self, reason: Refusal, person: User | None = None) -> None:
        super().__init__(_MESSAGES[reason])
        self.reason = reason
        self.person = person
        self.status = _STATUS[reason]


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def link_rows(update_id: int, user_id: int, now: datetime) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Return the rows of one person's three links on an update (for a bulk insert) and their addresses, by answer."""
    rows: list[dict[str, Any]] = []
    addresses: dict[str, str] = {}
    for choice in AckChoice:
        raw = secrets.token_urlsafe(_SECRET_BYTES)
        rows.append(
            {
                "update_id": update_id,
                "user_id": user_id,
                "choice": choice,
                "token_hash": _digest(raw),
                "expires_at": now + LINK_LIFETIME,
                "last_used_at": None,
                "created_at": now,
            }
        )
        addresses[choice.value] = portal_url("answers.answer", token=raw)
    return rows, addresses


def add_links(rows: Sequence[dict[str, Any]]) -> None:
    """Store the links ``link_rows`` made, in one statement; the caller commits."""
    if rows:
        db.session.execute(insert(UpdateAnswerLink), list(rows))


def issue_links(update: Update, person: User, now: datetime | None = None) -> dict[str, str]:
    """Make ``person``'s three answer links for ``update``; return their addresses by answer (the caller commits)."""
    rows, addresses = link_rows(update.id, person.id, now or utcnow())
    add_links(rows)
    return addresses


def wants_links(recipient: User) -> bool:
    """Tell whether an update email to ``recipient`` carries answer links: only clients answer updates."""
    return recipient.role is Role.CLIENT


def open_link(raw: str, viewer: User | None = None, now: datetime | None = None) -> UpdateAnswerLink:
    """Return the answer link ``raw`` opens, or raise :class:`LinkRefused`; reads only.

    ``viewer`` is whoever the browser is logged in as (None without a session): a link
    opened while logged in as someone else is refused, so nobody answers in another's name
    by mistake.
    """
    if not raw or len(raw) > _LONGEST_SECRET:
        raise LinkRefused(Refusal.UNKNOWN)
    wanted = _digest(raw)
    link = db.session.scalar(
        select(UpdateAnswerLink)
        .where(UpdateAnswerLink.token_hash == wanted)
        .options(
            joinedload(UpdateAnswerLink.user).joinedload(User.client),
            joinedload(UpdateAnswerLink.update).joinedload(Update.project).selectinload(Project.members),
        )
    )
    # Its update or person deleted (the rows cascade; a database without foreign keys leaves the link behind): unknown too.
    if link is None or not hmac.compare_digest(link.token_hash, wanted) or link.update is None or link.user is None:
        raise LinkRefused(Refusal.UNKNOWN)
    person = link.user
    if viewer is not None and viewer.id != person.id:
        raise LinkRefused(Refusal.SOMEONE_ELSE)
    if link.expires_at <= (now or utcnow()):
        raise LinkRefused(Refusal.EXPIRED, person)
    update = link.update
    visible = (
        person.active
        and (person.client is None or person.client.archived_at is None)
        and update.is_published
        and is_client_member(person, update.project)
    )
    if not visible:
        raise LinkRefused(Refusal.GONE, person)
    return link


def current_answer(link: UpdateAnswerLink) -> UpdateAcknowledgement | None:
    """Return the person's answer on the link's update, if they gave one (by email or in the portal)."""
    return db.session.scalar(
        select(UpdateAcknowledgement).where(UpdateAcknowledgement.update_id == link.update_id, UpdateAcknowledgement.user_id == link.user_id)
    )


def answer(raw: str, viewer: User | None, *, comment: str = "", score: int | None = None) -> UpdateAcknowledgement:
    """Record the answer the link ``raw`` stands for, as its person, with an optional sentence and 1–5 score; the caller commits.

    Answering again changes the answer, as in the portal; "not accurate" and a concern need a
    sentence and tell the account manager (:func:`portal.updates.service.acknowledge`).
    """
    now = utcnow()
    link = open_link(raw, viewer, now)
    ack = service.acknowledge(link.user, link.update, link.choice, comment if link.choice is not AckChoice.ACCURATE else "", score=score)
    link.last_used_at = now
    return ack
