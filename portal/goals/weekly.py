"""What goals contribute to the weekly update and to the weekly expectation note (registered by ``portal.goals.init_app``).

Weekly update kinds (sentences in ``templates/goals/_facts.html``):

- ``goal_off_track`` / ``goal_at_risk`` (bad): an agreed goal behind plan, with the expected and
  actual values, the gap in the goal's unit and in percent of the planned change, and the
  agreed target it puts at risk.
- ``goal_on_track`` (progress): an agreed metric goal on plan or ahead.
- ``goal_done_when`` (progress): an agreed "done when" goal, done or not yet.
- ``goal_no_check_in`` (note): an agreed metric goal nobody has measured yet.
- ``goal_closed`` (decision; bad when missed): a goal achieved, missed or dropped in the period,
  with the reason and the impact on the client.
- ``goal_awaiting_signature`` (waiting): the latest proposal waits for the client's signature.
- ``goal_closure_waiting`` (waiting): the agency asks the client to confirm closing a goal.
- ``goal_assumption_open`` (waiting): an assumption not confirmed by the other side.
- ``goal_target_date`` (deadline): an agreed goal's target date within six weeks.

Expectation note kind: ``goal_variance`` — every agreed, open goal: expected and actual value on
the day, the variance, and ``expected_pct`` / ``actual_pct`` for the chart.

Numbers are stored as plain decimal strings (``"167.11"``) with the goal's ``unit``; the
template formats them in the reader's language (``goal_measure`` for entered values,
``goal_computed`` for computed ones, ``percentage`` for percentages).

Both providers take a whole batch of projects (``batch_provider``): one query for the goals of
every project, and the goals' rows and progress once per distinct project day in the batch (a
batch composed at one moment spans at most three calendar days, whatever its time zones).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select

from portal.extensions import db
from portal.goals.progress import GoalProgress, ProgressStatus, percent_of_planned_change, progress_for
from portal.goals.queries import GoalRow, goal_rows
from portal.goals.units import round_computed
from portal.models import (
    AssumptionStatus,
    ClosureStatus,
    Goal,
    GoalAssumption,
    GoalClosure,
    GoalRevision,
    GoalState,
    MeasureKind,
    Project,
    Side,
)
from portal.timeutil import local_today
from portal.urls import portal_path
from portal.weekly.facts import Fact, Period, batch_provider

# The kinds whose sentences are in templates/goals/_facts.html (portal.weekly.facts.fact_sentences).
SENTENCE_KINDS = frozenset(
    {
        "goal_off_track",
        "goal_at_risk",
        "goal_on_track",
        "goal_no_check_in",
        "goal_done_when",
        "goal_variance",
        "goal_closed",
        "goal_awaiting_signature",
        "goal_closure_waiting",
        "goal_assumption_open",
        "goal_target_date",
    }
)

TARGET_HORIZON = timedelta(weeks=6)
_OPEN = (GoalState.PROPOSED, GoalState.AGREED)


def number(value: Decimal | None, computed: bool = False) -> str | None:
    """Return a measure as a plain decimal string for a fact's params ("1250.5"), or None.

    ``computed`` values (the interpolated expectation, the variance) are rounded as every
    page rounds them (``round_computed``); values people entered are kept as they are.
    """
    if value is None:
        return None
    if computed:
        value = round_computed(value)
    return format(value.normalize(), "f")


def percent_of_plan(value: Decimal | None, revision: GoalRevision) -> float | None:
    """Return how far ``value`` is from the baseline towards the target, in percent (0 = baseline, 100 = target)."""
    if value is None or revision.baseline is None or revision.target is None or revision.target == revision.baseline:
        return None
    return round(float(percent_of_planned_change(value - revision.baseline, revision.baseline, revision.target)), 1)


def _link(goal: Goal) -> str:
    """Return the path of the goal's page."""
    return portal_path("goals.show", goal_id=goal.id)


def _measured(goal: Goal, progress: GoalProgress) -> dict[str, Any]:
    """Return the params every measured-goal fact carries."""
    revision = progress.revision
    if revision is None:  # only agreed goals are measured, and their progress carries the agreed revision
        raise ValueError(f"goal {goal.id} has no agreed revision to measure against")
    return {
        "goal_id": goal.id,
        "title": revision.title,
        "metric": revision.metric_name,
        "unit": revision.unit,
        "on": progress.on.isoformat(),
        "expected": number(progress.expected, computed=True),
        "actual": number(progress.actual),
        "variance": number(progress.variance, computed=True),
        "gap": number(abs(progress.variance), computed=True) if progress.variance is not None else None,
        "behind_pct": float(progress.behind_percent) if progress.behind_percent is not None else None,
        "measured_on": progress.measured_on.isoformat() if progress.measured_on else None,
        "baseline": number(revision.baseline),
        "target": number(revision.target),
        "target_date": revision.target_date.isoformat(),
        "status": progress.status.value,
    }


