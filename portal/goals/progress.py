"""Expected against actual: where a goal should be on a date, where it is, and what that means.

This module is the public face of goal progress for other features (the weekly
update, dashboards, the expectation-vs-reality notes)::

    from portal.goals.progress import goal_progress, progress_for

    progress = goal_progress(goal, on=date.today())
    progress.status, progress.expected, progress.actual, progress.variance

    by_goal = progress_for(goals, on=week_end)   # a constant number of queries

The rules, in one place:

* The **expected value** moves in a straight line from the agreed revision's
  baseline, on the day both sides signed it, to its target on the target date;
  before that day it is the baseline, after the target date the target.
* The **actual value** is the latest check-in on or before the date. It is compared
  with the expected value *on that date*, not on the check-in's date: a goal whose
  measurements stopped falls behind, it does not stay frozen on track.
* The **variance** is ``actual − expected`` in the goal's unit. How far *behind* the
  goal is uses the direction of the planned change, so "lower is better" goals
  (target below baseline, e.g. page load time) are judged correctly.
* The **status** of a metric goal: *off track* when it is behind by more than
  ``GOAL_OFF_TRACK_PERCENT`` % of the planned change ``|target − baseline|``,
  *at risk* beyond ``GOAL_AT_RISK_PERCENT`` %, otherwise *on track* (ahead is on track).
  No check-in yet: *no data*. A "done when" goal is *done* or *not done* (its latest
  check-in). A goal not agreed yet is *not agreed*; a closed goal has its outcome.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from portal.config import ConfigError
from portal.extensions import db
from portal.models import Goal, GoalCheckIn, GoalRevision, GoalState, MeasureKind

_HUNDRED = Decimal(100)
_PLACES = Decimal("0.0001")
_TENTH = Decimal("0.1")


class ProgressStatus(enum.StrEnum):
    """How a goal is doing, in one word."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    NO_DATA = "no_data"  # agreed, but no check-in yet
    DONE = "done"  # "done when" goals
    NOT_DONE = "not_done"
    NOT_AGREED = "not_agreed"  # proposed or declined: nothing is in force yet
    ACHIEVED = "achieved"
    MISSED = "missed"
    DROPPED = "dropped"

    @property
    def needs_attention(self) -> bool:
        """Tell whether this status is bad news that should lead a report."""
        return self in (ProgressStatus.AT_RISK, ProgressStatus.OFF_TRACK, ProgressStatus.MISSED)

    @property
    def on_plan(self) -> bool:
        """Tell whether the goal is where its plan wants it: on track (or ahead), or done."""
        return self in (ProgressStatus.ON_TRACK, ProgressStatus.DONE)


@dataclass(frozen=True)
class Thresholds:
    """How far behind plan, in percent of the planned change, makes a goal at risk or off track."""

    at_risk: Decimal = Decimal(10)
    off_track: Decimal = Decimal(25)

    @classmethod
    def from_config(cls, config: Any = None) -> Thresholds:
        """Read GOAL_AT_RISK_PERCENT and GOAL_OFF_TRACK_PERCENT; raise ConfigError if they make no sense."""
        config = current_app.config if config is None else config
        try:
            at_risk = Decimal(str(config.get("GOAL_AT_RISK_PERCENT", 10)))
            off_track = Decimal(str(config.get("GOAL_OFF_TRACK_PERCENT", 25)))
        except (ArithmeticError, ValueError) as error:
            raise ConfigError("PORTAL_GOAL_AT_RISK_PERCENT and PORTAL_GOAL_OFF_TRACK_PERCENT must be numbers") from error
        if not (at_risk.is_finite() and off_track.is_finite()) or at_risk < 0 or off_track < at_risk:
            raise ConfigError(
                "PORTAL_GOAL_AT_RISK_PERCENT must be 0 or more and PORTAL_GOAL_OFF_TRACK_PERCENT at least as large"
            )
        return cls(at_risk=at_risk, off_track=off_track)


