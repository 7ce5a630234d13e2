"""The weekly update: facts from every feature, composed bad news first, at each project's slot.

Features plug in by registering a *fact provider*; the composer knows none of them::

    from portal.updates.weekly import Fact, weekly_facts

    @weekly_facts.register("goals", order=10)
    def goal_facts(project, period_start, period_end, now) -> list[Fact]:
        return [Fact("goal_off_track", "bad", {"goal_id": 7, "title": "…", "variance_pct": -30}, link="/projects/3/goals/7")]

A feature's providers live in its ``weekly.py`` and are listed in ``PROVIDER_MODULES``,
which the app factory loads (``load_providers``), so the web app, the scheduler and the
CLI compose the same update. A provider is called with the project, the period the update covers (``period_start``
inclusive, ``period_end`` exclusive, both aware UTC) and the dispatch time; it returns
facts and must run a constant number of queries. ``params`` must be JSON-serialisable:
the facts are stored with the update and turned into sentences in each reader's
language when a page or an email is rendered (``templates/updates/_facts.html``).

The slot of a project is its weekday and hour in its own time zone; the ISO week of
that local date is the weekly update's unique key.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flask import current_app

from portal.models import Project


class Scheduled(Protocol):
    """Anything with a project's weekly slot settings: a Project, or a row selecting those columns."""

    timezone: str
    weekly_weekday: int
    weekly_hour: int

# The order of the weekly update: bad news first, then what waits on the client, the decisions
# of the week, progress, the manager's notes and updates, the next deadlines, and what we need.
SEVERITIES = ("bad", "waiting", "decision", "progress", "note", "deadline", "need")
# A quiet week is one where nothing of these happened (deadlines and needs may still be listed).
NEWS_SEVERITIES = frozenset({"bad", "waiting", "decision", "progress", "note"})


@dataclass(frozen=True)
class Fact:
    """One thing the weekly update (or an expectation note) says, as data.

    ``kind`` selects the sentence in ``templates/updates/_facts.html`` (unknown kinds are
    rendered generically); ``severity`` is one of SEVERITIES and decides where it goes;
    ``params`` fill the sentence (JSON-serialisable: numbers, strings, ISO dates);
    ``link`` is a path inside the portal ("/projects/3/…"), made absolute in emails.
    """

    kind: str
    severity: str
    params: dict[str, Any] = field(default_factory=dict)
    link: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"fact {self.kind!r}: severity must be one of {SEVERITIES}, not {self.severity!r}")
        if self.link is not None and (not self.link.startswith("/") or self.link.startswith("//")):
            raise ValueError(f"fact {self.kind!r}: link must be a path inside the portal, not {self.link!r}")

    def to_json(self) -> dict[str, Any]:
        """Return the fact as stored with an update (raises TypeError if params are not JSON)."""
        data = {"kind": self.kind, "severity": self.severity, "params": self.params, "link": self.link}
        json.dumps(data)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fact:
        """Rebuild a fact stored with an update."""
        return cls(data["kind"], data["severity"], dict(data.get("params") or {}), data.get("link"))


FactProvider = Callable[[Project, datetime, datetime, datetime], list[Fact]]


@dataclass(frozen=True)
class _Registered:
    key: str
    order: int
    provider: FactProvider


