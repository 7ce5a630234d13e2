"""Deliverable review: versions the agency submits, and the client's permanent decisions on them.

A deliverable has numbered versions. Staff prepare the next one as a *draft* (files
and links, change notes), then submit it for review; ``Deliverable.current_number``
points at the latest submitted version. The project's approvers decide on it:
approve, or request changes with a reason. ``Decision`` rows are append-only — the
ORM refuses to change or delete them, in the unit of work and in bulk statements —
and there is at most one per (version, approver).

``Deliverable.lock_version`` is an optimistic lock: every change to a deliverable's
review state first runs ``UPDATE deliverables SET lock_version = lock_version + 1
WHERE id = :id AND lock_version = :seen``, so of two simultaneous decisions (two
approvers, a double click) exactly one settles the version.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship, validates

from portal.models.activity import AppendOnlyError
from portal.models.base import Model, StoredFileMixin, TimestampMixin, enum_column
from portal.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.models.projects import Project
    from portal.models.users import User


class DeliverableStatus(enum.StrEnum):
    """Where a deliverable stands, and so whose turn it is."""

    PREPARING = "preparing"  # nothing submitted yet: the agency's turn
    IN_REVIEW = "in_review"  # the current version waits for the client's approvers
    CHANGES_REQUESTED = "changes_requested"  # the agency owes a new version
    APPROVED = "approved"  # locked; only an admin can reopen it
    REOPENED = "reopened"  # an admin reopened the approved deliverable: the agency owes a new version

    @property
    def waiting_on_client(self) -> bool:
        """Tell whether the client's approvers have to act."""
        return self is DeliverableStatus.IN_REVIEW

    @property
    def waiting_on_agency(self) -> bool:
        """Tell whether the agency has to submit a version."""
        return self in (DeliverableStatus.PREPARING, DeliverableStatus.CHANGES_REQUESTED, DeliverableStatus.REOPENED)


class VersionStatus(enum.StrEnum):
    """Where one version stands."""

    DRAFT = "draft"  # being prepared by staff; clients never see it
    IN_REVIEW = "in_review"  # submitted, waiting for decisions
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    SUPERSEDED = "superseded"  # replaced by a newer version before it was settled


class DecisionOutcome(enum.StrEnum):
    """What an approver decided on a version."""

    APPROVE = "approve"
    CHANGES_REQUESTED = "changes_requested"


class ReasonCategory(enum.StrEnum):
    """Why changes were requested (required with that outcome)."""

    OFF_BRIEF = "off_brief"
    QUALITY = "quality"
    FACTUAL_ERROR = "factual_error"
    NEW_REQUEST = "new_request"
    OTHER = "other"


