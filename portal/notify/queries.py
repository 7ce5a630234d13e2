"""Read models of the email log: a page of emails with the count of each status, the backlog, one email."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import EmailStatus, OutboxEmail

WAITING = (EmailStatus.QUEUED, EmailStatus.SENDING)
# Mail normally leaves within seconds: waiting longer than this means something is wrong.
LATE_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class EmailLog:
    """A page of the email log, newest first, and how many emails there are of each status."""

    emails: list[OutboxEmail]
    has_more: bool
    counts: dict[EmailStatus, int]


def email_log(status: EmailStatus | None, page: int, size: int) -> EmailLog:
    """Return page ``page`` (from 1) of ``size`` emails of ``status`` (any, if None), newest first (two queries)."""
    query = select(OutboxEmail)
    if status is not None:
        query = query.where(OutboxEmail.status == status)
    emails = db.session.scalars(query.order_by(OutboxEmail.id.desc()).offset((page - 1) * size).limit(size + 1)).all()
    counts = dict(db.session.execute(select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)).all())
    return EmailLog(emails=list(emails[:size]), has_more=len(emails) > size, counts=counts)


@dataclass(frozen=True)
class Backlog:
    """The emails still to be sent: how many, since when the oldest waits, and the latest failure among them."""

    waiting: int
    since: datetime | None
    last_error: str = ""
    last_error_at: datetime | None = None

    def is_late(self, now: datetime) -> bool:
        """Tell whether some email has waited longer than mail normally takes."""
        return self.since is not None and self.since < now - LATE_AFTER

    def needs_attention(self, now: datetime) -> bool:
        """Tell whether admins should hear of the backlog: a waiting email failed, or waited too long."""
        return self.waiting > 0 and (bool(self.last_error) or self.is_late(now))


def backlog(*, with_error: bool = True) -> Backlog:
    """Return the outbox's backlog (one query; one more for the latest error unless ``with_error`` is False)."""
    waiting, since = db.session.execute(
        select(func.count(), func.min(OutboxEmail.queued_at)).where(OutboxEmail.status.in_(WAITING))
    ).one()
    if not waiting or not with_error:
        return Backlog(waiting=waiting, since=since)
    failure = db.session.execute(
        select(OutboxEmail.last_error, OutboxEmail.attempted_at)
        .where(OutboxEmail.status.in_(WAITING), OutboxEmail.last_error != "")
        .order_by(OutboxEmail.attempted_at.desc().nulls_last(), OutboxEmail.id.desc())
        .limit(1)
    ).first()
    if failure is None:
        return Backlog(waiting=waiting, since=since)
    return Backlog(waiting=waiting, since=since, last_error=failure.last_error, last_error_at=failure.attempted_at)


def email(email_id: int) -> OutboxEmail | None:
    """Return the email ``email_id``, if it exists (every email is the admins' to see)."""
    return db.session.get(OutboxEmail, email_id)
