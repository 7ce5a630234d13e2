"""Client organisations and the "know your client" profile."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Model, TimestampMixin, enum_column
from portal.timeutil import UTCDateTime

if TYPE_CHECKING:
    from portal.models.projects import Project
    from portal.models.users import User


class PreferredChannel(enum.StrEnum):
    """How the client prefers to hear from the agency."""

    EMAIL = "email"
    PHONE = "phone"
    MEETING = "meeting"


class Client(TimestampMixin, Model):
    """A client organisation: its users see only its own projects."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    # Profile (principle 8: know the client before a crisis).
    decision_makers: Mapped[str] = mapped_column(Text, default="")
    preferred_channel: Mapped[PreferredChannel] = mapped_column(
        enum_column(PreferredChannel), default=PreferredChannel.EMAIL
    )
    language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    sensitivities: Mapped[str] = mapped_column(Text, default="")
    internal_notes: Mapped[str] = mapped_column(Text, default="")  # staff only, never shown to clients
    # Its people may sign in with a link sent by email (single use, minutes), besides their password.
    sign_in_links: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    users: Mapped[list[User]] = relationship(back_populates="client")
    # The people with an account who decide; ``decision_makers`` above keeps the others in words.
    decision_maker_links: Mapped[list[ClientDecisionMaker]] = relationship(back_populates="client", cascade="all, delete-orphan", passive_deletes=True)
    projects: Mapped[list[Project]] = relationship(back_populates="client")

    def __repr__(self) -> str:
        return f"<Client {self.id} {self.name!r}>"

    @property
    def is_archived(self) -> bool:
        """Tell whether the client was archived."""
        return self.archived_at is not None


class ClientDecisionMaker(TimestampMixin, Model):
    """One of a client's own users marked as a decision maker of the organisation."""

    __tablename__ = "client_decision_makers"
    __table_args__ = (UniqueConstraint("client_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    client: Mapped[Client] = relationship(back_populates="decision_maker_links")
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ClientDecisionMaker client={self.client_id} user={self.user_id}>"
