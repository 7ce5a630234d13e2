"""Incidents and their recovery plans: what went wrong, the dated steps to put it right, and the client's answers.

Staff open an incident on a project and keep a plan of dated steps, each owned by a staff
person or by the client. ``Incident.plan_version`` grows whenever the plan itself changes
(a step added or edited), so an acceptance names the plan it accepted: the client sees
"changed since you accepted" when the current version is newer. Acceptances and trust
answers are permanent records (append-only, like decisions on deliverables).

``Incident.lock_version`` is an optimistic lock: every change first runs ``UPDATE incidents
SET lock_version = lock_version + 1 WHERE id = :id AND lock_version = :seen``, so of two
simultaneous changes (closing while a step is added, a double click) exactly one wins.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.models.activity import AppendOnlyError
from portal.models.base import Model, TimestampMixin, enum_column
from portal.models.expectations import Visibility
from portal.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.models.projects import Project
    from portal.models.users import User


class IncidentStatus(enum.StrEnum):
    """Whether the incident is still being recovered from."""

    OPEN = "open"
    CLOSED = "closed"


class Incident(TimestampMixin, Model):
    """Something that went wrong on a project, with its impact on the client and a plan to recover."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint("lock_version >= 1", name="lock_version_positive"),
        CheckConstraint("plan_version >= 1", name="plan_version_positive"),
        Index("ix_incidents_project_status", "project_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))  # what happened, in a line
    details: Mapped[str] = mapped_column(Text, default="")
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    affected: Mapped[str] = mapped_column(String(500), default="")  # who is affected
    impact: Mapped[str] = mapped_column(Text)  # principle 7: how it affects the client (required)
    cause: Mapped[str] = mapped_column(Text, default="")  # once known
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility), default=Visibility.SHARED)
    status: Mapped[IncidentStatus] = mapped_column(enum_column(IncidentStatus), default=IncidentStatus.OPEN)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closing_note: Mapped[str] = mapped_column(Text, default="")
    plan_version: Mapped[int] = mapped_column(Integer, default=1)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: utcnow(), onupdate=lambda: utcnow())

    project: Mapped[Project] = relationship()
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    steps: Mapped[list[RecoveryStep]] = relationship(
        back_populates="incident", order_by="(RecoveryStep.due_on, RecoveryStep.id)", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Incident {self.id} {self.status.value} {self.title!r}>"

    @property
    def is_open(self) -> bool:
        """Tell whether the incident is still open."""
        return self.status is IncidentStatus.OPEN

    @property
    def is_shared(self) -> bool:
        """Tell whether the client sees the incident."""
        return self.visibility is Visibility.SHARED


class RecoveryStep(TimestampMixin, Model):
    """One dated step of a recovery plan, owned by a staff person or by the client."""

    __tablename__ = "incident_steps"
    __table_args__ = (CheckConstraint("owner_is_client OR owner_id IS NOT NULL", name="owner_named"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    owner_is_client: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: utcnow(), onupdate=lambda: utcnow())

    incident: Mapped[Incident] = relationship(back_populates="steps")
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])

    def __repr__(self) -> str:
        return f"<RecoveryStep {self.id} of incident {self.incident_id} {'done' if self.done_at else 'open'}>"

    @property
    def is_done(self) -> bool:
        """Tell whether the step is done."""
        return self.done_at is not None


class PlanAcceptance(TimestampMixin, Model):
    """The client accepting one version of an incident's recovery plan. Never changed or deleted."""

    __tablename__ = "incident_plan_acceptances"
    __table_args__ = (UniqueConstraint("incident_id", "plan_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    plan_version: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    incident: Mapped[Incident] = relationship()
    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<PlanAcceptance incident {self.incident_id} plan {self.plan_version}>"


class TrustAnswer(TimestampMixin, Model):
    """The client's answer, once the incident is closed, to "is trust restored?". One per incident; never changed."""

    __tablename__ = "incident_trust_answers"
    __table_args__ = (
        UniqueConstraint("incident_id"),
        CheckConstraint("restored OR note <> ''", name="note_required"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    restored: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")

    incident: Mapped[Incident] = relationship()
    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<TrustAnswer incident {self.incident_id} {'restored' if self.restored else 'not restored'}>"


@event.listens_for(Session, "before_flush")
def _forbid_answer_changes(session: Session, flush_context, instances) -> None:
    """Keep acceptances and trust answers permanent at the ORM level."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, PlanAcceptance | TrustAnswer) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyError(f"{type(obj).__name__} rows are permanent")
