"""Expectation notes: what was expected against what happened, written weekly and by staff."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Model, TimestampMixin, enum_column
from portal.timeutil import UTCDateTime, iso_week_start, utcnow

if TYPE_CHECKING:
    from portal.models.projects import Project
    from portal.models.users import User


class NoteSource(enum.StrEnum):
    """Who wrote a note: staff, or the weekly run."""

    MANUAL = "manual"
    WEEKLY = "weekly"


class Visibility(enum.StrEnum):
    """Whether the client sees a note (principle 9: share selectively)."""

    SHARED = "shared"
    INTERNAL = "internal"


class Assessment(enum.StrEnum):
    """How reality compares with what was expected."""

    WORSE = "worse"
    AS_EXPECTED = "as_expected"
    BETTER = "better"


class ExpectationNote(TimestampMixin, Model):
    """One entry of a project's expectation-vs-reality log.

    The weekly run writes one per project and ISO week (unique); staff write theirs
    at any time (their week is empty, and NULLs never collide).
    """

    __tablename__ = "expectation_notes"
    __table_args__ = (
        UniqueConstraint("project_id", "iso_year", "iso_week"),
        Index("ix_expectation_notes_log", "project_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[NoteSource] = mapped_column(enum_column(NoteSource), default=NoteSource.MANUAL)
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility), default=Visibility.SHARED)
    assessment: Mapped[Assessment | None] = mapped_column(enum_column(Assessment))
    expected: Mapped[str] = mapped_column(Text, default="")
    reality: Mapped[str] = mapped_column(Text, default="")
    variance: Mapped[str] = mapped_column(String(200), default="")
    cause: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")  # principle 7: how it affects the client
    next_step: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: utcnow(), onupdate=lambda: utcnow())
    # Weekly notes only.
    iso_year: Mapped[int | None] = mapped_column(Integer)
    iso_week: Mapped[int | None] = mapped_column(Integer)
    week_of: Mapped[date | None] = mapped_column(Date)
    facts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    project: Mapped[Project] = relationship()
    author: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<ExpectationNote {self.id} {self.source.value} project={self.project_id}>"

    @property
    def week_start(self) -> date | None:
        """Return the Monday of the ISO week a weekly one covers, the date its "week of …" label shows."""
        return iso_week_start(self.iso_year, self.iso_week) if self.iso_year and self.iso_week else None

    @property
    def is_weekly(self) -> bool:
        """Tell whether the weekly run wrote this note."""
        return self.source is NoteSource.WEEKLY

    @property
    def is_shared(self) -> bool:
        """Tell whether the client sees this note."""
        return self.visibility is Visibility.SHARED
