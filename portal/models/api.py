"""Personal access tokens for the REST API (``portal.api``)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Model, TimestampMixin, enum_column
from portal.models.users import User
from portal.timeutil import UTCDateTime


class TokenScope(enum.StrEnum):
    """What a token may do: read, or read and write (staff only)."""

    READ = "read"
    READ_WRITE = "read_write"

    @property
    def can_write(self) -> bool:
        """Tell whether the token may call the API's write endpoints."""
        return self is TokenScope.READ_WRITE


class ApiToken(TimestampMixin, Model):
    """One personal access token of a user; only the SHA-256 of its secret is kept, so it is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    scope: Mapped[TokenScope] = mapped_column(enum_column(TokenScope), default=TokenScope.READ)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} user={self.user_id} {self.scope.value}{' revoked' if self.revoked_at else ''}>"

    @property
    def active(self) -> bool:
        """Tell whether the token still opens the API (not revoked)."""
        return self.revoked_at is None
