"""Time helpers: the database keeps UTC; people see their own zone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from functools import lru_cache
from importlib import resources
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


# The regions of the tz database's current names (``Region/City``, ``Region/Sub/City``). Its rule,
# kept by its ``backward`` file, is that current names are a continent or ocean and a city:
# "US/Eastern", "Etc/GMT+3", "Turkey" are aliases kept for old data.
ZONE_REGIONS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")


@lru_cache(maxsize=1)
def _country_zones() -> frozenset[str] | None:
    """Return the zones of tzdata's ``zone.tab`` (the current zones of every country), None without it.

    The rule above still lets old city names through ("Asia/Calcutta", "America/Buenos_Aires",
    "Australia/NSW"); ``zone.tab`` names only the current one of each.
    """
    try:
        text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        return None
    return frozenset(line.split("\t")[2] for line in text.splitlines() if line and not line.startswith("#") and line.count("\t") >= 2)


def is_canonical_timezone(name: str) -> bool:
    """Tell whether ``name`` is a current IANA zone (``Europe/Istanbul``, ``UTC``), not an alias kept for old data."""
    if name == "UTC":
        return True
    region, _, city = name.partition("/")
    if region not in ZONE_REGIONS or not city:
        return False
    current = _country_zones()
    return current is None or name in current


@lru_cache(maxsize=1)
def canonical_timezones() -> tuple[str, ...]:
    """Return the current IANA zone names, sorted: the ones people choose from."""
    return tuple(name for name in timezone_names() if is_canonical_timezone(name))


def zone_city(name: str) -> str:
    """Return the readable place of a zone within its region: "America/New_York" → "New York", "America/Argentina/Buenos_Aires" → "Argentina / Buenos Aires"."""
    _region, _, place = name.partition("/")
    return (place or name).replace("_", " ").replace("/", " / ")


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


def iso_week_start(iso_year: int, iso_week: int) -> date:
    """Return the Monday of an ISO week: the one date every "week of …" label names.

    A weekly update is keyed by the ISO week of its project's time zone, and its slot may be
    any weekday; the label names the week, not the slot, so every project's update of one
    week reads "week of December 1" whatever its weekday.
    """
    return date.fromisocalendar(iso_year, iso_week, 1)


def day_start(day: date, zone_name: str | None) -> datetime:
    """Return midnight at the start of ``day`` in the zone called ``zone_name``."""
    return datetime.combine(day, time(0), tzinfo=zone_named(zone_name))
