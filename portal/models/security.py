"""Sign-in security: two-factor recovery codes, per-account login throttles, the agency's security settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Model, TimestampMixin
from portal.models.users import User
from portal.timeutil import UTCDateTime


class RecoveryCode(TimestampMixin, Model):
    """One single-use recovery code of a user's two-factor sign-in; only a salted SHA-256 of it is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<RecoveryCode {self.id} user={self.user_id}{' used' if self.used_at else ''}>"


class LoginThrottle(Model):
    """Failed sign-ins against one email address, whether or not an account has it (so the answers are the same).

    Keyed by the SHA-256 of the normalised address: addresses nobody has are not kept in clear.
    """

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<LoginThrottle {self.id} failures={self.failures}>"


class AgencySettings(Model):
    """The agency's settings: a single row (id 1), made with its defaults when first read."""

    __tablename__ = "agency_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_two_factor_required: Mapped[bool] = mapped_column(Boolean, default=False)

    def __repr__(self) -> str:
        return f"<AgencySettings staff_two_factor_required={self.staff_two_factor_required}>"
