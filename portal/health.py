"""Project health: the one place that decides whether a project is on track, at risk or off track — and says why.

Every page that shows a project's health (the client's home, the staff home, the
project overview) asks this module, so a project reads the same everywhere::

    from portal.health import health_for

    health = health_for(projects, now=utcnow())[project.id]
    health.score       # 0–100: 100 less the weight of every factor
    health.status      # HealthStatus.ON_TRACK / AT_RISK / OFF_TRACK (a str: "on_track"…), read from the score
    health.factors     # [Reason(kind="overdue", status=…, count=2, days=9), …], worst first, each with its weight and words
    health.reasons     # the factors that make the project at risk or off track (the status's reasons)

:func:`health_for` runs a constant number of queries however many projects it is given.
Dates are read in each project's own time zone.

The factors and their weights
-----------------------------

Each factor takes its **weight** off a score of 100 and has its words (``Reason.text``):

====================  ======  =========================================================
Factor                Weight  Words (for example)
====================  ======  =========================================================
goals off track        60     "2 goals are off track"
goals at risk          12     "1 goal is at risk"
overdue items          12/60  "3 items are overdue, the oldest by 9 days" (60: off track)
silence                12     "No update for 8 days"
recovering             12     "Recovering — 2 of 5 steps done"
promises broken      5 each   "2 promises broken this month" (10 at most)
====================  ======  =========================================================

The status is read from the score: **on track** from ``ON_TRACK_SCORE`` (90), **off
track** at ``OFF_TRACK_SCORE`` (40) or below, **at risk** between. The weights are chosen so
the status is what the rules below always said: one off-track factor makes the project off
track; at-risk factors (even all four together, with broken promises) make it at risk; broken
promises alone lower the score and are explained, but never change the status (a late
deliverable is already counted as overdue).

1. **Goal variance.** The open agreed goals are measured with
   :func:`portal.goals.progress.statuses_for_projects` (the statuses of ``progress_for``,
   read as plain rows; thresholds ``PORTAL_GOAL_AT_RISK_PERCENT`` / ``PORTAL_GOAL_OFF_TRACK_PERCENT``). Any goal off
   track makes the project **off track**; otherwise any goal at risk makes it **at
   risk**. Goals without a check-in yet, proposals and closed goals do not count.
2. **Overdue items**: deliverables past their due date and not approved, and asset
   requests past their due date that still wait on the client (open or returned).
   One or more make the project **at risk**; ``OVERDUE_OFF_TRACK_COUNT`` (3) or more,
   or one overdue by ``OVERDUE_OFF_TRACK_DAYS`` (14) days or more, make it **off track**.
3. **Silence**: no published update for ``SILENCE_DAYS`` (7) days — counted from the
   project's creation while it has never had one — makes an active or planned project
   **at risk**. Projects on hold or completed are not expected to speak every week.
4. **Recovering**: an open shared incident (``portal.incidents.queries.recovery_for``, read
   only if the incidents feature is installed) makes the project **at risk** until it is closed.
5. **Promises broken** this month, both sides (``portal.promises.queries.months_for``).

The numbers can be changed with ``PORTAL_HEALTH_SILENCE_DAYS``,
``PORTAL_HEALTH_OVERDUE_OFF_TRACK_COUNT`` and ``PORTAL_HEALTH_OVERDUE_OFF_TRACK_DAYS``.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Date, cast, func, null, select, union_all

from portal.config import ConfigError
from portal.extensions import db
from portal.goals.progress import ProgressStatus
from portal.goals.stored import statuses as stored_statuses
from portal.models import (
    AssetRequest,
    AssetRequestStatus,
    Deliverable,
    DeliverableStatus,
    Project,
    ProjectStatus,
    Update,
    UpdateStatus,
)
from portal.timeutil import UTCDateTime, local_today

SILENCE_DAYS = 7  # no published update for this many days: at risk
OVERDUE_OFF_TRACK_COUNT = 3  # this many overdue items: off track
OVERDUE_OFF_TRACK_DAYS = 14  # one item overdue by this many days: off track

ON_TRACK_SCORE = 90  # a score this high or higher: on track
OFF_TRACK_SCORE = 40  # a score this low or lower: off track
OFF_TRACK_WEIGHT = 60  # the weight of a factor that makes a project off track
AT_RISK_WEIGHT = 12  # the weight of a factor that makes it at risk
PROMISE_WEIGHT = 5  # each promise broken this month
PROMISE_WEIGHT_CAP = 10  # broken promises alone never change the status

# Projects whose silence counts (on hold and completed ones are not expected to report).
_REPORTING = (ProjectStatus.PLANNED, ProjectStatus.ACTIVE)
_WAITING_ON_CLIENT = (AssetRequestStatus.OPEN, AssetRequestStatus.RETURNED)


class HealthStatus(enum.StrEnum):
    """A project's health, in one word; ordered from good to bad."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"

    @property
    def rank(self) -> int:
        """Return 0 for on track, 1 for at risk, 2 for off track."""
        return list(HealthStatus).index(self)

    @property
    def label(self) -> str:
        """Return the status in the reader's language."""
        if self is HealthStatus.ON_TRACK:  # translate only the one asked for: dashboards ask for many
            return _("On track")
        if self is HealthStatus.AT_RISK:
            return _("At risk")
        return _("Off track")


