"""Reading the ledger: each promise's status, this month's tally per side, and the lines of the promises page.

Every function runs a constant number of queries however many projects and promises;
the tally of a request's projects is kept on ``flask.g``, so the project page's health and
its promises block share one reading.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import Boolean, Date, Integer, String, cast, literal, null, select, union_all

from portal.extensions import db
from portal.models import (
    Project,
    ProjectStatus,
    Promise,
    PromiseEnd,
    PromiseKind,
    PromiseSide,
    Update,
    UpdateKind,
    UpdateStatus,
)
from portal.timeutil import UTCDateTime, local_today, zone_named
from portal.weekly.slots import slot_in_week


class PromiseStatus(enum.StrEnum):
    """How a promise stands on a given day."""

    OPEN = "open"  # its date has not passed
    KEPT_ON_TIME = "kept_on_time"
    KEPT_LATE = "kept_late"
    RENEGOTIATED = "renegotiated"  # both sides moved (or dropped) the date before it passed
    BROKEN = "broken"  # its date passed and it was not kept

    @property
    def counted(self) -> bool:
        """Tell whether the promise counts in "kept on time": it was kept, or its date passed."""
        return self in (PromiseStatus.KEPT_ON_TIME, PromiseStatus.KEPT_LATE, PromiseStatus.BROKEN)


def status_of(ended: PromiseEnd | None, ended_at: datetime | None, due: date, today: date, zone: str) -> tuple[PromiseStatus, date | None]:
    """Return a promise's status on ``today`` and the day it was kept (in the project's zone), from its columns."""
    if ended is PromiseEnd.RENEGOTIATED:
        return PromiseStatus.RENEGOTIATED, None
    if ended is PromiseEnd.KEPT:
        kept_on = ended_at.astimezone(zone_named(zone)).date() if ended_at else today
        return (PromiseStatus.KEPT_ON_TIME if kept_on <= due else PromiseStatus.KEPT_LATE), kept_on
    if ended is PromiseEnd.BROKEN or due < today:
        return PromiseStatus.BROKEN, None
    return PromiseStatus.OPEN, None


def month_of(day: date) -> tuple[date, date]:
    """Return the first and the last day of ``day``'s month."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


@dataclass
class Line:
    """One promise as the promises page lists it."""

    kind: PromiseKind
    side: PromiseSide
    title: str
    due: date
    status: PromiseStatus
    kept_on: date | None = None
    source_id: int | None = None
    promise_id: int | None = None  # None for a weekly slot (read from the updates, never stored)
    proposed: bool = False  # a new date waits for the other side
    proposed_due: date | None = None


@dataclass
class Tally:
    """This month's promises of one side: how many were kept on time of those that came due (or were kept)."""

    kept_on_time: int = 0
    counted: int = 0
    broken: int = 0


@dataclass
class Month:
    """One project's promises due this month, both sides."""

    first: date
    last: date
    lines: list[Line] = field(default_factory=list)

    def tally(self, side: PromiseSide) -> Tally:
        """Return the tally of ``side``."""
        tally = Tally()
        for line in self.lines:
            if line.side is side and line.status.counted:
                tally.counted += 1
                tally.kept_on_time += line.status is PromiseStatus.KEPT_ON_TIME
                tally.broken += line.status is PromiseStatus.BROKEN
        return tally

    @property
    def agency(self) -> Tally:
        """Return the agency's tally."""
        return self.tally(PromiseSide.AGENCY)

    @property
    def client(self) -> Tally:
        """Return the client's tally."""
        return self.tally(PromiseSide.CLIENT)

    @property
    def broken(self) -> int:
        """Return how many promises of this month are broken, both sides."""
        return sum(1 for line in self.lines if line.status is PromiseStatus.BROKEN)


_CACHE = "promise_months"


