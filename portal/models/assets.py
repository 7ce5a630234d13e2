"""Asset collection: what the agency asks the client for, and the files that answer it."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Model, StoredFileMixin, TimestampMixin, enum_column
from portal.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.models.projects import Project
    from portal.models.users import User


class AssetRequestStatus(enum.StrEnum):
    """Where an asset request stands."""

    OPEN = "open"  # waiting for the client's files
    SUBMITTED = "submitted"  # files arrived; waiting for the agency's review
    RETURNED = "returned"  # the agency returned it with a note; waiting for a new version
    ACCEPTED = "accepted"  # fulfilled
    CANCELLED = "cancelled"  # no longer needed


# The client still has to act on these.
WAITING_ON_CLIENT = (AssetRequestStatus.OPEN, AssetRequestStatus.RETURNED)
# Files may be added while a request is in one of these.
ACCEPTS_FILES = (AssetRequestStatus.OPEN, AssetRequestStatus.SUBMITTED, AssetRequestStatus.RETURNED)


class ReviewDecision(enum.StrEnum):
    """The agency's verdict on one version of a request's files."""

    ACCEPTED = "accepted"
    RETURNED = "returned"


class ReviewState(enum.StrEnum):
    """Where one uploaded file of a request stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    RETURNED = "returned"


class AssetRequest(TimestampMixin, Model):
    """Something the agency needs from the client: a logo, texts, photos…

    Uploads while the request is open add files to its ``current_version``; a review
    settles that version; returning it opens the next version.
    ``row_version`` makes concurrent changes (a cancel racing an upload, two reviews)
    fail loudly instead of overwriting each other.
    """

    __tablename__ = "asset_requests"
    __table_args__ = (
        CheckConstraint("current_version >= 1", name="current_version_positive"),
        Index("ix_asset_requests_project_status", "project_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # keys of portal.storage.filetypes.KINDS
    due_date: Mapped[date | None] = mapped_column(Date)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[AssetRequestStatus] = mapped_column(enum_column(AssetRequestStatus), default=AssetRequestStatus.OPEN)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the last upload
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # accepted or cancelled
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: utcnow(), onupdate=lambda: utcnow())
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)

    # Not a ClassVar: SQLAlchemy's declarative typing declares __mapper_args__ as an attribute, and reads it once, when mapping.
    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012

    project: Mapped[Project] = relationship()
    created_by: Mapped[User | None] = relationship()
    files: Mapped[list[AssetFile]] = relationship(back_populates="request", order_by="(AssetFile.version, AssetFile.id)")
    reviews: Mapped[list[AssetReview]] = relationship(back_populates="request", order_by="AssetReview.id")

    def __repr__(self) -> str:
        return f"<AssetRequest {self.id} {self.title!r} {self.status.value}>"

    @property
    def waiting_on_client(self) -> bool:
        """Tell whether the client still has to provide (or re-provide) files."""
        return self.status in WAITING_ON_CLIENT

    @property
    def accepts_files(self) -> bool:
        """Tell whether files may be uploaded to the request now."""
        return self.status in ACCEPTS_FILES

    @property
    def provided(self) -> bool:
        """Tell whether the client has provided what was asked (in review or accepted)."""
        return self.status in (AssetRequestStatus.SUBMITTED, AssetRequestStatus.ACCEPTED)

    def is_overdue(self, today: date) -> bool:
        """Tell whether the client's part is late on ``today`` (the project's calendar day)."""
        return self.waiting_on_client and self.due_date is not None and self.due_date < today


class AssetFile(StoredFileMixin, TimestampMixin, Model):
    """One uploaded file: for a request (with a version), or among the project's general files.

    ``original_name`` is only what the uploader's browser called it (cleaned, for
    display); the bytes live in storage under the generated ``storage_key``.
    """

    __tablename__ = "asset_files"
    __table_args__ = (
        CheckConstraint("size > 0", name="size_positive"),
        Index("ix_asset_files_request_version", "request_id", "version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("asset_requests.id"))
    version: Mapped[int | None] = mapped_column(Integer)  # None for the project's general files
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    review_state: Mapped[ReviewState | None] = mapped_column(enum_column(ReviewState))  # None for general files

    project: Mapped[Project] = relationship()
    request: Mapped[AssetRequest | None] = relationship(back_populates="files")
    uploaded_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<AssetFile {self.id} {self.original_name!r} v{self.version}>"



class AssetReview(TimestampMixin, Model):
    """The agency's decision on one version of a request: accepted, or returned with a note."""

    __tablename__ = "asset_reviews"
    __table_args__ = (UniqueConstraint("request_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("asset_requests.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    decision: Mapped[ReviewDecision] = mapped_column(enum_column(ReviewDecision))
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    request: Mapped[AssetRequest] = relationship(back_populates="reviews")
    reviewer: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<AssetReview {self.id} request={self.request_id} v{self.version} {self.decision.value}>"
