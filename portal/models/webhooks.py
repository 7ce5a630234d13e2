"""Webhooks: the addresses admins register for events, and the outbox of deliveries to them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Model, TimestampMixin, enum_column
from portal.models.users import User
from portal.timeutil import UTCDateTime, utcnow


class Webhook(TimestampMixin, Model):
    """An address that receives the events it subscribed to, each delivery signed with its secret.

    The secret is kept as it is (not hashed): signing needs it. Whoever can read the
    database can read it, as they can read everything the hooks are sent (README, "Webhooks").
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: utcnow())

    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Webhook {self.id} {self.name!r}{'' if self.active else ' paused'}>"


class DeliveryStatus(enum.StrEnum):
    """Where a delivery stands in the outbox."""

    QUEUED = "queued"
    SENDING = "sending"
    DELIVERED = "delivered"
    DEAD = "dead"


class WebhookDelivery(TimestampMixin, Model):
    """One event for one webhook, queued in the transaction of the action that caused it.

    ``event_id`` is the event's (the same for every hook it goes to); ``delivery_id`` is this
    delivery's, sent as ``X-Rapport-Delivery`` and kept when it is sent again, so a receiver
    can tell a repeat. ``body`` is the JSON sent, exactly; the signature covers it and the
    moment of each attempt. Leases, retries and the window work as the email outbox's.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_recent", "webhook_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_id: Mapped[str] = mapped_column(String(36))
    event: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus), default=DeliveryStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: utcnow())
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: utcnow())
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")

    webhook: Mapped[Webhook] = relationship()

    def __repr__(self) -> str:
        return f"<WebhookDelivery {self.id} {self.event} hook={self.webhook_id} {self.status.value}>"