@dataclass(frozen=True)
class GoalProgress:
    """A goal's progress on one date.

    ``expected`` and ``actual`` are in the goal's unit (None for "done when" goals,
    and ``actual`` is None before the first check-in). ``variance`` is
    ``actual − expected``. ``behind_percent`` is how far behind plan the goal is,
    as a percentage of the planned change (negative when ahead). ``percent_complete``
    (0–100) is how much of the way from baseline to target the actual value has
    come, for progress bars.
    """

    on: date
    status: ProgressStatus
    expected: Decimal | None = None
    actual: Decimal | None = None
    variance: Decimal | None = None
    behind_percent: Decimal | None = None
    percent_complete: int = 0
    measured_on: date | None = None  # the date of the check-in behind ``actual``
    revision: GoalRevision | None = None  # the agreed terms it is measured against

    @property
    def is_behind(self) -> bool:
        """Tell whether the actual value trails the plan at all."""
        return self.behind_percent is not None and self.behind_percent > 0

    @property
    def is_ahead(self) -> bool:
        """Tell whether the actual value is further along than the plan expects."""
        return self.behind_percent is not None and self.behind_percent < 0


def expected_value(revision: GoalRevision, on: date) -> Decimal | None:
    """Return the value ``revision`` expects on ``on``: the straight line from baseline at agreement to target."""
    if revision.measure is not MeasureKind.METRIC or revision.baseline is None or revision.target is None:
        return None
    return _expected(revision.baseline, revision.target, revision.agreed_on, revision.target_date, on)


def percent_of_planned_change(amount: Decimal, baseline: Decimal, target: Decimal) -> Decimal:
    """Return ``amount`` (in the goal's unit) as a percentage of the planned change, positive in its direction.

    ``actual − baseline`` gives how far the goal has come towards its target (100 = there);
    ``expected − actual`` how far it is behind plan (negative when ahead).
    """
    planned = target - baseline
    span = abs(planned) or Decimal(1)  # a service rule keeps target ≠ baseline; never divide by zero
    direction = Decimal(1) if planned >= 0 else Decimal(-1)
    return amount * direction / span * _HUNDRED


def _expected(baseline: Decimal, target: Decimal, start: date | None, target_date: date, on: date) -> Decimal:
    """Return the straight line's value on ``on``: ``baseline`` until ``start``, ``target`` from ``target_date``."""
    if start is None or on <= start:
        return baseline
    if on >= target_date or target_date <= start:
        return target
    elapsed = Decimal((on - start).days)
    span = Decimal((target_date - start).days)
    value = baseline + (target - baseline) * elapsed / span
    return value.quantize(_PLACES, rounding=ROUND_HALF_UP)


def _verdict(
    expected: Decimal, actual: Decimal, baseline: Decimal, target: Decimal, thresholds: Thresholds
) -> tuple[Decimal, ProgressStatus]:
    """Return how far behind plan ``actual`` is (percent of the planned change) and the status that makes."""
    behind = percent_of_planned_change(expected - actual, baseline, target).quantize(_TENTH, rounding=ROUND_HALF_UP)
    if behind > thresholds.off_track:
        return behind, ProgressStatus.OFF_TRACK
    if behind > thresholds.at_risk:
        return behind, ProgressStatus.AT_RISK
    return behind, ProgressStatus.ON_TRACK


_CLOSED = {
    GoalState.ACHIEVED: ProgressStatus.ACHIEVED,
    GoalState.MISSED: ProgressStatus.MISSED,
    GoalState.DROPPED: ProgressStatus.DROPPED,
}


