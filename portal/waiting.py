"""Waiting time, split fairly between the agency and the client (principle 10).

An item — a deliverable, an asset request — is a sequence of turns: an :class:`Interval`
from ``start`` to ``end`` (``None``: still running) during which one side, ``"client"`` or
``"agency"``, had to act. :func:`split` totals them per side inside a window; each feature
turns its recorded times (submissions, decisions, uploads, reviews) into intervals and
adds a loader to ``waiting_sources`` in its ``init_app``::

    waiting_sources.add(app, "deliverables", queries.waiting_intervals, order=10)

    def waiting_intervals(project_ids: Sequence[int]) -> dict[int, list[list[Interval]]]:
        ...  # project id -> one list of intervals per item, in a constant number of queries

The rules, the same for every kind of item:

- **Calendar days.** Time is counted around the clock, weekends and holidays included: a
  version sent on Friday evening and decided on Monday morning waited about 2.6 days.
- **Partial days.** A side's total is kept exact (a ``timedelta``); it is shown in whole
  days, rounded half up (:func:`whole_days`: 1 day 11 hours → 1 day, 1 day 12 hours →
  2 days). Totals over several items or windows add the exact times, then round once.
- **Overlaps of one side** are merged: an instant counts once per item, however many of its
  intervals cover it.
- **Overlaps of the two sides** (an item whose turns were recorded overlapping): the
  interval that started later wins, since the turn passed when it began; at equal starts,
  the later one in the sequence wins. An instant of an item is never counted for both.
- **Items add up.** A project's total is the sum of its items' totals: two deliverables
  waiting on the client for one day each make two days waiting on the client.
- **Windows** clip every interval to ``[start, end)``; a running interval ends at ``now``,
  and nothing after ``now`` counts. A month is the project's calendar month, in its own
  time zone (:func:`month_window`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import pairwise
from typing import Literal

from portal.registry import Registry
from portal.timeutil import ZonedProject, zone_named

Side = Literal["client", "agency"]
CLIENT: Side = "client"
AGENCY: Side = "agency"

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Interval:
    """One side's turn on an item: from ``start`` to ``end`` (None: still running), both aware."""

    start: datetime
    end: datetime | None
    side: Side


def whole_days(span: timedelta) -> int:
    """Return ``span`` in whole calendar days, rounded half up (exact: no floating point)."""
    return (span + DAY / 2) // DAY


@dataclass(frozen=True)
class Split:
    """How long something waited on each side (exact), and the same in whole days."""

    client: timedelta = timedelta()
    agency: timedelta = timedelta()

    def __add__(self, other: Split) -> Split:
        return Split(self.client + other.client, self.agency + other.agency)

    @property
    def client_days(self) -> int:
        """Return the client's time in whole days, rounded half up."""
        return whole_days(self.client)

    @property
    def agency_days(self) -> int:
        """Return the agency's time in whole days, rounded half up."""
        return whole_days(self.agency)

    @property
    def is_empty(self) -> bool:
        """Tell whether neither side waited a (rounded) day."""
        return self.client_days == 0 and self.agency_days == 0

    def to_params(self) -> dict[str, int]:
        """Return the whole days of each side, as a fact's params hold them."""
        return {"agency_days": self.agency_days, "client_days": self.client_days}


def split(intervals: Iterable[Interval], now: datetime, window: tuple[datetime, datetime] | None = None) -> Split:
    """Return the time one item waited on each side within ``window`` (default: its whole life), up to ``now``.

    See the module's docstring for the rules: calendar days, same-side overlaps merged, the
    later-started interval winning an overlap of the two sides.
    """
    low, high = window if window is not None else (None, now)
    high = min(high, now)
    # (rank, start, end, side): rank orders the claims on an instant, the clipped span is what counts.
    turns: list[tuple[tuple[datetime, int], datetime, datetime, Side]] = []
    for index, interval in enumerate(intervals):
        start = interval.start if low is None else max(interval.start, low)
        end = min(interval.end if interval.end is not None else now, high)
        if end > start:
            turns.append(((interval.start, index), start, end, interval.side))
    totals = {CLIENT: timedelta(), AGENCY: timedelta()}
    points = sorted({moment for _rank, start, end, _side in turns for moment in (start, end)})
    for left, right in pairwise(points):
        covering = [(rank, side) for rank, start, end, side in turns if start <= left and right <= end]
        if covering:
            totals[max(covering)[1]] += right - left
    return Split(client=totals[CLIENT], agency=totals[AGENCY])


def month_window(zone_name: str | None, moment: datetime) -> tuple[datetime, datetime]:
    """Return the calendar month around ``moment`` in the zone called ``zone_name``, as aware [start, end)."""
    zone = zone_named(zone_name)
    day = moment.astimezone(zone).date().replace(day=1)
    following = day.replace(year=day.year + 1, month=1) if day.month == 12 else day.replace(month=day.month + 1)
    return datetime.combine(day, time(0), tzinfo=zone), datetime.combine(following, time(0), tzinfo=zone)


# --- Sources: what each feature's items waited ------------------------------------------------

WaitingSource = Callable[[Sequence[int]], Mapping[int, Sequence[Sequence[Interval]]]]

# Loaders of intervals: project ids -> each project's items, one sequence of intervals per item.
waiting_sources: Registry[WaitingSource] = Registry("waiting_sources")


def month_splits(projects: Sequence[ZonedProject], now: datetime) -> dict[int, Split]:
    """Return each project's waiting this month (its own zone's calendar month, up to ``now``), every source's items added up.

    A constant number of queries, whatever the number of projects and items.
    """
    totals = {project.id: Split() for project in projects}
    if not projects:
        return totals
    windows = {project.id: month_window(project.timezone, now) for project in projects}
    ids = list(totals)
    for source in waiting_sources.values():
        for project_id, items in source(ids).items():
            for intervals in items:
                totals[project_id] += split(intervals, now, windows[project_id])
    return totals
