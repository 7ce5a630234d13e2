"""Read models of the email log: a page of emails with the count of each status, one email."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import EmailStatus, OutboxEmail


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


def email(email_id: int) -> OutboxEmail | None:
    """Return the email ``email_id``, if it exists (every email is the admins' to see)."""
    return db.session.get(OutboxEmail, email_id)
