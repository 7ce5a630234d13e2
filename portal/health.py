"""Project health: the one place that decides whether a project is on track, at risk or off track.

Every page that shows a project's health (the client's home, the staff home, the
project overview) asks this module, so a project reads the same everywhere::

    from portal.health import health_for

    health = health_for(projects, now=utcnow())[project.id]
    health.status      # HealthStatus.ON_TRACK / AT_RISK / OFF_TRACK (a str: "on_track"…)
    health.reasons     # [Reason(kind="overdue", status=…, count=2, days=9), …], worst first

:func:`health_for` runs a constant number of queries (at most six) however many
projects it is given. Dates are read in each project's own time zone.

The rules
---------

Health is the **worst** of three signals; each signal that is not on track adds a
:class:`Reason`, and the project is on track only when none does.

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
from sqlalchemy import CompoundSelect, Date, cast, func, null, select, union_all

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


@dataclass(frozen=True)
class Reason:
    """Why a project is not on track: the rule, how bad, and the numbers behind it.

    ``count`` is the number of goals or overdue items; ``days`` is the age of the
    oldest overdue item, or how long the project has gone without an update
    (None when it never had one and the project's age is unknown).
    """

    kind: ReasonKind
    status: HealthStatus
    count: int = 0
    days: int | None = None

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
        if self.days is None:
            return _("No update yet")
        return ngettext("No update for %(num)d day", "No update for %(num)d days", self.days)


@dataclass(frozen=True)
class Health:
    """A project's health with its reasons (worst first), and the numbers dashboards show beside it."""

    status: HealthStatus
    reasons: list[Reason] = field(default_factory=list)
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

    reasons.sort(key=lambda r: -r.status.rank)  # stable: goals, then overdue, then silence within a status
    status = reasons[0].status if reasons else HealthStatus.ON_TRACK
    return Health(
        status=status,
        reasons=reasons,
        goals_total=len(signals.goal_statuses),
        goals_on_track=sum(1 for s in signals.goal_statuses if s.on_plan),
        overdue=len(signals.overdue_since),
        last_update_at=signals.last_update_at,
    )


def health_for(projects: Sequence[Project], now: datetime, *, rules: Rules | None = None) -> dict[int, Health]:
    """Return the health of every project, keyed by project id, in at most four queries however many there are."""
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

    # One statement, one round trip: the overdue deliverables and requests (a due date each)
    # and each project's latest published update (a time).
    no_time = cast(null(), UTCDateTime())  # typed: PostgreSQL must match the branches' column types
    signal_rows: CompoundSelect[Any] = union_all(
        select(Deliverable.project_id.label("project_id"), Deliverable.due_date.label("due"), no_time.label("published_at")).where(
            Deliverable.project_id.in_(ids),
            Deliverable.status != DeliverableStatus.APPROVED,
            Deliverable.due_date < latest_today,
        ),
        select(AssetRequest.project_id, AssetRequest.due_date, no_time).where(
            AssetRequest.project_id.in_(ids),
            AssetRequest.status.in_(_WAITING_ON_CLIENT),
            AssetRequest.due_date < latest_today,
        ),
        select(Update.project_id, cast(null(), Date()), func.max(Update.published_at))
        .where(Update.project_id.in_(ids), Update.status == UpdateStatus.PUBLISHED)
        .group_by(Update.project_id),
    )
    for row in db.session.execute(signal_rows):
        if row.published_at is not None:
            signals[row.project_id].last_update_at = _aware(row.published_at)
        # ``due < latest_today`` above already left out undated rows; the check tells the type checker.
        elif row.due is not None and row.due < todays[row.project_id]:
            signals[row.project_id].overdue_since.append(row.due)

    return {p.id: judge(p, signals[p.id], todays[p.id], now, rules) for p in projects}


def _aware(value: datetime | None) -> datetime | None:
    """Return ``value`` as aware UTC: an aggregate bypasses the column type, and SQLite returns naive text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