class ReasonKind(enum.StrEnum):
    """Which rule a reason comes from."""

    GOALS_OFF_TRACK = "goals_off_track"
    GOALS_AT_RISK = "goals_at_risk"
    OVERDUE = "overdue"
    SILENCE = "silence"
    RECOVERING = "recovering"
    PROMISES_BROKEN = "promises_broken"


@dataclass(frozen=True)
class Reason:
    """Why a project is not on track: the rule, how bad, and the numbers behind it.

    ``count`` is the number of goals, overdue items or broken promises (for recovering: the
    steps done); ``days`` is the age of the oldest overdue item, or how long the project has
    gone without an update (None when it never had one and the project's age is unknown);
    ``total`` is the number of recovery steps.
    """

    kind: ReasonKind
    status: HealthStatus
    count: int = 0
    days: int | None = None
    total: int = 0

    @property
    def weight(self) -> int:
        """Return how many points this factor takes off the score."""
        if self.kind is ReasonKind.PROMISES_BROKEN:
            return min(self.count * PROMISE_WEIGHT, PROMISE_WEIGHT_CAP)
        return OFF_TRACK_WEIGHT if self.status is HealthStatus.OFF_TRACK else AT_RISK_WEIGHT

    @property
    def text(self) -> str:
        """Return the reason in words, in the reader's language."""
        if self.kind is ReasonKind.GOALS_OFF_TRACK:
            return ngettext("%(num)d goal is off track", "%(num)d goals are off track", self.count)
        if self.kind is ReasonKind.GOALS_AT_RISK:
            return ngettext("%(num)d goal is at risk", "%(num)d goals are at risk", self.count)
        if self.kind is ReasonKind.OVERDUE:
            items = ngettext("%(num)d item is overdue", "%(num)d items are overdue", self.count)
            days = ngettext("the oldest by %(num)d day", "the oldest by %(num)d days", self.days or 0)
            return _("%(items)s, %(days)s", items=items, days=days) if self.days else items
        if self.kind is ReasonKind.RECOVERING:
            if not self.total:
                return _("Recovering — the recovery plan has no steps yet")
            return ngettext("Recovering — %(done)d of %(num)d step done", "Recovering — %(done)d of %(num)d steps done", self.total, done=self.count)
        if self.kind is ReasonKind.PROMISES_BROKEN:
            return ngettext("%(num)d promise broken this month", "%(num)d promises broken this month", self.count)
        if self.days is None:
            return _("No update yet")
        return ngettext("No update for %(num)d day", "No update for %(num)d days", self.days)


def status_for(score: int) -> HealthStatus:
    """Return the status a score reads as."""
    if score >= ON_TRACK_SCORE:
        return HealthStatus.ON_TRACK
    return HealthStatus.OFF_TRACK if score <= OFF_TRACK_SCORE else HealthStatus.AT_RISK


