"""Projects and their client members."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Model, TimestampMixin, enum_column
from portal.timeutil import UTCDateTime

if TYPE_CHECKING:
    from portal.models.clients import Client
    from portal.models.users import User


class ProjectStatus(enum.StrEnum):
    """Where a project stands."""

    PLANNED = "planned"
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"


class ApprovalRule(enum.StrEnum):
    """How approvers' decisions on a deliverable version settle it."""

    ANY = "any"  # the first decision settles the version
    ALL = "all"  # approved when every approver approved; changes as soon as one asks


class ClientReminders(enum.StrEnum):
    """How often the project's clients are reminded of what waits on them."""

    DIGEST = "digest"  # the daily digest only
    FIRM = "firm"  # the digest, and an afternoon reminder on days something is due or overdue


class Project(TimestampMixin, Model):
    """Work for one client organisation, run by one account manager."""

    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("weekly_weekday BETWEEN 0 AND 6", name="weekly_weekday_range"),
        CheckConstraint("weekly_hour BETWEEN 0 AND 23", name="weekly_hour_range"),
        CheckConstraint("included_rounds >= 0", name="included_rounds_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ProjectStatus] = mapped_column(enum_column(ProjectStatus), default=ProjectStatus.ACTIVE)
    start_date: Mapped[date | None] = mapped_column(Date)
    target_date: Mapped[date | None] = mapped_column(Date)
    weekly_weekday: Mapped[int] = mapped_column(Integer, default=0)  # 0 = Monday
    weekly_hour: Mapped[int] = mapped_column(Integer, default=9)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    approval_rule: Mapped[ApprovalRule] = mapped_column(enum_column(ApprovalRule), default=ApprovalRule.ANY)
    included_rounds: Mapped[int] = mapped_column(Integer, default=2)
    client_reminders: Mapped[ClientReminders] = mapped_column(enum_column(ClientReminders), default=ClientReminders.DIGEST)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[Client] = relationship(back_populates="projects")
    manager: Mapped[User] = relationship(foreign_keys=[manager_id])
    members: Mapped[list[ProjectMember]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectMember.id"
    )

    def __repr__(self) -> str:
        return f"<Project {self.id} {self.name!r}>"

    @property
    def is_archived(self) -> bool:
        """Tell whether the project was archived."""
        return self.archived_at is not None

    @property
    def gets_weekly_updates(self) -> bool:
        """Tell whether weekly updates are (or will be) written: not once it (or its client) is completed, on hold or archived."""
        return self.status in (ProjectStatus.PLANNED, ProjectStatus.ACTIVE) and self.archived_at is None and not self.client.is_archived


class ProjectMember(TimestampMixin, Model):
    """A client user's membership of a project; approvers sign goals and decide."""

    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    is_approver: Mapped[bool] = mapped_column(Boolean, default=False)

    project: Mapped[Project] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="memberships")

    def __repr__(self) -> str:
        return f"<ProjectMember project={self.project_id} user={self.user_id} approver={self.is_approver}>"