def _today(project: Project, now: datetime) -> date:
    """Return the project's calendar day at ``now``."""
    return local_today(project.timezone, now)


# --- The weekly update ---------------------------------------------------------------------


@batch_provider
def goal_facts(periods: Sequence[Period]) -> list[list[Fact]]:
    """Return how the projects' goals stand: slips first, then signatures and assumptions, decisions, progress, dates.

    A constant number of queries for the whole batch: the goals, their rows per distinct
    project day, the closures and the open assumptions.
    """
    found: dict[int, list[Goal]] = defaultdict(list)
    for goal in db.session.scalars(
        select(Goal)
        .where(
            Goal.project_id.in_(sorted({p.project.id for p in periods})),
            or_(
                Goal.state.in_(_OPEN),
                and_(Goal.closed_at >= min(p.period_start for p in periods), Goal.closed_at < max(p.period_end for p in periods)),
            ),
        )
        .order_by(Goal.id)
    ):
        found[goal.project_id].append(goal)
    chosen: list[list[Goal]] = []
    for period in periods:
        chosen.append([
            g for g in found.get(period.project.id, [])
            if g.state in _OPEN or (g.closed_at is not None and period.period_start <= g.closed_at < period.period_end)
        ])
    todays = [_today(period.project, period.now) for period in periods]
    # One goal_rows per project day (constant queries each): every goal of the batch on that day, in list order.
    by_day: dict[date, dict[int, Goal]] = defaultdict(dict)
    for goals, today in zip(chosen, todays, strict=True):
        by_day[today].update((g.id, g) for g in goals)
    rows_by_day: dict[tuple[date, int], list[GoalRow]] = defaultdict(list)  # (day, project): its rows, in list order
    for day, goals_of_day in by_day.items():
        for row in goal_rows(list(goals_of_day.values()), day) if goals_of_day else []:
            rows_by_day[(day, row.goal.project_id)].append(row)
    ids = sorted({g.id for goals in chosen for g in goals})
    if not ids:
        return [[] for _ in periods]
    closures = db.session.scalars(
        select(GoalClosure)
        .where(GoalClosure.goal_id.in_(ids), GoalClosure.status.in_((ClosureStatus.PENDING, ClosureStatus.CONFIRMED)))
        .order_by(GoalClosure.id)
    ).all()
    pending = {c.goal_id: c for c in closures if c.status is ClosureStatus.PENDING}
    confirmed = {c.goal_id: c for c in closures if c.status is ClosureStatus.CONFIRMED}  # the last one wins
    unconfirmed = sorted({r.goal.id for rows in rows_by_day.values() for r in rows if r.unconfirmed and not r.goal.state.is_closed})
    assumptions_of: dict[int, list[GoalAssumption]] = defaultdict(list)
    if unconfirmed:
        for assumption in db.session.scalars(
            select(GoalAssumption)
            .where(
                GoalAssumption.goal_id.in_(unconfirmed),
                GoalAssumption.removed_in.is_(None),
                GoalAssumption.status != AssumptionStatus.CONFIRMED,
            )
            .order_by(GoalAssumption.goal_id, GoalAssumption.id)
        ):
            assumptions_of[assumption.goal_id].append(assumption)
    results: list[list[Fact]] = []
    for period, goals, today in zip(periods, chosen, todays, strict=True):
        if not goals:
            results.append([])
            continue
        mine = {g.id for g in goals}
        rows = [r for r in rows_by_day[(today, period.project.id)] if r.goal.id in mine]
        assumptions = [
            a for goal_id in sorted(r.goal.id for r in rows if r.unconfirmed and not r.goal.state.is_closed)
            for a in assumptions_of.get(goal_id, [])
        ]
        results.append(_goal_facts(rows, today, pending, confirmed, assumptions))
    return results


