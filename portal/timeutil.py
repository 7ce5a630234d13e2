"""Time helpers: the database keeps UTC; people see their own zone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store naive UTC, return aware UTC on every backend (SQLite drops offsets)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the naive UTC value to store; refuse a naive datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored naive UTC value as aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


@lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    """Return every IANA zone name, sorted, for choices and validation."""
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))


def is_timezone(name: str) -> bool:
    """Tell whether ``name`` is a known IANA time zone."""
    if not name or name not in timezone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone_named(name: str | None) -> ZoneInfo:
    """Return the zone called ``name``, or UTC when it is empty or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_today(zone_name: str | None, now: datetime | None = None) -> date:
    """Return the calendar day it is in the zone called ``zone_name`` (UTC when unknown).

    Due dates and target dates are read against the project's own zone: at 23:30 UTC it
    is already tomorrow in Istanbul.
    """
    return (now or utcnow()).astimezone(zone_named(zone_name)).date()


class Zoned(Protocol):
    """Anything that lives in a time zone: a project, a client, a user, or a row selecting ``timezone``."""

    timezone: str


class ZonedProject(Zoned, Protocol):
    """A project, or a row selecting its ``id`` and ``timezone``."""

    id: int


def project_today(project: Zoned, now: datetime | None = None) -> date:
    """Return the calendar day it is in the project's time zone (due and target dates are read against it)."""
    return local_today(project.timezone, now)


def project_todays(projects: Iterable[ZonedProject], now: datetime) -> dict[int, date]:
    """Return each project's calendar day at ``now`` in its own zone (each zone is looked up once)."""
    by_zone: dict[str, date] = {}
    todays = {}
    for project in projects:
        day = by_zone.get(project.timezone)
        if day is None:
            day = by_zone[project.timezone] = local_today(project.timezone, now)
        todays[project.id] = day
    return todays


def day_start(day: date, zone_name: str | None) -> datetime:
    """Return midnight at the start of ``day`` in the zone called ``zone_name``."""
    return datetime.combine(day, time(0), tzinfo=zone_named(zone_name))
