"""The email outbox: every email the portal sends, queued in the sender's transaction."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Model, TimestampMixin, enum_column
from portal.timeutil import UTCDateTime, utcnow


class EmailStatus(enum.StrEnum):
    """Where an email stands in the outbox."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


class OutboxEmail(TimestampMixin, Model):
    """One email to one recipient; its idempotency key makes it unique.

    ``queued_at`` starts its retry window (``MAIL_RETRY_WINDOW_HOURS``): when it is queued,
    and again when an admin sends a dead email again. ``claimed_at`` is the start of a
    sender's lease while the email is ``sending`` (``MAIL_LEASE_SECONDS``).
    """

    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_emails_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(120), default="")
    subject: Mapped[str] = mapped_column(String(250))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    kind: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[EmailStatus] = mapped_column(enum_column(EmailStatus), default=EmailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: utcnow())
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<OutboxEmail {self.id} {self.kind} to={self.to_address} {self.status.value}>"
