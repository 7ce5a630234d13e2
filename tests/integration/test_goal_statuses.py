"""statuses_for_projects: the dashboards' fast path agrees with goal_progress on every kind of goal, in constant queries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.goals.progress import ProgressStatus, Thresholds, goal_progress, statuses_for_projects
from portal.models import Goal, GoalCheckIn, GoalRevision, GoalState, MeasureKind, Side

DAY = date(2026, 3, 1)
START = DAY - timedelta(days=50)  # agreed 50 days ago …
END = DAY + timedelta(days=50)  # … for a target in 50 days: halfway today
THRESHOLDS = Thresholds(at_risk=Decimal(10), off_track=Decimal(25))


def _goal(project, state=GoalState.AGREED, *, measure=MeasureKind.METRIC, baseline="100", target="200", agreed_on=START,
          target_date=END, check_ins=(), agreed=True, newer_proposal=False) -> Goal:
    """Add a goal with one revision (agreed unless ``agreed`` is false) and check-ins given as (day, value, done)."""
    goal = Goal(project_id=project.id, state=state, current_number=2 if newer_proposal else 1, agreed_number=1 if agreed else None)
    db.session.add(goal)
    db.session.flush()
    metric = measure is MeasureKind.METRIC
    db.session.add(GoalRevision(
        goal_id=goal.id, number=1, title=f"Goal {goal.id}", measure=measure, side=Side.AGENCY, target_date=target_date,
        baseline=Decimal(baseline) if metric and baseline is not None else None,
        target=Decimal(target) if metric and target is not None else None,
        done_when="" if metric else "The shop is live", agreed_on=agreed_on if agreed else None,
    ))
    if newer_proposal:  # new terms proposed, not agreed: the old ones stay in force
        db.session.add(GoalRevision(goal_id=goal.id, number=2, title="New terms", measure=MeasureKind.METRIC, side=Side.CLIENT,
                                    target_date=END, baseline=Decimal(0), target=Decimal(1)))
    for day, value, done in check_ins:
        db.session.add(GoalCheckIn(goal_id=goal.id, revision_number=1, measured_on=day,
                                   value=Decimal(value) if value is not None else None, done=done))
    db.session.flush()
    return goal


def _varied_goals(project) -> list[Goal]:
    """Goals of every kind and edge the status rules know (expected today: 150 on 100 → 200)."""
    metric = lambda *check_ins, **kw: _goal(project, check_ins=check_ins, **kw)  # noqa: E731
    return [
        metric((DAY, "150", None)),  # exactly on plan
        metric((DAY - timedelta(days=1), "160", None)),  # ahead
        metric((DAY, "140", None)),  # 10.0 % behind: still on track (strictly more is at risk)
        metric((DAY, "139.9", None)),  # 10.1 %: at risk
        metric((DAY, "139.96", None)),  # 10.04 → 10.0 after rounding: on track
        metric((DAY, "139.95", None)),  # 10.05 → 10.1 (half up): at risk
        metric((DAY, "125", None)),  # 25.0 %: at risk
        metric((DAY, "124", None)),  # 26 %: off track
        metric((DAY - timedelta(days=20), "150", None)),  # stale measurement: judged against today's plan
        metric((DAY + timedelta(days=1), "150", None)),  # only a future check-in: no data on the day
        metric(),  # no check-in: no data
        metric((DAY, None, None)),  # a check-in without a value: no data
        metric((DAY, "100", None), (DAY, "150", None)),  # two the same day: the last recorded wins
        metric((DAY - timedelta(days=3), "190", None), (DAY - timedelta(days=1), "110", None)),  # the latest wins, not the best
        metric((DAY, "2250", None), baseline="3000", target="1500"),  # lower is better, on plan
        metric((DAY, "2800", None), baseline="3000", target="1500"),  # lower is better, far behind
        metric((DAY, "1000", None), baseline="3000", target="1500"),  # lower is better, far ahead
        metric((DAY, "100", None), agreed_on=DAY + timedelta(days=3)),  # agreed after the day: the baseline is expected
        metric((DAY, "150", None), target_date=DAY - timedelta(days=5)),  # past its target date: the target is expected
        metric((DAY, "133.3333", None), agreed_on=DAY - timedelta(days=1), target_date=DAY + timedelta(days=2)),  # a third: rounded
        metric((DAY, "150", None), newer_proposal=True),  # the agreed terms, not the newer proposal
        _goal(project, measure=MeasureKind.DONE_WHEN, check_ins=[(DAY, None, True)]),
        _goal(project, measure=MeasureKind.DONE_WHEN, check_ins=[(DAY, None, False)]),
        _goal(project, measure=MeasureKind.DONE_WHEN),
        _goal(project, state=GoalState.PROPOSED, agreed=False),
        _goal(project, state=GoalState.DECLINED, agreed=False),
        _goal(project, state=GoalState.ACHIEVED, check_ins=[(DAY, "210", None)]),
        _goal(project, state=GoalState.MISSED, check_ins=[(DAY, "120", None)]),
        _goal(project, state=GoalState.DROPPED),
        _goal(project, state=GoalState.ACHIEVED, measure=MeasureKind.DONE_WHEN, check_ins=[(DAY, None, True)]),
    ]


def test_statuses_agree_with_goal_progress_on_varied_goals(make_project):
    """Status, how far behind, the check-in's date and the title in force: the same as goal_progress, goal by goal."""
    project = make_project()
    goals = _varied_goals(project)
    db.session.commit()
    found = statuses_for_projects([project.id], {project.id: DAY}, states=list(GoalState), thresholds=THRESHOLDS)
    assert [s.goal_id for s in found] == sorted(g.id for g in goals)
    by_id = {s.goal_id: s for s in found}
    for goal in goals:
        expected = goal_progress(goal, DAY, thresholds=THRESHOLDS)
        got = by_id[goal.id]
        assert (got.status, got.behind_percent, got.measured_on) == (
            expected.status, expected.behind_percent, expected.measured_on
        ), goal.id
        assert got.title == (expected.revision.title if expected.revision else None)
        assert got.project_id == project.id and got.on == DAY
    statuses = {s.status for s in found}
    assert statuses >= {ProgressStatus.ON_TRACK, ProgressStatus.AT_RISK, ProgressStatus.OFF_TRACK, ProgressStatus.NO_DATA,
                        ProgressStatus.DONE, ProgressStatus.NOT_DONE, ProgressStatus.NOT_AGREED, ProgressStatus.ACHIEVED,
                        ProgressStatus.MISSED, ProgressStatus.DROPPED}


