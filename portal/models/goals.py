"""The goal charter: goals whose terms both sides sign, with assumptions, check-ins and closure.

A goal's terms live in numbered, immutable revisions. ``Goal.current_number``
points at the latest proposal and ``Goal.agreed_number`` at the last revision
that carries both sides' signatures; while a counter-proposal is pending, the
agreed revision stays in force. ``Goal.version`` is an optimistic lock: every
change to the goal's agreement state bumps it with ``UPDATE … WHERE version =
:seen``, so two simultaneous decisions cannot both win.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Model, TimestampMixin, enum_column
from portal.timeutil import UTCDateTime

if TYPE_CHECKING:
    from portal.models.projects import Project
    from portal.models.users import User

# Up to 12 digits before the decimal point and 4 after: money in lira, visits, milliseconds.
MeasureNumber = Numeric(16, 4)


class GoalState(enum.StrEnum):
    """Where a goal stands as a whole."""

    PROPOSED = "proposed"  # never agreed; waiting for the other side
    AGREED = "agreed"  # both sides signed one revision (a change may be pending)
    DECLINED = "declined"  # never agreed; the other side declined the latest proposal
    ACHIEVED = "achieved"
    MISSED = "missed"
    DROPPED = "dropped"

    @property
    def is_closed(self) -> bool:
        """Tell whether the goal is finished (achieved, missed or dropped)."""
        return self in (GoalState.ACHIEVED, GoalState.MISSED, GoalState.DROPPED)


class Side(enum.StrEnum):
    """The two parties to a goal."""

    AGENCY = "agency"  # the project's account manager or an admin
    CLIENT = "client"  # a client approver of the project

    @property
    def other(self) -> Side:
        """Return the opposite side."""
        return Side.CLIENT if self is Side.AGENCY else Side.AGENCY


class MeasureKind(enum.StrEnum):
    """How success is measured."""

    METRIC = "metric"  # a number moving from a baseline to a target
    DONE_WHEN = "done_when"  # a plain statement that is true or not


class AssumptionStatus(enum.StrEnum):
    """The other side's answer to an assumption."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    DENIED = "denied"


class CloseOutcome(enum.StrEnum):
    """How a goal ends."""

    ACHIEVED = "achieved"
    MISSED = "missed"
    DROPPED = "dropped"


class ClosureStatus(enum.StrEnum):
    """Where a request to close a goal stands."""

    PENDING = "pending"  # waiting for the other side
    CONFIRMED = "confirmed"  # the goal is closed
    REJECTED = "rejected"  # the other side kept the goal open, or the proposer withdrew