@dataclass(frozen=True)
class Health:
    """A project's health: its score, the factors behind it (worst first), and the numbers dashboards show beside it.

    ``reasons`` are the factors that set the status (those at risk or off track).
    """

    status: HealthStatus
    reasons: list[Reason] = field(default_factory=list)
    score: int = 100
    factors: list[Reason] = field(default_factory=list)
    goals_total: int = 0  # open agreed goals
    goals_on_track: int = 0  # of those, on track or done
    overdue: int = 0  # overdue deliverables and asset requests
    last_update_at: datetime | None = None  # the latest published update

    @property
    def summary(self) -> str:
        """Return the main reason in words, or that nothing needs attention."""
        return self.reasons[0].text if self.reasons else _("Nothing is late or behind plan")


@dataclass(frozen=True)
class Rules:
    """The thresholds of the health rules (see the module docstring)."""

    silence_days: int = SILENCE_DAYS
    overdue_off_track_count: int = OVERDUE_OFF_TRACK_COUNT
    overdue_off_track_days: int = OVERDUE_OFF_TRACK_DAYS

    @classmethod
    def from_config(cls, config: Any = None) -> Rules:
        """Read the PORTAL_HEALTH_* settings; raise ConfigError if one is not a positive whole number."""
        config = current_app.config if config is None else config
        values = {}
        for name, key, default in (
            ("silence_days", "HEALTH_SILENCE_DAYS", SILENCE_DAYS),
            ("overdue_off_track_count", "HEALTH_OVERDUE_OFF_TRACK_COUNT", OVERDUE_OFF_TRACK_COUNT),
            ("overdue_off_track_days", "HEALTH_OVERDUE_OFF_TRACK_DAYS", OVERDUE_OFF_TRACK_DAYS),
        ):
            try:
                values[name] = int(config.get(key, default))
            except (TypeError, ValueError) as error:
                raise ConfigError(f"PORTAL_{key} must be a whole number") from error
            if values[name] < 1:
                raise ConfigError(f"PORTAL_{key} must be 1 or more")
        return cls(**values)


@dataclass
class _Signals:
    """What the queries found about one project."""

    goal_statuses: list[ProgressStatus] = field(default_factory=list)
    overdue_since: list[date] = field(default_factory=list)  # due dates of overdue items
    last_update_at: datetime | None = None
    recovery: tuple[int, int] | None = None  # (steps done, steps) of the open shared incidents, if any
    promises_broken: int = 0  # this month's, both sides


def judge(project: Project, signals: _Signals, today: date, now: datetime, rules: Rules) -> Health:
    """Apply the rules to what is known about one project (no queries)."""
    reasons: list[Reason] = []
    off = signals.goal_statuses.count(ProgressStatus.OFF_TRACK)
    at_risk = signals.goal_statuses.count(ProgressStatus.AT_RISK)
    if off:
        reasons.append(Reason(ReasonKind.GOALS_OFF_TRACK, HealthStatus.OFF_TRACK, count=off))
    if at_risk:
        reasons.append(Reason(ReasonKind.GOALS_AT_RISK, HealthStatus.AT_RISK, count=at_risk))

    if signals.overdue_since:
        count = len(signals.overdue_since)
        oldest = (today - min(signals.overdue_since)).days
        bad = count >= rules.overdue_off_track_count or oldest >= rules.overdue_off_track_days
        status = HealthStatus.OFF_TRACK if bad else HealthStatus.AT_RISK
        reasons.append(Reason(ReasonKind.OVERDUE, status, count=count, days=oldest))

    if project.status in _REPORTING:
        since = signals.last_update_at or project.created_at
        if since is None:
            reasons.append(Reason(ReasonKind.SILENCE, HealthStatus.AT_RISK))
        elif now - since >= timedelta(days=rules.silence_days):
            days = (now - since).days
            reasons.append(Reason(ReasonKind.SILENCE, HealthStatus.AT_RISK, days=days if signals.last_update_at else None))

    if signals.recovery is not None:
        done, total = signals.recovery
        reasons.append(Reason(ReasonKind.RECOVERING, HealthStatus.AT_RISK, count=done, total=total))
    if signals.promises_broken:
        reasons.append(Reason(ReasonKind.PROMISES_BROKEN, HealthStatus.ON_TRACK, count=signals.promises_broken))

    reasons.sort(key=lambda r: -r.status.rank)  # stable: goals, then overdue, then silence within a status
    score = max(0, 100 - sum(r.weight for r in reasons))
    return Health(
        status=status_for(score),
        reasons=[r for r in reasons if r.status is not HealthStatus.ON_TRACK],
        score=score,
        factors=reasons,
        goals_total=len(signals.goal_statuses),
        goals_on_track=sum(1 for s in signals.goal_statuses if s.on_plan),
        overdue=len(signals.overdue_since),
        last_update_at=signals.last_update_at,
    )