def months_for(projects: Sequence[Project], now: datetime) -> dict[int, Month]:
    """Return each project's promises due in its current month (its own time zone), in one query for all.

    Stored promises are read as they are; the weekly slots are read from the weekly updates:
    each slot of the month from the project's creation on is kept on time (sent and not
    late), kept late, open (still to come) or broken (its day passed with nothing sent; only
    counted while the project is active — on hold, it is not expected to report).
    """
    reading = MonthReading.start(projects, now)
    if reading.done is not None:
        return reading.done
    rows = union_all(*reading.branches()).subquery()
    return reading.finish(db.session.execute(select(rows)))


def _none(kind: Any) -> Any:
    """Return a NULL typed as ``kind`` (PostgreSQL must match the branches' column types)."""
    return cast(null(), kind)


# The columns of a month's rows after (project_id, due, published_at): what a union with other rows pads with NULLs.
EXTRA_COLUMNS = ("promise_id", "kind", "source_id", "side", "title", "ended", "proposed_at", "proposed_due", "week", "late")


def padding() -> list[Any]:
    """Return typed NULLs for :data:`EXTRA_COLUMNS`, for the other branches of a union that reads a month too."""
    kinds = (Integer(), String(), Integer(), String(), String(), String(), UTCDateTime(), Date(), Integer(), Boolean())
    return [_none(kind).label(name) for kind, name in zip(kinds, EXTRA_COLUMNS, strict=True)]


@dataclass
class MonthReading:
    """One reading of the months of some projects: the branches of its statement, then the rows turned into months.

    ``portal.health`` adds the branches to its own statement, so the project page reads its
    health and its promises in one round trip.
    """

    projects: Sequence[Project]
    todays: dict[int, date]
    key: tuple[tuple[int, date], ...]
    cache: dict[Any, dict[int, Month]]
    done: dict[int, Month] | None = None

    @classmethod
    def start(cls, projects: Sequence[Project], now: datetime) -> MonthReading:
        """Begin reading; ``done`` is set when there is nothing to read (no projects, or read already during this page view)."""
        todays = {p.id: local_today(p.timezone, now) for p in projects}
        key = tuple(sorted(todays.items()))  # what is kept, late or broken depends on each project's day, not the minute
        # Kept for one page view (the project page's health and its promises block read the same month).
        cache = g.setdefault(_CACHE, {}) if has_request_context() and request.method == "GET" else {}
        reading = cls(projects, todays, key, cache)
        reading.done = {} if not projects else cache.get(key)
        return reading

    @property
    def span(self) -> tuple[date, date]:
        """Return the first and last day of every project's month."""
        months = [month_of(day) for day in self.todays.values()]
        return min(first for first, _last in months), max(last for _first, last in months)

    def branches(self) -> list[Any]:
        """Return the selects of the stored promises due in the months and the weekly updates of their weeks.

        Their columns: ``project_id``, ``due``, ``published_at`` (kept, or sent), then :data:`EXTRA_COLUMNS`
        (``week`` is set on the weekly updates only).
        """
        ids = list(self.todays)
        first, last = self.span
        return [
            select(
                Promise.project_id.label("project_id"),
                Promise.due_date.label("due"),
                Promise.ended_at.label("published_at"),
                *(
                    column.label(name)
                    for column, name in zip(
                        (Promise.id, Promise.kind, Promise.source_id, Promise.side, Promise.title, Promise.ended, Promise.proposed_at, Promise.proposed_due),
                        EXTRA_COLUMNS,
                        strict=False,
                    )
                ),
                _none(Integer()).label("week"),
                _none(Boolean()).label("late"),
            ).where(Promise.project_id.in_(ids), Promise.due_date >= first, Promise.due_date <= last),
            select(
                Update.project_id, Update.week_of, Update.published_at,
                Update.id, literal(PromiseKind.WEEKLY_UPDATE.value), _none(Integer()), literal(PromiseSide.AGENCY.value), literal(""),
                _none(String()), _none(UTCDateTime()), _none(Date()),
                (Update.iso_year * 100 + Update.iso_week), Update.late,
            ).where(
                Update.project_id.in_(ids),
                Update.kind == UpdateKind.WEEKLY,
                Update.status == UpdateStatus.PUBLISHED,
                Update.week_of >= first - timedelta(days=7),
                Update.week_of <= last + timedelta(days=7),
            ),
        ]

    def finish(self, rows: Iterable[Any]) -> dict[int, Month]:
        """Turn the rows of :meth:`branches` (rows without a ``kind`` are skipped) into each project's month (no queries)."""
        todays = self.todays
        months = {project_id: Month(*month_of(day)) for project_id, day in todays.items()}
        zones = {p.id: p.timezone for p in self.projects}
        sent: dict[tuple[int, int, int], tuple[int, bool, datetime | None]] = {}
        for row in rows:
            if row.kind is None:
                continue
            if row.week is not None:
                sent[(row.project_id, *divmod(row.week, 100))] = (row.promise_id, bool(row.late), _aware(row.published_at))
                continue
            month = months[row.project_id]
            if not month.first <= row.due <= month.last:
                continue
            ended = PromiseEnd(row.ended) if row.ended else None
            status, kept_on = status_of(ended, _aware(row.published_at), row.due, todays[row.project_id], zones[row.project_id])
            month.lines.append(
                Line(
                    PromiseKind(row.kind),
                    PromiseSide(row.side),
                    row.title,
                    row.due,
                    status,
                    kept_on,
                    row.source_id,
                    row.promise_id,
                    proposed=row.proposed_at is not None and status is PromiseStatus.OPEN,
                    proposed_due=row.proposed_due,
                )
            )
        for project in self.projects:
            _weekly_lines(project, months[project.id], todays[project.id], sent)
        for month in months.values():
            month.lines.sort(key=lambda line: (line.due, line.kind.value, line.title))
        self.cache[self.key] = self.done = months
        return months