class Goal(TimestampMixin, Model):
    """A goal of one project, co-set by the agency and the client."""

    __tablename__ = "goals"
    __table_args__ = (
        CheckConstraint("current_number >= 1", name="current_number_positive"),
        CheckConstraint("agreed_number IS NULL OR agreed_number <= current_number", name="agreed_not_after_current"),
        Index("ix_goals_progress", "project_id", "progress_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[GoalState] = mapped_column(enum_column(GoalState), default=GoalState.PROPOSED, index=True)
    current_number: Mapped[int] = mapped_column(Integer, default=1)  # the latest proposed revision
    agreed_number: Mapped[int | None] = mapped_column(Integer)  # the revision in force, once agreed
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)  # optimistic lock
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The stored progress (portal.goals.stored): the status of an agreed goal on its project's
    # day ``progress_on``, kept so dashboards over thousands of goals read it instead of
    # computing it. A check-in, an agreement or a state change clears ``progress_on``; the
    # readers compute what is not fresh, and the scheduler stores it again.
    progress_status: Mapped[str | None] = mapped_column(String(20))
    progress_behind: Mapped[Decimal | None] = mapped_column(Numeric(16, 6))
    progress_on: Mapped[date | None] = mapped_column(Date)
    progress_measured_on: Mapped[date | None] = mapped_column(Date)

    project: Mapped[Project] = relationship()
    created_by: Mapped[User | None] = relationship()
    revisions: Mapped[list[GoalRevision]] = relationship(
        back_populates="goal", order_by="GoalRevision.number", cascade="all, delete-orphan"
    )
    assumptions: Mapped[list[GoalAssumption]] = relationship(
        back_populates="goal", order_by="GoalAssumption.id", cascade="all, delete-orphan"
    )
    check_ins: Mapped[list[GoalCheckIn]] = relationship(
        back_populates="goal", order_by=lambda: [GoalCheckIn.measured_on, GoalCheckIn.id], cascade="all, delete-orphan"
    )
    comments: Mapped[list[GoalComment]] = relationship(
        back_populates="goal", order_by="GoalComment.id", cascade="all, delete-orphan"
    )
    closures: Mapped[list[GoalClosure]] = relationship(
        back_populates="goal", order_by="GoalClosure.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Goal {self.id} {self.state.value} current={self.current_number} agreed={self.agreed_number}>"

    def revision(self, number: int | None) -> GoalRevision | None:
        """Return revision ``number`` of this goal (from the loaded revisions), or None."""
        if number is None:
            return None
        return next((r for r in self.revisions if r.number == number), None)

    @property
    def current_revision(self) -> GoalRevision:
        """Return the latest proposed revision."""
        revision = self.revision(self.current_number)
        if revision is None:  # a goal is created with its first revision and never loses one
            raise LookupError(f"goal {self.id} has no revision {self.current_number}")
        return revision

    @property
    def agreed_revision(self) -> GoalRevision | None:
        """Return the revision in force (the last one both sides signed), if any."""
        return self.revision(self.agreed_number)

    @property
    def terms(self) -> GoalRevision:
        """Return the terms to show as the goal's: the agreed revision, else the latest proposal."""
        return self.agreed_revision or self.current_revision

    @property
    def change_pending(self) -> bool:
        """Tell whether a proposal newer than the agreed terms waits for signatures."""
        return (
            self.agreed_number is not None
            and self.current_number != self.agreed_number
            and self.current_revision.declined_at is None
            and not self.state.is_closed
        )

    @property
    def awaiting_signature(self) -> bool:
        """Tell whether the latest proposal still needs a signature (it is neither agreed nor declined)."""
        return (
            not self.state.is_closed
            and self.current_number != self.agreed_number
            and self.current_revision.declined_at is None
        )

    @property
    def pending_closure(self) -> GoalClosure | None:
        """Return the request to close this goal that waits for the other side, if any."""
        return next((c for c in self.closures if c.status is ClosureStatus.PENDING), None)

    @property
    def active_assumptions(self) -> list[GoalAssumption]:
        """Return the assumptions of the latest proposal (those not withdrawn)."""
        return [a for a in self.assumptions if a.removed_in is None]

    @property
    def unconfirmed_assumptions(self) -> list[GoalAssumption]:
        """Return the active assumptions the other side has not confirmed (open or denied)."""
        return [a for a in self.active_assumptions if a.status is not AssumptionStatus.CONFIRMED]


class GoalRevision(TimestampMixin, Model):
    """One numbered version of a goal's terms. Never edited: a change is a new revision."""

    __tablename__ = "goal_revisions"
    __table_args__ = (
        UniqueConstraint("goal_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    why: Mapped[str] = mapped_column(Text, default="")
    measure: Mapped[MeasureKind] = mapped_column(enum_column(MeasureKind))
    metric_name: Mapped[str] = mapped_column(String(120), default="")
    baseline: Mapped[Decimal | None] = mapped_column(MeasureNumber)
    target: Mapped[Decimal | None] = mapped_column(MeasureNumber)
    unit: Mapped[str] = mapped_column(String(20), default="")
    done_when: Mapped[str] = mapped_column(Text, default="")
    target_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")  # what changed and why, from the proposer
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    side: Mapped[Side] = mapped_column(enum_column(Side))  # the proposer's side
    # Set once both sides signed this revision: the start of the expected line.
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agreed_on: Mapped[date | None] = mapped_column(Date)  # agreed_at as a date in the project's zone
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decline_reason: Mapped[str] = mapped_column(Text, default="")

    goal: Mapped[Goal] = relationship(back_populates="revisions")
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    declined_by: Mapped[User | None] = relationship(foreign_keys=[declined_by_id])
    signatures: Mapped[list[GoalSignature]] = relationship(
        back_populates="revision", order_by="GoalSignature.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<GoalRevision goal={self.goal_id} #{self.number} {self.title!r}>"

    def signature(self, side: Side) -> GoalSignature | None:
        """Return this revision's signature from ``side``, if it has one."""
        return next((s for s in self.signatures if s.side is side), None)

    @property
    def is_agreed(self) -> bool:
        """Tell whether both sides signed this revision."""
        return self.signature(Side.AGENCY) is not None and self.signature(Side.CLIENT) is not None


class GoalSignature(Model):
    """One side's signature on one revision; a side signs a revision at most once."""

    __tablename__ = "goal_signatures"
    __table_args__ = (UniqueConstraint("revision_id", "side"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("goal_revisions.id", ondelete="CASCADE"), index=True)
    side: Mapped[Side] = mapped_column(enum_column(Side))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    implied: Mapped[bool] = mapped_column(Boolean, default=False)  # the proposer's own signature
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    revision: Mapped[GoalRevision] = relationship(back_populates="signatures")
    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<GoalSignature revision={self.revision_id} {self.side.value} user={self.user_id}>"


class GoalAssumption(TimestampMixin, Model):
    """A written assumption of a goal, which the other side confirms or denies.

    Assumptions belong to the goal and name the revision that added them (and the
    one that withdrew them), so an unchanged assumption keeps its answer across
    counter-proposals.
    """

    __tablename__ = "goal_assumptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    side: Mapped[Side] = mapped_column(enum_column(Side))  # who wrote it; the other side answers
    added_in: Mapped[int] = mapped_column(Integer)  # revision number
    removed_in: Mapped[int | None] = mapped_column(Integer)  # revision number that withdrew it
    status: Mapped[AssumptionStatus] = mapped_column(enum_column(AssumptionStatus), default=AssumptionStatus.OPEN)
    answer_note: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    goal: Mapped[Goal] = relationship(back_populates="assumptions")
    answered_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<GoalAssumption {self.id} goal={self.goal_id} {self.status.value}>"

    def in_revision(self, number: int) -> bool:
        """Tell whether this assumption is part of revision ``number``."""
        return self.added_in <= number and (self.removed_in is None or self.removed_in > number)


class GoalCheckIn(TimestampMixin, Model):
    """An actual value (or done / not done) recorded by staff on a date."""

    __tablename__ = "goal_check_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    revision_number: Mapped[int] = mapped_column(Integer)  # the agreed revision it was measured against
    measured_on: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal | None] = mapped_column(MeasureNumber)  # metric goals
    done: Mapped[bool | None] = mapped_column(Boolean)  # "done when" goals
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    goal: Mapped[Goal] = relationship(back_populates="check_ins")
    recorded_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<GoalCheckIn {self.id} goal={self.goal_id} on={self.measured_on} value={self.value} done={self.done}>"


class GoalComment(TimestampMixin, Model):
    """One message in a goal's conversation."""

    __tablename__ = "goal_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)

    goal: Mapped[Goal] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<GoalComment {self.id} goal={self.goal_id}>"


class GoalClosure(TimestampMixin, Model):
    """A request to close a goal; missing or dropping an agreed goal needs the other side's confirmation."""

    __tablename__ = "goal_closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[CloseOutcome] = mapped_column(enum_column(CloseOutcome))
    reason: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")  # how this affects the client
    side: Mapped[Side] = mapped_column(enum_column(Side))  # the proposer's side
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[ClosureStatus] = mapped_column(enum_column(ClosureStatus), default=ClosureStatus.PENDING)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    goal: Mapped[Goal] = relationship(back_populates="closures")
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])

    def __repr__(self) -> str:
        return f"<GoalClosure {self.id} goal={self.goal_id} {self.outcome.value} {self.status.value}>"
