"""The append-only activity log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.models.base import Model, TimestampMixin
from portal.models.users import User


class ActivityEvent(TimestampMixin, Model):
    """One change: who did what to which object, and when. Never updated or deleted."""

    __tablename__ = "activity_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    verb: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)  # hidden from clients

    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<ActivityEvent {self.id} {self.verb} {self.object_type}:{self.object_id}>"


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete an activity event."""


@event.listens_for(Session, "before_flush")
def _forbid_activity_changes(session: Session, flush_context, instances) -> None:
    """Keep the activity log append-only at the ORM level."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, ActivityEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyError("activity events are append-only")