class Deliverable(TimestampMixin, Model):
    """A piece of work the client approves: a design, a text, a staging site…"""

    __tablename__ = "deliverables"
    __table_args__ = (
        CheckConstraint("included_rounds >= 0", name="included_rounds_positive"),
        CheckConstraint("lock_version >= 1", name="lock_version_positive"),
        Index("ix_deliverables_project_status", "project_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date | None] = mapped_column(Date)
    included_rounds: Mapped[int] = mapped_column(Integer, default=2)  # revision rounds agreed with the client
    status: Mapped[DeliverableStatus] = mapped_column(enum_column(DeliverableStatus), default=DeliverableStatus.PREPARING)
    current_number: Mapped[int | None] = mapped_column(Integer)  # the latest submitted version
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: utcnow())
    lock_version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    project: Mapped[Project] = relationship()
    created_by: Mapped[User | None] = relationship()
    versions: Mapped[list[DeliverableVersion]] = relationship(
        back_populates="deliverable", order_by="DeliverableVersion.number", cascade="save-update, merge"
    )
    comments: Mapped[list[DeliverableComment]] = relationship(back_populates="deliverable", order_by="DeliverableComment.id")
    reopenings: Mapped[list[DeliverableReopening]] = relationship(back_populates="deliverable", order_by="DeliverableReopening.id")

    def __repr__(self) -> str:
        return f"<Deliverable {self.id} {self.title!r} {self.status.value}>"

    @property
    def is_locked(self) -> bool:
        """Tell whether the deliverable is approved and so closed to changes."""
        return self.status is DeliverableStatus.APPROVED

    def is_overdue(self, today: date) -> bool:
        """Tell whether the due date (a calendar day of the project) passed before it was approved."""
        return self.due_date is not None and self.due_date < today and self.status is not DeliverableStatus.APPROVED


class DeliverableVersion(TimestampMixin, Model):
    """Version N of a deliverable: its files and links, the change notes and, past the agreed rounds, the impact.

    ``round`` is the revision round: 0 for the first version, one more for each version
    answering a change request (or a reopening); a version that replaces one still in
    review keeps its round. ``over_rounds`` records, at submission, that the round was
    beyond the deliverable's included rounds.
    """

    __tablename__ = "deliverable_versions"
    __table_args__ = (
        UniqueConstraint("deliverable_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("round >= 0", name="round_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deliverable_id: Mapped[int] = mapped_column(ForeignKey("deliverables.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[VersionStatus] = mapped_column(enum_column(VersionStatus), default=VersionStatus.DRAFT)
    change_notes: Mapped[str] = mapped_column(Text, default="")
    impact_note: Mapped[str] = mapped_column(Text, default="")  # required when over the agreed rounds
    over_rounds: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # approved, changes requested or superseded
    review_due: Mapped[date | None] = mapped_column(Date)  # when staff ask the approvers to have decided (the project's calendar day)

    deliverable: Mapped[Deliverable] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    files: Mapped[list[DeliverableFile]] = relationship(back_populates="version", order_by="DeliverableFile.id", cascade="all, delete-orphan")
    links: Mapped[list[DeliverableLink]] = relationship(back_populates="version", order_by="DeliverableLink.position", cascade="all, delete-orphan")
    decisions: Mapped[list[Decision]] = relationship(back_populates="version", order_by="(Decision.decided_at, Decision.id)")

    def __repr__(self) -> str:
        return f"<DeliverableVersion {self.id} deliverable={self.deliverable_id} v{self.number} {self.status.value}>"

    @property
    def is_draft(self) -> bool:
        """Tell whether the version is still being prepared (staff only)."""
        return self.status is VersionStatus.DRAFT

    @property
    def is_empty(self) -> bool:
        """Tell whether the version has neither a file nor a link."""
        return not self.files and not self.links


class DeliverableFile(StoredFileMixin, TimestampMixin, Model):
    """A file of a version, kept in storage; ``original_name`` is only display metadata."""

    __tablename__ = "deliverable_files"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("deliverable_versions.id", ondelete="CASCADE"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    version: Mapped[DeliverableVersion] = relationship(back_populates="files")
    uploaded_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<DeliverableFile {self.id} {self.original_name!r}>"



LINK_SCHEMES = ("http", "https")


class DeliverableLink(TimestampMixin, Model):
    """An external link of a version: a staging site, a Figma board… (http and https only)."""

    __tablename__ = "deliverable_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("deliverable_versions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    url: Mapped[str] = mapped_column(String(2000))
    label: Mapped[str] = mapped_column(String(200), default="")

    version: Mapped[DeliverableVersion] = relationship(back_populates="links")

    def __repr__(self) -> str:
        return f"<DeliverableLink {self.id} {self.url!r}>"

    @validates("url")
    def _check_url(self, key: str, value: str) -> str:
        """Refuse anything but an absolute http(s) address, whoever writes it (a javascript: link never reaches a page)."""
        parts = urlsplit(value or "")
        if parts.scheme.lower() not in LINK_SCHEMES or not parts.hostname:
            raise ValueError(f"not an http(s) address: {value!r}")
        return value

    @property
    def host(self) -> str:
        """Return the site the link goes to, shown next to its label."""
        return urlsplit(self.url).hostname or ""


class Decision(Model):
    """An approver's decision on one version: who, when, which version, what and why. Never changed or deleted."""

    __tablename__ = "deliverable_decisions"
    __table_args__ = (
        UniqueConstraint("version_id", "approver_id"),
        CheckConstraint("outcome = 'approve' OR reason_category IS NOT NULL", name="reason_required"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deliverable_id: Mapped[int] = mapped_column(ForeignKey("deliverables.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("deliverable_versions.id"), index=True)
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    outcome: Mapped[DecisionOutcome] = mapped_column(enum_column(DecisionOutcome, length=24))
    reason_category: Mapped[ReasonCategory | None] = mapped_column(enum_column(ReasonCategory))
    text: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: utcnow(), index=True)

    deliverable: Mapped[Deliverable] = relationship()
    version: Mapped[DeliverableVersion] = relationship(back_populates="decisions")
    approver: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Decision {self.id} version={self.version_id} approver={self.approver_id} {self.outcome.value}>"


class DeliverableReopening(TimestampMixin, Model):
    """An admin reopened an approved deliverable, with the reason. Never changed or deleted."""

    __tablename__ = "deliverable_reopenings"

    id: Mapped[int] = mapped_column(primary_key=True)
    deliverable_id: Mapped[int] = mapped_column(ForeignKey("deliverables.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)  # the approved version that was reopened
    reopened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)

    deliverable: Mapped[Deliverable] = relationship(back_populates="reopenings")
    reopened_by: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<DeliverableReopening {self.id} deliverable={self.deliverable_id} v{self.version_number}>"


class DeliverableComment(TimestampMixin, Model):
    """One message in a deliverable's conversation (Markdown), noting the version current when it was written."""

    __tablename__ = "deliverable_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    deliverable_id: Mapped[int] = mapped_column(ForeignKey("deliverables.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version_number: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)

    deliverable: Mapped[Deliverable] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<DeliverableComment {self.id} deliverable={self.deliverable_id}>"


# --- Append-only records ------------------------------------------------------------------

APPEND_ONLY = (Decision, DeliverableReopening)
_APPEND_ONLY_TABLE_NAMES = frozenset(model.__tablename__ for model in APPEND_ONLY)


@event.listens_for(Session, "before_flush")
def _forbid_record_changes(session: Session, flush_context, instances) -> None:
    """Keep decisions and reopenings append-only in the unit of work (as ActivityEvent is)."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, APPEND_ONLY) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyError(f"{type(obj).__name__} records are append-only")


@event.listens_for(Session, "do_orm_execute")
def _forbid_bulk_record_changes(state: ORMExecuteState) -> None:
    """Refuse bulk UPDATE and DELETE statements on decisions and reopenings run through a session."""
    if state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is not None and getattr(table, "name", None) in _APPEND_ONLY_TABLE_NAMES:
            raise AppendOnlyError(f"{table.name} rows are append-only")