def test_only_the_states_asked_for_and_the_projects_given(make_project):
    """The default is agreed goals; another project's goals never come back."""
    project, other = make_project(), make_project(name="Other")
    mine = _goal(project, check_ins=[(DAY, "150", None)])
    _goal(project, state=GoalState.PROPOSED, agreed=False)
    _goal(other, check_ins=[(DAY, "150", None)])
    db.session.commit()
    found = statuses_for_projects([project.id], {project.id: DAY}, thresholds=THRESHOLDS)
    assert [(s.goal_id, s.status) for s in found] == [(mine.id, ProgressStatus.ON_TRACK)]


def test_each_project_is_measured_on_its_own_day(make_project):
    """Two projects on different days (time zones): a check-in made on the later day only counts for that project."""
    early, late = make_project(name="Early"), make_project(name="Late")
    a = _goal(early, check_ins=[(DAY - timedelta(days=1), "150", None), (DAY, "100", None)])
    b = _goal(late, check_ins=[(DAY - timedelta(days=1), "150", None), (DAY, "100", None)])
    db.session.commit()
    days = {early.id: DAY - timedelta(days=1), late.id: DAY}
    found = {s.goal_id: s for s in statuses_for_projects([early.id, late.id], days, thresholds=THRESHOLDS)}
    for goal, day in ((a, days[early.id]), (b, days[late.id])):
        expected = goal_progress(goal, day, thresholds=THRESHOLDS)
        assert (found[goal.id].status, found[goal.id].measured_on, found[goal.id].on) == (expected.status, expected.measured_on, day)
    assert found[a.id].status is ProgressStatus.ON_TRACK and found[b.id].status is ProgressStatus.OFF_TRACK


@pytest.mark.parametrize("size", [5, 50])
def test_one_query_per_distinct_day_however_many_goals(make_project, count_queries, size):
    """5 or 50 projects with varied goals: one query for one day, two for two days."""
    projects = [make_project(name=f"Project {n}") for n in range(size)]
    for project in projects:
        _goal(project, check_ins=[(DAY, "150", None)])
        _goal(project, measure=MeasureKind.DONE_WHEN, check_ins=[(DAY, None, True)])
    db.session.commit()
    ids = [p.id for p in projects]
    with count_queries() as q:
        found = statuses_for_projects(ids, dict.fromkeys(ids, DAY), thresholds=THRESHOLDS)
    assert q.count == 1 and len(found) == 2 * size
    two_days = {pid: DAY - timedelta(days=n % 2) for n, pid in enumerate(ids)}
    with count_queries() as q:
        statuses_for_projects(ids, two_days, thresholds=THRESHOLDS)
    assert q.count == 2
