"""Column helpers shared by the models."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum
from sqlalchemy.orm import Mapped, mapped_column

from portal.timeutil import UTCDateTime, utcnow


def enum_column(kind: type[enum.Enum], length: int = 20) -> Enum:
    """Return a portable string enum column type that stores the member values."""
    return Enum(
        kind,
        native_enum=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


class TimestampMixin:
    """Adds ``created_at``, set when the row is first inserted."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: utcnow(), nullable=False)
