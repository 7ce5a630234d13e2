"""Pinned review comments on a version's images and PDF pages, and the previews they sit on.

A reviewer points at a spot of a file — ``x`` and ``y`` as fractions (0–1) of the
picture, on ``page`` for a PDF — or comments on the whole file (no spot). Replies thread
under a pin; staff settle it (resolved, or "won't do" with a reason). Internal pins
are for staff only. When the next version is submitted, staff check each pin still
open: addressed or not (``PinCheck``, one per pin and newer version).

``FilePreview`` is what the review page shows: pictures we rendered ourselves (PDF
pages through PDFium, images re-encoded by Pillow), made in a background step after
the upload; until then the page says the preview is being prepared.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from portal.models.base import Model, TimestampMixin, enum_column
from portal.timeutil import UTCDateTime

if TYPE_CHECKING:
    from portal.models.deliverables import Deliverable, DeliverableFile, DeliverableVersion
    from portal.models.users import User


class PreviewStatus(enum.StrEnum):
    """Where a file's review preview stands."""

    PENDING = "pending"  # waiting for the background step
    READY = "ready"
    FAILED = "failed"  # the file cannot be shown (``FilePreview.problem`` says why); it stays downloadable


class PreviewProblem(enum.StrEnum):
    """Why a preview could not be made."""

    ENCRYPTED = "encrypted"
    BROKEN = "broken"
    EMPTY = "empty"


class PinStatus(enum.StrEnum):
    """Where a pin stands."""

    OPEN = "open"
    RESOLVED = "resolved"
    WONT_DO = "wont_do"


class FilePreview(TimestampMixin, Model):
    """The rendered pages of one deliverable file (an image has one page)."""

    __tablename__ = "file_previews"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("deliverable_files.id", ondelete="CASCADE"), unique=True)
    status: Mapped[PreviewStatus] = mapped_column(enum_column(PreviewStatus), default=PreviewStatus.PENDING, index=True)
    problem: Mapped[PreviewProblem | None] = mapped_column(enum_column(PreviewProblem))
    page_count: Mapped[int] = mapped_column(Integer, default=0)  # pages in the file (more may exist than were rendered)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a renderer is at work until then

    # The file's ``preview``; removing the file removes its preview too (SQLite does not enforce the foreign key's cascade).
    file: Mapped[DeliverableFile] = relationship(backref=backref("preview", uselist=False, cascade="all, delete-orphan"))
    pages: Mapped[list[PreviewPage]] = relationship(back_populates="preview", order_by="PreviewPage.number", cascade="all, delete-orphan")

    @property
    def keys(self) -> list[str]:
        """Return the storage keys of the rendered pages."""
        return [page.storage_key for page in self.pages]


class PreviewPage(Model):
    """One rendered page: a JPEG or PNG we made, with its size in pixels."""

    __tablename__ = "preview_pages"
    __table_args__ = (UniqueConstraint("preview_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    preview_id: Mapped[int] = mapped_column(ForeignKey("file_previews.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # from 1
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)

    preview: Mapped[FilePreview] = relationship(back_populates="pages")


class ReviewPin(TimestampMixin, Model):
    """A comment on a spot of a file of a version (or on the whole file when ``x``/``y`` are empty)."""

    __tablename__ = "review_pins"
    __table_args__ = (
        CheckConstraint("(x IS NULL AND y IS NULL) OR (x >= 0 AND x <= 1 AND y >= 0 AND y <= 1)", name="pin_spot_in_file"),
        CheckConstraint("page >= 1", name="pin_page_from_one"),
        UniqueConstraint("deliverable_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deliverable_id: Mapped[int] = mapped_column(ForeignKey("deliverables.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("deliverable_versions.id"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("deliverable_files.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3… within the deliverable: what people call it ("pin 3")
    page: Mapped[int] = mapped_column(Integer, default=1)
    x: Mapped[float | None] = mapped_column(Float)
    y: Mapped[float | None] = mapped_column(Float)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[PinStatus] = mapped_column(enum_column(PinStatus), default=PinStatus.OPEN)
    settled_note: Mapped[str] = mapped_column(Text, default="")  # why "won't do"
    settled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    deliverable: Mapped[Deliverable] = relationship()
    version: Mapped[DeliverableVersion] = relationship()
    file: Mapped[DeliverableFile] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    settled_by: Mapped[User | None] = relationship(foreign_keys=[settled_by_id])
    replies: Mapped[list[PinReply]] = relationship(back_populates="pin", order_by="PinReply.id", cascade="all, delete-orphan")
    checks: Mapped[list[PinCheck]] = relationship(back_populates="pin", order_by="PinCheck.id")

    @property
    def is_open(self) -> bool:
        """Tell whether the pin still waits for the agency."""
        return self.status is PinStatus.OPEN

    @property
    def on_spot(self) -> bool:
        """Tell whether the pin points at a spot (not the whole file)."""
        return self.x is not None and self.y is not None


class PinReply(TimestampMixin, Model):
    """A reply under a pin."""

    __tablename__ = "pin_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    pin_id: Mapped[int] = mapped_column(ForeignKey("review_pins.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)

    pin: Mapped[ReviewPin] = relationship(back_populates="replies")
    author: Mapped[User | None] = relationship()


class PinCheck(TimestampMixin, Model):
    """Staff's check of an open pin against a newer version: addressed in it, or not yet."""

    __tablename__ = "pin_checks"
    __table_args__ = (UniqueConstraint("pin_id", "version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pin_id: Mapped[int] = mapped_column(ForeignKey("review_pins.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("deliverable_versions.id"), index=True)
    addressed: Mapped[bool] = mapped_column(Boolean)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    pin: Mapped[ReviewPin] = relationship(back_populates="checks")
    checked_by: Mapped[User | None] = relationship()


class DecisionPin(Model):
    """A pin sent as the detail of a request for changes (insert-only, like the decision)."""

    __tablename__ = "decision_pins"

    decision_id: Mapped[int] = mapped_column(ForeignKey("deliverable_decisions.id"), primary_key=True)
    pin_id: Mapped[int] = mapped_column(ForeignKey("review_pins.id", ondelete="CASCADE"), primary_key=True, index=True)

    pin: Mapped[ReviewPin] = relationship()