def _aware(value: Any) -> datetime | None:
    """Return ``value`` as aware UTC: a union bypasses the column type, and SQLite returns naive text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _weekly_lines(project: Project, month: Month, today: date, sent: dict[tuple[int, int, int], tuple[int, bool, datetime | None]]) -> None:
    """Add the weekly slots of ``project`` in ``month`` (no queries)."""
    zone = zone_named(project.timezone)
    day = month.first - timedelta(days=month.first.weekday())  # the Monday of the month's first week
    while day <= month.last:
        iso_year, iso_week, _weekday = day.isocalendar()
        slot = slot_in_week(zone, project.weekly_weekday, project.weekly_hour, iso_year, iso_week)
        day += timedelta(days=7)
        if not month.first <= slot.local_date <= month.last:
            continue
        found = sent.get((project.id, iso_year, iso_week))
        if found is not None:
            _update_id, late, published_at = found
            kept_on = published_at.astimezone(zone).date() if published_at else slot.local_date
            status = PromiseStatus.KEPT_LATE if late else PromiseStatus.KEPT_ON_TIME
        elif project.status is not ProjectStatus.ACTIVE or project.archived_at is not None:
            continue  # a project on hold, completed or archived is not expected to report
        elif project.created_at is not None and slot.at <= project.created_at:
            continue  # before the project existed
        elif slot.local_date < today:
            status, kept_on = PromiseStatus.BROKEN, None
        else:
            status, kept_on = PromiseStatus.OPEN, None
        month.lines.append(Line(PromiseKind.WEEKLY_UPDATE, PromiseSide.AGENCY, "", slot.local_date, status, kept_on, found[0] if found else None))


def open_with_proposal(project: Project) -> list[Promise]:
    """Return the open promises of ``project`` whose new date waits for the client (one query)."""
    return list(
        db.session.scalars(
            select(Promise)
            .where(Promise.project_id == project.id, Promise.ended.is_(None), Promise.proposed_at.is_not(None), Promise.kind == PromiseKind.DELIVERABLE)
            .order_by(Promise.due_date, Promise.id)
        )
    )


def broken_counts(months: dict[int, Month]) -> dict[int, int]:
    """Return how many promises of this month are broken, per project."""
    return defaultdict(int, {project_id: month.broken for project_id, month in months.items()})
