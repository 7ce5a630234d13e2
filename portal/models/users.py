"""Users, their server-side sessions, and single-use account tokens."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Model, TimestampMixin, enum_column
from portal.timeutil import UTCDateTime

if TYPE_CHECKING:
    from portal.models.clients import Client
    from portal.models.projects import ProjectMember


def normalise_email(email: str) -> str:
    """Return the stored form of an address: trimmed and lower-case."""
    return email.strip().lower()


class Role(enum.StrEnum):
    """What a user is to the agency."""

    ADMIN = "admin"
    MANAGER = "manager"
    CLIENT = "client"


class User(TimestampMixin, UserMixin, Model):
    """A person who logs in: agency staff (admin, manager) or a client user."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # always stored lower-case
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[Role] = mapped_column(enum_column(Role))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    notify_activity: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_weekly: Mapped[bool] = mapped_column(Boolean, default=True)
    digest_hour: Mapped[int] = mapped_column(Integer, default=8)  # the daily digest's hour, 0–23 in the user's time zone
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Two-factor sign-in (portal.auth.twofactor): the TOTP secret, encrypted with a key derived from SECRET_KEY;
    # set while enrolling, in force once confirmed. The last time step used, so a code is accepted once.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    client: Mapped[Client | None] = relationship(back_populates="users")
    memberships: Mapped[list[ProjectMember]] = relationship(back_populates="user", cascade="all, delete-orphan")

    # The raw token of the session this object was loaded for (never stored).
    session_token = None  # type: str | None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"

    @property
    def wants_activity_email(self) -> bool:
        """Tell whether the user gets emails about activity: active, and asked for them."""
        return self.active and self.notify_activity

    @property
    def is_staff(self) -> bool:
        """Tell whether the user works for the agency."""
        return self.role in (Role.ADMIN, Role.MANAGER)

    @property
    def is_admin(self) -> bool:
        """Tell whether the user is an agency admin."""
        return self.role is Role.ADMIN

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def has_password(self) -> bool:
        """Tell whether the invite was accepted (a password is set)."""
        return self.password_hash is not None

    @property
    def has_two_factor(self) -> bool:
        """Tell whether signing in asks for a code after the password."""
        return self.totp_confirmed_at is not None and self.totp_secret is not None

    @property
    def display_name(self) -> str:
        """Return the name, or the email while the user has not set one."""
        return self.name or self.email

    def get_id(self) -> str:  # Flask-Login keeps this in the session and remember cookie
        if not self.session_token:
            raise RuntimeError("user was not loaded through a session")
        return self.session_token

    @staticmethod
    def by_email(email: str):
        """Return a select for the user with this email, ignoring case."""
        return select(User).where(User.email == normalise_email(email))


class UserSession(TimestampMixin, Model):
    """A login on one device; revoking it ends that login on the server."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str] = mapped_column(String(255), default="")

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<UserSession {self.id} user={self.user_id}>"


class TokenPurpose(enum.StrEnum):
    """What an emailed account link is for."""

    INVITE = "invite"
    RESET = "reset"
    SIGN_IN = "sign_in"  # a client's emailed sign-in link, where their organisation allows it


class AccountToken(TimestampMixin, Model):
    """A single-use, expiring link sent by email; only its hash is stored."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<AccountToken {self.id} {self.purpose.value} user={self.user_id}>"
