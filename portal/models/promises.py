"""The promise ledger: every dated commitment of a project, and how it ended (see ``portal.promises``).

A promise is one due date of one thing (a deliverable, an agreed goal, an asset request, a
recovery step), owed by one side. It is written when the date is set and settled when the
thing is done (kept), when both sides moved the date before it passed (renegotiated: a new
promise carries the new date), or explicitly failed (broken; a promise whose date passed
unkept also reads as broken). ``proposed_due`` / ``proposed_at`` hold a date change that
waits for the other side's agreement.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Model, TimestampMixin, enum_column
from portal.timeutil import UTCDateTime

if TYPE_CHECKING:
    from portal.models.projects import Project


class PromiseKind(enum.StrEnum):
    """What was promised."""

    DELIVERABLE = "deliverable"  # the agency delivers by the due date (approved)
    GOAL = "goal"  # the agency reaches an agreed goal by its target date
    WEEKLY_UPDATE = "weekly_update"  # the agency speaks at the weekly slot (never stored: read from the updates)
    ASSET_REQUEST = "asset_request"  # the client sends the files by the due date
    RECOVERY_STEP = "recovery_step"  # the step's owner does it by its date


class PromiseSide(enum.StrEnum):
    """Who owes the promise."""

    AGENCY = "agency"
    CLIENT = "client"


class PromiseEnd(enum.StrEnum):
    """How a promise was settled (an unsettled promise is open, or broken once its date passed)."""

    KEPT = "kept"
    RENEGOTIATED = "renegotiated"
    BROKEN = "broken"


class Promise(TimestampMixin, Model):
    """One dated commitment of a project and how it ended."""

    __tablename__ = "promises"
    __table_args__ = (
        Index("ix_promises_source", "kind", "source_id"),
        Index("ix_promises_project_due", "project_id", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[PromiseKind] = mapped_column(enum_column(PromiseKind))
    source_id: Mapped[int] = mapped_column(Integer)  # the id of the deliverable, goal, asset request or step
    side: Mapped[PromiseSide] = mapped_column(enum_column(PromiseSide))
    title: Mapped[str] = mapped_column(String(300))
    due_date: Mapped[date] = mapped_column(Date)  # a calendar day of the project
    ended: Mapped[PromiseEnd | None] = mapped_column(enum_column(PromiseEnd))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    proposed_due: Mapped[date | None] = mapped_column(Date)  # a new date waiting for the other side (None with proposed_at: no date)
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agreed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    project: Mapped[Project] = relationship()

    def __repr__(self) -> str:
        return f"<Promise {self.id} {self.kind.value}:{self.source_id} due {self.due_date} {self.ended.value if self.ended else 'open'}>"

    @property
    def is_open(self) -> bool:
        """Tell whether the promise is not settled yet."""
        return self.ended is None
