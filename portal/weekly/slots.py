"""When each project's weekly update is due.

The slot of a project is its weekday and hour in its own time zone; the ISO week of
that local date is the weekly update's unique key (and the expectation note's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from flask import current_app

from portal.timeutil import iso_week_start, zone_named


class Scheduled(Protocol):
    """Anything with a project's weekly slot settings: a Project, or a row selecting those columns."""

    timezone: str
    weekly_weekday: int
    weekly_hour: int


@dataclass(frozen=True, order=True)
class WeekSlot:
    """The weekly slot of a project in one ISO week: its key and the moment it falls."""

    iso_year: int
    iso_week: int
    at: datetime  # aware UTC
    local_date: date

    @property
    def key(self) -> tuple[int, int]:
        """Return (ISO year, ISO week)."""
        return (self.iso_year, self.iso_week)

    @property
    def label(self) -> str:
        """Return the week as ``2026-W11``."""
        return f"{self.iso_year}-W{self.iso_week:02d}"

    @property
    def week_start(self) -> date:
        """Return the Monday of the slot's ISO week, the date its "week of …" label shows."""
        return iso_week_start(self.iso_year, self.iso_week)


def late_after() -> timedelta:
    """Return how long after its slot an update counts as late (PORTAL_WEEKLY_LATE_MINUTES, default 60)."""
    return timedelta(minutes=int(current_app.config.get("WEEKLY_LATE_MINUTES", 60)))


def slot_in_week(zone: ZoneInfo, weekday: int, hour: int, iso_year: int, iso_week: int) -> WeekSlot:
    """Return the slot (``weekday`` 0 = Monday, ``hour`` local) of one ISO week in ``zone``.

    A local hour skipped by a DST change (spring forward) resolves to the same instant
    as the hour after; a repeated one (fall back) to its first occurrence. Either way
    each week has exactly one slot.
    """
    day = date.fromisocalendar(iso_year, iso_week, weekday + 1)
    local = datetime.combine(day, time(hour), tzinfo=zone)  # fold=0
    return WeekSlot(iso_year, iso_week, local.astimezone(UTC), day)


def shift_week(iso_year: int, iso_week: int, weeks: int) -> tuple[int, int]:
    """Return the ISO week ``weeks`` after (or before) the given one."""
    monday = date.fromisocalendar(iso_year, iso_week, 1) + timedelta(weeks=weeks)
    year, week, _ = monday.isocalendar()
    return year, week


def slot_for(project: Scheduled, iso_year: int, iso_week: int) -> WeekSlot:
    """Return the project's slot in the given ISO week."""
    return slot_in_week(zone_named(project.timezone), project.weekly_weekday, project.weekly_hour, iso_year, iso_week)


def current_week(project: Scheduled, now: datetime) -> tuple[int, int]:
    """Return the ISO week of ``now`` in the project's time zone."""
    year, week, _ = now.astimezone(zone_named(project.timezone)).isocalendar()
    return year, week


def latest_slot(project: Scheduled, now: datetime) -> WeekSlot:
    """Return the most recent slot at or before ``now``."""
    year, week = current_week(project, now)
    slot = slot_for(project, year, week)
    if slot.at <= now:
        return slot
    return slot_for(project, *shift_week(year, week, -1))


def next_slot(project: Scheduled, now: datetime) -> WeekSlot:
    """Return the first slot after ``now``."""
    year, week = current_week(project, now)
    slot = slot_for(project, year, week)
    if slot.at > now:
        return slot
    return slot_for(project, *shift_week(year, week, 1))


def upcoming_slot(project: Scheduled, now: datetime, sent: tuple[int, int] | None) -> WeekSlot:
    """Return the first slot after ``now`` of a week with no update yet (``sent``: the latest week sent).

    An update sent early (``send-weekly --now``) takes its week: the next one goes out a week later.
    """
    slot = next_slot(project, now)
    while sent is not None and slot.key <= sent:
        slot = slot_for(project, *shift_week(*slot.key, 1))
    return slot


def weeks_between(project: Scheduled, after: tuple[int, int], last: WeekSlot) -> list[WeekSlot]:
    """Return the project's slots of the weeks after ``after`` up to and including ``last``, oldest first."""
    slots = []
    key = shift_week(*after, 1)
    while key <= last.key:
        slots.append(slot_for(project, *key))
        key = shift_week(*key, 1)
    return slots