class FactRegistry:
    """Fact providers of one composition, called in their ``order``."""

    def __init__(self) -> None:
        self._providers: dict[str, _Registered] = {}

    def register(self, key: str, *, order: int) -> Callable[[FactProvider], FactProvider]:
        """Register a provider (decorator); registering a key again replaces it."""

        def decorator(func: FactProvider) -> FactProvider:
            self._providers[key] = _Registered(key, order, func)
            return func

        return decorator

    def unregister(self, key: str) -> None:
        """Remove a provider (tests use it to clean up)."""
        self._providers.pop(key, None)

    def keys(self) -> list[str]:
        """Return the registered keys in order."""
        return [r.key for r in sorted(self._providers.values(), key=lambda r: r.order)]

    def collect(self, project: Project, period_start: datetime, period_end: datetime, now: datetime) -> list[Fact]:
        """Call every provider in order and return their facts (checked: JSON-serialisable params)."""
        facts: list[Fact] = []
        for registered in sorted(self._providers.values(), key=lambda r: r.order):
            for fact in registered.provider(project, period_start, period_end, now):
                if not isinstance(fact, Fact):
                    raise TypeError(f"provider {registered.key!r} returned {fact!r}, not a Fact")
                try:
                    fact.to_json()
                except TypeError as error:
                    raise TypeError(f"provider {registered.key!r}: params of {fact.kind!r} are not JSON: {error}") from None
                facts.append(fact)
        return facts


# Providers of the weekly update.
weekly_facts = FactRegistry()

# The modules whose import registers providers (on ``weekly_facts`` and on the expectation note's
# ``expectation_facts``). The app factory loads them all, so the web app, the scheduler and the
# CLI compose the same update whichever views happen to be imported.
PROVIDER_MODULES = (
    "portal.updates.providers",
    "portal.expectations.weekly",
    "portal.goals.weekly",
    "portal.deliverables.weekly",
    "portal.assets.weekly",
)


def load_providers() -> None:
    """Import every module of PROVIDER_MODULES, registering its fact providers (idempotent)."""
    for name in PROVIDER_MODULES:
        importlib.import_module(name)


def compose(project: Project, period_start: datetime, period_end: datetime, now: datetime) -> list[Fact]:
    """Return the facts of the weekly update: grouped by severity (bad news first), then provider order."""
    facts = weekly_facts.collect(project, period_start, period_end, now)
    rank = {severity: i for i, severity in enumerate(SEVERITIES)}
    return sorted(facts, key=lambda f: rank[f.severity])  # stable: provider order within a severity


def is_quiet(facts: list[dict[str, Any]] | list[Fact]) -> bool:
    """Tell whether nothing happened this week (no bad news, waiting, decisions, progress or notes)."""
    return not any(_severity(f) in NEWS_SEVERITIES for f in facts)


def _severity(fact: dict[str, Any] | Fact) -> str:
    return fact.severity if isinstance(fact, Fact) else fact.get("severity", "note")


def group_facts(facts: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Return stored facts as (severity, facts) groups in the order of SEVERITIES, empty groups left out."""
    groups = []
    for severity in SEVERITIES:
        items = [f for f in facts if f.get("severity") == severity]
        if items:
            groups.append((severity, items))
    return groups


def late_after() -> timedelta:
    """Return how long after its slot an update counts as late (PORTAL_WEEKLY_LATE_MINUTES, default 60)."""
    return timedelta(minutes=int(current_app.config.get("WEEKLY_LATE_MINUTES", 60)))


def portal_path(endpoint: str, **values: Any) -> str:
    """Return the path of ``endpoint`` for a fact's link; works outside requests (scheduler, CLI)."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


# --- Slots: when each project's update is due ---------------------------------------


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


def project_zone(project: Scheduled) -> ZoneInfo:
    """Return the project's time zone (UTC if the stored name is unknown)."""
    try:
        return ZoneInfo(project.timezone or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


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
    return slot_in_week(project_zone(project), project.weekly_weekday, project.weekly_hour, iso_year, iso_week)


def current_week(project: Scheduled, now: datetime) -> tuple[int, int]:
    """Return the ISO week of ``now`` in the project's time zone."""
    year, week, _ = now.astimezone(project_zone(project)).isocalendar()
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


def weeks_between(project: Scheduled, after: tuple[int, int], last: WeekSlot) -> list[WeekSlot]:
    """Return the project's slots of the weeks after ``after`` up to and including ``last``, oldest first."""
    slots = []
    key = shift_week(*after, 1)
    while key <= last.key:
        slots.append(slot_for(project, *key))
        key = shift_week(*key, 1)
    return slots
