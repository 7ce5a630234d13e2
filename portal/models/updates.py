"""Progress updates (written by staff or by the weekly run), their comments and acknowledgements."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Model, StoredFileMixin, TimestampMixin, enum_column
from portal.timeutil import UTCDateTime, iso_week_start, utcnow

if TYPE_CHECKING:
    from portal.models.projects import Project
    from portal.models.users import User


class UpdateKind(enum.StrEnum):
    """Who wrote an update: a member of staff, or the weekly run."""

    MANUAL = "manual"
    WEEKLY = "weekly"


class UpdateStatus(enum.StrEnum):
    """Whether clients can see an update."""

    DRAFT = "draft"
    PUBLISHED = "published"


class AckChoice(enum.StrEnum):
    """A client's answer to an update."""

    ACCURATE = "accurate"
    NOT_ACCURATE = "not_accurate"
    CONCERN = "concern"


class Update(TimestampMixin, Model):
    """A progress update on a project, shown in its feed.

    A weekly update is unique per (project, ISO week of the project's time zone):
    the unique key is what lets two dispatchers race without sending twice.
    Manual updates leave the week empty (NULLs never collide).
    """

    __tablename__ = "updates"
    __table_args__ = (
        UniqueConstraint("project_id", "iso_year", "iso_week"),
        Index("ix_updates_feed", "project_id", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[UpdateKind] = mapped_column(enum_column(UpdateKind), default=UpdateKind.MANUAL)
    status: Mapped[UpdateStatus] = mapped_column(enum_column(UpdateStatus), default=UpdateStatus.DRAFT)
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    # Optional sections of a manual update, each Markdown.
    done: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    blockers: Mapped[str] = mapped_column(Text, default="")
    needs: Mapped[str] = mapped_column(Text, default="")  # "what we need from you"
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: utcnow(), onupdate=lambda: utcnow())
    # Weekly updates only.
    iso_year: Mapped[int | None] = mapped_column(Integer)
    iso_week: Mapped[int | None] = mapped_column(Integer)
    week_of: Mapped[date | None] = mapped_column(Date)  # the slot's date in the project's time zone
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    facts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    suggests_call: Mapped[bool] = mapped_column(Boolean, default=False)

    project: Mapped[Project] = relationship()
    author: Mapped[User | None] = relationship()
    attachments: Mapped[list[UpdateAttachment]] = relationship(
        back_populates="update", cascade="all, delete-orphan", passive_deletes=True, order_by="UpdateAttachment.id"
    )

    def __repr__(self) -> str:
        return f"<Update {self.id} {self.kind.value} {self.status.value} project={self.project_id}>"

    @property
    def week_start(self) -> date | None:
        """Return the Monday of the ISO week a weekly one covers, the date its "week of …" label shows."""
        return iso_week_start(self.iso_year, self.iso_week) if self.iso_year and self.iso_week else None

    @property
    def is_weekly(self) -> bool:
        """Tell whether the weekly run wrote this update."""
        return self.kind is UpdateKind.WEEKLY

    @property
    def is_published(self) -> bool:
        """Tell whether clients can see this update."""
        return self.status is UpdateStatus.PUBLISHED

    @property
    def week_label(self) -> str:
        """Return the ISO week as ``2026-W11`` (weekly updates only)."""
        return f"{self.iso_year}-W{self.iso_week:02d}" if self.iso_year else ""


class UpdateAttachment(StoredFileMixin, TimestampMixin, Model):
    """A file attached to a manual update, kept in storage; ``original_name`` is only display metadata."""

    __tablename__ = "update_attachments"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("updates.id", ondelete="CASCADE"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    update: Mapped[Update] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<UpdateAttachment {self.id} {self.original_name!r} update={self.update_id}>"




class UpdateComment(TimestampMixin, Model):
    """A comment on a published update, by a client member or staff."""

    __tablename__ = "update_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("updates.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    body: Mapped[str] = mapped_column(Text)

    author: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<UpdateComment {self.id} update={self.update_id}>"


class UpdateAcknowledgement(TimestampMixin, Model):
    """A client's answer to an update: accurate, not accurate, or a concern (with a sentence).

    One per person and update; answering again replaces it and counts a revision.
    """

    __tablename__ = "update_acknowledgements"
    __table_args__ = (UniqueConstraint("update_id", "user_id"), CheckConstraint("score BETWEEN 1 AND 5", name="score_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("updates.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    choice: Mapped[AckChoice] = mapped_column(enum_column(AckChoice))
    comment: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    score: Mapped[int | None] = mapped_column(Integer)  # optional satisfaction, 1 (poor) to 5 (very good)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: utcnow(), onupdate=lambda: utcnow())

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<UpdateAcknowledgement {self.id} update={self.update_id} {self.choice.value}>"


class UpdateAnswerLink(TimestampMixin, Model):
    """One answer link of an update email: a secret bound to the update, the person and the answer.

    Only the secret's SHA-256 is kept. The link works until ``expires_at`` (14 days after the
    email was written) and only for its person's own answer on its update: using it again
    changes that answer, as answering again in the portal does.
    """

    __tablename__ = "update_answer_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("updates.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    choice: Mapped[AckChoice] = mapped_column(enum_column(AckChoice))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    update: Mapped[Update] = relationship()
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<UpdateAnswerLink {self.id} update={self.update_id} user={self.user_id} {self.choice.value}>"


class WeeklyNote(TimestampMixin, Model):
    """A personal note staff add to the coming weekly update; ``update_id`` is set once it went out."""

    __tablename__ = "weekly_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)  # Markdown
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: utcnow(), onupdate=lambda: utcnow())
    update_id: Mapped[int | None] = mapped_column(ForeignKey("updates.id", ondelete="SET NULL"), index=True)

    author: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<WeeklyNote {self.id} project={self.project_id} sent={self.update_id}>"