def compute_progress(
    state: GoalState,
    revision: GoalRevision | None,
    latest: GoalCheckIn | None,
    on: date,
    thresholds: Thresholds,
) -> GoalProgress:
    """Return the progress of a goal in ``state``, agreed on ``revision``, whose latest check-in is ``latest``."""
    if revision is None:
        return GoalProgress(on=on, status=_CLOSED.get(state, ProgressStatus.NOT_AGREED))
    measured_on = latest.measured_on if latest is not None else None
    if revision.measure is MeasureKind.DONE_WHEN:
        done = bool(latest is not None and latest.done)
        status = _CLOSED.get(state) or (ProgressStatus.DONE if done else ProgressStatus.NOT_DONE)
        return GoalProgress(
            on=on, status=status, percent_complete=100 if done else 0, measured_on=measured_on, revision=revision
        )

    baseline, target = revision.baseline, revision.target
    if baseline is None or target is None:  # the service refuses a metric without both
        raise ValueError(f"metric revision {revision.id} has no baseline or target")
    expected = _expected(baseline, target, revision.agreed_on, revision.target_date, on)
    actual = latest.value if latest is not None else None
    if actual is None:
        return GoalProgress(
            on=on, status=_CLOSED.get(state, ProgressStatus.NO_DATA), expected=expected, revision=revision
        )
    behind_percent, status = _verdict(expected, actual, baseline, target, thresholds)
    complete = percent_of_planned_change(actual - baseline, baseline, target)
    return GoalProgress(
        on=on,
        status=_CLOSED.get(state, status),
        expected=expected,
        actual=actual,
        variance=actual - expected,
        behind_percent=behind_percent,
        percent_complete=int(max(Decimal(0), min(_HUNDRED, complete)).to_integral_value(rounding=ROUND_HALF_UP)),
        measured_on=measured_on,
        revision=revision,
    )


def latest_check_in(check_ins: Iterable[GoalCheckIn], on: date) -> GoalCheckIn | None:
    """Return the most recent check-in made on or before ``on`` (the last recorded wins on a tie)."""
    candidates = [c for c in check_ins if c.measured_on <= on]
    return max(candidates, key=lambda c: (c.measured_on, c.id or 0), default=None)


def goal_progress(goal: Goal, on: date, *, thresholds: Thresholds | None = None) -> GoalProgress:
    """Return ``goal``'s expected value, actual value, variance and status on ``on``.

    Uses the goal's loaded relationships (its revisions and check-ins); to show many
    goals at once, use :func:`progress_for`, which runs a constant number of queries.
    """
    return compute_progress(
        goal.state,
        goal.agreed_revision,
        latest_check_in(goal.check_ins, on),
        on,
        thresholds or Thresholds.from_config(),
    )


def progress_for(
    goals: Sequence[Goal], on: date, *, thresholds: Thresholds | None = None, agreed: Mapping[int, GoalRevision] | None = None
) -> dict[int, GoalProgress]:
    """Return the progress of every goal on ``on``, keyed by goal id, in two queries whatever their number (one with ``agreed``).

    Loads each goal's agreed revision (unless the caller has them: ``agreed``, by goal id)
    and its latest check-in on or before ``on``; it does not touch the goals'
    relationships, so nothing is lazily loaded per goal.
    """
    thresholds = thresholds or Thresholds.from_config()
    ids = [g.id for g in goals]
    if not ids:
        return {}
    if agreed is None:
        agreed = {
            revision.goal_id: revision
            for revision in db.session.scalars(
                select(GoalRevision)
                .join(Goal, and_(Goal.id == GoalRevision.goal_id, Goal.agreed_number == GoalRevision.number))
                .where(Goal.id.in_(ids))
            )
        }
    ranked = (
        select(
            GoalCheckIn.id,
            func.row_number()
            .over(partition_by=GoalCheckIn.goal_id, order_by=(GoalCheckIn.measured_on.desc(), GoalCheckIn.id.desc()))
            .label("rank"),
        )
        .where(GoalCheckIn.goal_id.in_(ids), GoalCheckIn.measured_on <= on)
        .subquery()
    )
    latest = {
        check_in.goal_id: check_in
        for check_in in db.session.scalars(
            select(GoalCheckIn).join(ranked, ranked.c.id == GoalCheckIn.id).where(ranked.c.rank == 1)
        )
    }
    return {
        goal.id: compute_progress(goal.state, agreed.get(goal.id), latest.get(goal.id), on, thresholds) for goal in goals
    }


# --- Many projects at once: statuses from plain rows ---------------------------------------------


class GoalStatus(NamedTuple):  # a named tuple: built thousands of times per dashboard, cheaply
    """The status of one goal on its project's day, as :func:`statuses_for_projects` reads it.

    The same ``status``, ``behind_percent`` and ``measured_on`` as :func:`goal_progress`
    would give; ``title`` is the title of the revision in force (None when not agreed).
    """

    goal_id: int
    project_id: int
    on: date
    status: ProgressStatus
    title: str | None = None
    behind_percent: Decimal | None = None
    measured_on: date | None = None


