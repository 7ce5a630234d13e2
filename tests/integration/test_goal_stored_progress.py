"""Stored goal progress: the dashboards read each agreed goal's status, always the one computed, cheaply."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import time_machine
from sqlalchemy import select, update

from portal.extensions import db
from portal.goals import service, stored
from portal.goals.progress import ProgressStatus, statuses_for_projects
from portal.models import Goal, GoalState
from portal.timeutil import local_today, utcnow
from tests.integration.goals_support import agreed_goal


def todays(*projects) -> dict[int, object]:
    return {p.id: local_today(p.timezone, utcnow()) for p in projects}


def check_in(world, goal: Goal, value: int, days_ago: int = 0) -> None:
    today = local_today(goal.project.timezone, utcnow())
    service.record_check_in(world.manager, goal, measured_on=today - timedelta(days=days_ago), value=Decimal(value), today=today)
    db.session.commit()


def computed(*projects):
    return statuses_for_projects([p.id for p in projects], todays(*projects), states=(GoalState.AGREED,))


def test_refresh_stores_what_is_computed_and_readers_get_the_same(world):
    """After a refresh every agreed goal holds its status for its project's day; the reader returns exactly the computed list."""
    on_plan = agreed_goal(world.manager, world.own_client, world.project, title="On plan")
    behind = agreed_goal(world.manager, world.own_client, world.project, title="Behind")
    agreed_goal(world.other_manager, world.other_client, world.other_project, title="No check-in yet")
    check_in(world, on_plan, 125)
    check_in(world, behind, 60)
    assert stored.refresh(utcnow()) == 3
    rows = db.session.execute(select(Goal.id, Goal.progress_status, Goal.progress_on)).all()
    assert {status for _, status, _ in rows} == {"on_track", "off_track", "no_data"}
    assert all(on is not None for _, _, on in rows)
    projects = (world.project, world.other_project)
    assert stored.statuses([p.id for p in projects], todays(*projects)) == computed(*projects)
    off = stored.statuses([p.id for p in projects], todays(*projects), only=ProgressStatus.OFF_TRACK)
    assert [s.goal_id for s in off] == [behind.id] and off[0].title == "Behind" and off[0].behind_percent > 0
    assert stored.refresh(utcnow()) == 0  # everything fresh: nothing to store


def test_a_check_in_clears_the_stored_status_in_its_own_transaction(world):
    """A goal stored on track and then measured far behind reads off track at once, before any refresh."""
    goal = agreed_goal(world.manager, world.own_client, world.project)
    check_in(world, goal, 125)
    stored.refresh(utcnow())
    check_in(world, goal, 40)
    assert db.session.scalar(select(Goal.progress_on).where(Goal.id == goal.id)) is None
    (status,) = stored.statuses([world.project.id], todays(world.project))
    assert status.status is ProgressStatus.OFF_TRACK
    stored.refresh(utcnow())
    assert db.session.scalar(select(Goal.progress_status).where(Goal.id == goal.id)) == "off_track"


def test_a_new_day_makes_the_stored_status_stale_and_readers_compute_it(world):
    """The expected value moves every day: yesterday's stored status is not read today."""
    goal = agreed_goal(world.manager, world.own_client, world.project)
    check_in(world, goal, 121)  # just on plan today (120 expected)
    stored.refresh(utcnow())
    with time_machine.travel(utcnow() + timedelta(days=40), tick=False):  # ~155 expected by then
        (status,) = stored.statuses([world.project.id], todays(world.project))
        assert status.status is ProgressStatus.OFF_TRACK
        assert status == computed(world.project)[0]
        assert stored.refresh(utcnow()) == 1


def test_readers_use_the_stored_row_when_it_is_fresh(world, count_queries):
    """A fresh stored status is read, not recomputed: one query for any number of goals."""
    goals = [agreed_goal(world.manager, world.own_client, world.project, title=f"Goal {n}") for n in range(5)]
    for goal in goals:
        check_in(world, goal, 125)
    stored.refresh(utcnow())
    # Mark one as stored off track: a reader that recomputed would say on track.
    db.session.execute(update(Goal).where(Goal.id == goals[2].id).values(progress_status="off_track", progress_behind=Decimal(12)))
    db.session.commit()
    with count_queries() as q:
        off = stored.statuses([world.project.id], todays(world.project), only=ProgressStatus.OFF_TRACK)
    assert [s.goal_id for s in off] == [goals[2].id] and q.count <= 2  # the read and, at most, the transaction's first statement


def test_staff_home_lists_the_goal_off_track_whether_stored_or_not(make_web, world):
    """The off-track group of the staff home is right before the refresh and after it."""
    goal = agreed_goal(world.manager, world.own_client, world.project, title="Newsletter sign-ups")
    check_in(world, goal, 30)
    browser = make_web()
    browser.login(world.manager)
    assert "Newsletter sign-ups" in browser.text("/")
    stored.refresh(utcnow())
    assert "Newsletter sign-ups" in browser.text("/")
    check_in(world, goal, 130)
    assert "Newsletter sign-ups" not in browser.text("/").split("Goals off track", 1)[-1].split("</section>", 1)[0]


def test_the_refresh_command_stores_what_the_scheduler_would(world, runner):
    """`flask portal refresh-goal-progress` (named in the README and the migration) stores the statuses and says how many."""
    agreed_goal(world.manager, world.own_client, world.project)
    result = runner.invoke(args=["portal", "refresh-goal-progress"])
    assert result.exit_code == 0, result.output
    assert "1 goal statuses stored" in result.output
    assert db.session.scalar(select(Goal.progress_on)) is not None
    assert "0 goal statuses stored" in runner.invoke(args=["portal", "refresh-goal-progress"]).output