def health_for(projects: Sequence[Project], now: datetime, *, rules: Rules | None = None) -> dict[int, Health]:
    """Return the health of every project, keyed by project id, in a constant number of queries however many there are."""
    if not projects:
        return {}
    rules = rules or Rules.from_config()
    ids = [p.id for p in projects]
    todays = {p.id: local_today(p.timezone, now) for p in projects}
    latest_today = max(todays.values())
    signals: dict[int, _Signals] = defaultdict(_Signals)

    # Each goal is measured on its own project's day, from plain rows (no ORM objects: an admin's
    # dashboard reads thousands of goals).
    for goal in stored_statuses(ids, todays):
        signals[goal.project_id].goal_statuses.append(goal.status)

    # One statement, one round trip: the overdue deliverables and requests (a due date each),
    # each project's latest published update (a time), and this month's promises (the ledger's
    # branches, when the promises feature is installed: the project page's block reads them too).
    no_time = cast(null(), UTCDateTime())  # typed: PostgreSQL must match the branches' column types
    ledger = _promise_reading(projects, now)
    read_now = ledger is not None and ledger.reading.done is None  # not read yet during this page view
    extra = ledger.padding if ledger is not None and read_now else []
    branches: list[Any] = [
        select(Deliverable.project_id.label("project_id"), Deliverable.due_date.label("due"), no_time.label("published_at"), *extra).where(
            Deliverable.project_id.in_(ids),
            Deliverable.status != DeliverableStatus.APPROVED,
            Deliverable.due_date < latest_today,
        ),
        select(AssetRequest.project_id, AssetRequest.due_date, no_time, *extra).where(
            AssetRequest.project_id.in_(ids),
            AssetRequest.status.in_(_WAITING_ON_CLIENT),
            AssetRequest.due_date < latest_today,
        ),
        select(Update.project_id, cast(null(), Date()), func.max(Update.published_at), *extra)
        .where(Update.project_id.in_(ids), Update.status == UpdateStatus.PUBLISHED)
        .group_by(Update.project_id),
    ]
    if ledger is not None and read_now:
        branches += ledger.reading.branches()
    rows = db.session.execute(union_all(*branches)).all()
    for row in rows:
        if read_now and row.kind is not None:
            continue  # a promise or a weekly update of the month: read by the ledger below
        if row.published_at is not None:
            signals[row.project_id].last_update_at = _aware(row.published_at)
        # ``due < latest_today`` above already left out undated rows; the check tells the type checker.
        elif row.due is not None and row.due < todays[row.project_id]:
            signals[row.project_id].overdue_since.append(row.due)
    months = {} if ledger is None else ledger.reading.finish(rows) if read_now else ledger.reading.done
    for project_id, month in months.items():
        signals[project_id].promises_broken = month.broken
    for project_id, recovery in _recovery(ids).items():
        signals[project_id].recovery = recovery

    return {p.id: judge(p, signals[p.id], todays[p.id], now, rules) for p in projects}


def _recovery(ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Return (steps done, steps) of each project recovering from an open shared incident (none without the incidents feature)."""
    try:
        from portal.incidents.queries import recovery_for
    except ImportError:
        return {}
    return recovery_for(ids)


@dataclass
class _Ledger:
    """The promise ledger's part of the health statement: its reading of the month, and NULLs for the other branches."""

    reading: Any  # portal.promises.queries.MonthReading
    padding: list[Any]


def _promise_reading(projects: Sequence[Project], now: datetime) -> _Ledger | None:
    """Return the ledger's reading of this month (``reading.done`` when read already; None without the promises feature)."""
    try:
        from portal.promises.queries import MonthReading, padding
    except ImportError:
        return None
    reading = MonthReading.start(projects, now)
    return _Ledger(reading, padding() if reading.done is None else [])


def _aware(value: datetime | None) -> datetime | None:
    """Return ``value`` as aware UTC: an aggregate bypasses the column type, and SQLite returns naive text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