def _status_of(
    state: GoalState,
    measure: MeasureKind | None,
    baseline: Decimal | None,
    target: Decimal | None,
    start: date | None,
    target_date: date | None,
    actual: Decimal | None,
    done: bool | None,
    has_check_in: bool,
    on: date,
    thresholds: Thresholds,
) -> tuple[ProgressStatus, Decimal | None]:
    """Return the status and behind_percent :func:`compute_progress` gives, from plain values (no objects built)."""
    closed = _CLOSED.get(state)
    if measure is None:  # no agreed revision
        return closed or ProgressStatus.NOT_AGREED, None
    if measure is MeasureKind.DONE_WHEN:
        return closed or (ProgressStatus.DONE if has_check_in and done else ProgressStatus.NOT_DONE), None
    if actual is None or baseline is None or target is None or target_date is None:
        # No measurement yet. (A metric revision always has both ends and a date; compute_progress asserts it.)
        return closed or ProgressStatus.NO_DATA, None
    behind, status = _verdict(_expected(baseline, target, start, target_date, on), actual, baseline, target, thresholds)
    return closed or status, behind


def statuses_for_projects(
    project_ids: Iterable[int],
    days_by_project: dict[int, date],
    *,
    states: Iterable[GoalState] = (GoalState.AGREED,),
    thresholds: Thresholds | None = None,
) -> list[GoalStatus]:
    """Return the status of every goal in ``states`` of the projects, each on its project's day.

    The dashboards' fast path: the same statuses as :func:`goal_progress` (and
    :func:`progress_for`), read as plain rows — the revision in force's terms and the
    latest check-in on or before the day — in one query per distinct day (projects in
    different time zones may be on different days; usually there is one), with no ORM
    objects and no relationships. ``days_by_project`` must hold a day for every project.
    Goals come ordered by id.
    """
    thresholds = thresholds or Thresholds.from_config()
    by_day: dict[date, list[int]] = {}
    for project_id in project_ids:
        by_day.setdefault(days_by_project[project_id], []).append(project_id)
    states = list(states)
    found: list[GoalStatus] = []
    for day, ids in sorted(by_day.items()):
        latest = aliased(GoalCheckIn)
        latest_id = (
            select(latest.id)
            .where(latest.goal_id == Goal.id, latest.measured_on <= day)
            .order_by(latest.measured_on.desc(), latest.id.desc())
            .limit(1)
            .correlate(Goal)
            .scalar_subquery()
        )
        rows = db.session.execute(
            select(
                Goal.id,
                Goal.project_id,
                Goal.state,
                GoalRevision.title,
                GoalRevision.measure,
                GoalRevision.baseline,
                GoalRevision.target,
                GoalRevision.agreed_on,
                GoalRevision.target_date,
                GoalCheckIn.measured_on,
                GoalCheckIn.value,
                GoalCheckIn.done,
            )
            .outerjoin(GoalRevision, and_(GoalRevision.goal_id == Goal.id, GoalRevision.number == Goal.agreed_number))
            # the latest check-in on or before the day (the last recorded wins a tie), found by the goal_id index
            .outerjoin(GoalCheckIn, GoalCheckIn.id == latest_id)
            .where(Goal.project_id.in_(ids), Goal.state.in_(states))
            .order_by(Goal.id)
        ).all()
        for goal_id, project_id, state, title, measure, baseline, target, start, target_date, measured_on, value, done in rows:
            status, behind = _status_of(
                state, measure, baseline, target, start, target_date, value, done, measured_on is not None, day, thresholds
            )
            found.append(
                GoalStatus(
                    goal_id=goal_id,
                    project_id=project_id,
                    on=day,
                    status=status,
                    title=title if measure is not None else None,
                    behind_percent=behind,
                    # goal_progress reports the check-in's date for "done when" goals and measured metrics only
                    measured_on=measured_on if measure is MeasureKind.DONE_WHEN or behind is not None else None,
                )
            )
    found.sort(key=lambda s: s.goal_id)
    return found