def _goal_facts(
    rows: list[GoalRow],
    today: date,
    pending: dict[int, GoalClosure],
    confirmed: dict[int, GoalClosure],
    assumptions: list[GoalAssumption],
) -> list[Fact]:
    """Return one project's goal facts from its goals' rows (in list order) and their closures and open assumptions."""
    facts: list[Fact] = []
    titles: dict[int, str] = {}
    for row in rows:
        goal, progress = row.goal, row.progress
        titles[goal.id] = row.terms.title
        base = {"goal_id": goal.id, "title": row.terms.title}
        link = _link(goal)
        if goal.state.is_closed:
            closure = confirmed.get(goal.id)
            facts.append(
                Fact(
                    "goal_closed",
                    # A missed goal is bad news and leads the update (principle 6), with its impact.
                    "bad" if goal.state is GoalState.MISSED else "decision",
                    {
                        **base,
                        "outcome": goal.state.value,
                        "reason": closure.reason if closure else "",
                        "impact": closure.impact if closure else "",
                    },
                    link,
                )
            )
            continue
        if Side.CLIENT in row.waiting_for:
            facts.append(
                Fact(
                    "goal_awaiting_signature",
                    "waiting",
                    {**base, "title": row.current.title, "revision": row.current.number, "change": row.agreed is not None},
                    link,
                )
            )
        closure = pending.get(goal.id)
        if closure is not None and closure.side is Side.AGENCY:
            facts.append(
                Fact(
                    "goal_closure_waiting",
                    "waiting",
                    {**base, "outcome": closure.outcome.value, "reason": closure.reason, "impact": closure.impact},
                    link,
                )
            )
        if row.agreed is None:
            continue
        if progress.status in (ProgressStatus.OFF_TRACK, ProgressStatus.AT_RISK):
            facts.append(Fact(f"goal_{progress.status.value}", "bad", _measured(goal, progress), link))
        elif progress.status is ProgressStatus.ON_TRACK:
            facts.append(Fact("goal_on_track", "progress", _measured(goal, progress), link))
        elif progress.status is ProgressStatus.NO_DATA:
            facts.append(Fact("goal_no_check_in", "note", _measured(goal, progress), link))
        elif row.agreed.measure is MeasureKind.DONE_WHEN:
            facts.append(
                Fact(
                    "goal_done_when",
                    "progress",
                    {**base, "done": progress.status is ProgressStatus.DONE, "statement": row.agreed.done_when,
                     "measured_on": progress.measured_on.isoformat() if progress.measured_on else None},
                    link,
                )
            )
        days = (row.agreed.target_date - today).days
        if 0 <= days <= TARGET_HORIZON.days:
            facts.append(Fact("goal_target_date", "deadline", {**base, "date": row.agreed.target_date.isoformat(), "days": days}, link))

    for assumption in assumptions:
        facts.append(
            Fact(
                "goal_assumption_open",
                "waiting",
                {
                    "goal_id": assumption.goal_id,
                    "assumption_id": assumption.id,
                    "title": titles.get(assumption.goal_id, ""),
                    "assumption": assumption.text,
                    "status": assumption.status.value,
                    "answer_by": assumption.side.other.value,  # the side that confirms or denies it
                    "answer_note": assumption.answer_note,
                },
                portal_path("goals.show", goal_id=assumption.goal_id),
            )
        )
    return facts


# --- The weekly expectation note -----------------------------------------------------------


def measured_goals(project: Project) -> Sequence[Goal]:
    """Return the project's agreed, open goals (one query)."""
    return db.session.scalars(
        select(Goal).where(Goal.project_id == project.id, Goal.state == GoalState.AGREED).order_by(Goal.id)
    ).all()


@batch_provider
def goal_lines(periods: Sequence[Period]) -> list[list[Fact]]:
    """Return, for every agreed open goal, expected against actual on the day (one query, and two per distinct project day)."""
    found: dict[int, list[Goal]] = defaultdict(list)
    for goal in db.session.scalars(
        select(Goal)
        .where(Goal.project_id.in_(sorted({p.project.id for p in periods})), Goal.state == GoalState.AGREED)
        .order_by(Goal.id)
    ):
        found[goal.project_id].append(goal)
    todays = [_today(period.project, period.now) for period in periods]
    by_day: dict[date, dict[int, Goal]] = defaultdict(dict)
    for period, today in zip(periods, todays, strict=True):
        by_day[today].update((g.id, g) for g in found.get(period.project.id, []))
    progress_by_day = {day: progress_for(list(goals.values()), day) for day, goals in by_day.items() if goals}
    results = []
    for period, today in zip(periods, todays, strict=True):
        goals = found.get(period.project.id, [])
        results.append(_goal_lines(goals, progress_by_day[today]) if goals else [])
    return results


def _goal_lines(goals: Sequence[Goal], progress: dict[int, GoalProgress]) -> list[Fact]:
    """Return one project's goal lines from its agreed goals' progress."""
    lines = []
    for goal in goals:
        p = progress[goal.id]
        revision = p.revision
        if revision is None:
            continue
        link = _link(goal)
        if revision.measure is MeasureKind.DONE_WHEN:
            lines.append(
                Fact(
                    "goal_variance",
                    "progress" if p.status is ProgressStatus.DONE else "note",
                    {"goal_id": goal.id, "title": revision.title, "done": p.status is ProgressStatus.DONE,
                     "target_date": revision.target_date.isoformat(), "status": p.status.value},
                    link,
                )
            )
            continue
        params = _measured(goal, p)
        params["expected_pct"] = percent_of_plan(p.expected, revision)
        actual_pct = percent_of_plan(p.actual, revision)
        if actual_pct is not None:
            params["actual_pct"] = actual_pct
        severity = "bad" if p.status.needs_attention else ("note" if p.status is ProgressStatus.NO_DATA else "progress")
        lines.append(Fact("goal_variance", severity, params, link))
    return lines
