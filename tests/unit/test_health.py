"""Project health: the rules (goal variance, overdue items, silence), their edge cases, and constant queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.config import ConfigError
from portal.extensions import db
from portal.health import HealthStatus, ReasonKind, Rules, health_for
from portal.models import (
    AssetRequest,
    AssetRequestStatus,
    Deliverable,
    DeliverableStatus,
    Goal,
    GoalCheckIn,
    GoalRevision,
    GoalState,
    MeasureKind,
    Project,
    ProjectStatus,
    Side,
    Update,
    UpdateStatus,
)
from portal.timeutil import project_today

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def today(project: Project) -> date:
    """Return the project's calendar day at NOW (read in the project's own zone, as health is)."""
    return project_today(project, NOW)


@pytest.fixture
def project(make_project) -> Project:
    """A project created a month ago that published an update yesterday (so silence does not count)."""
    project = make_project(created_at=NOW - timedelta(days=30))
    speak(project, days_ago=1)
    return project


def speak(project: Project, *, days_ago: int, status: UpdateStatus = UpdateStatus.PUBLISHED) -> Update:
    """Add an update to ``project`` published ``days_ago`` days before NOW."""
    published_at = NOW - timedelta(days=days_ago) if status is UpdateStatus.PUBLISHED else None
    update = Update(project=project, title="News", body="Done", status=status, published_at=published_at)
    db.session.add(update)
    db.session.commit()
    return update


def goal_at(project: Project, actual: str | None, *, state: GoalState = GoalState.AGREED) -> Goal:
    """Add an agreed goal going from 100 to 200 whose expected value today is 150, with ``actual`` measured today."""
    goal = Goal(project=project, state=state, current_number=1, agreed_number=1, version=1)
    goal.revisions.append(
        GoalRevision(
            number=1,
            title="Orders",
            measure=MeasureKind.METRIC,
            baseline=Decimal(100),
            target=Decimal(200),
            target_date=today(project) + timedelta(days=50),
            side=Side.AGENCY,
            agreed_on=today(project) - timedelta(days=50),
            agreed_at=NOW - timedelta(days=50),
        )
    )
    if actual is not None:
        goal.check_ins.append(GoalCheckIn(revision_number=1, measured_on=today(project), value=Decimal(actual)))
    db.session.add(goal)
    db.session.commit()
    return goal


def late_deliverable(project: Project, days: int, status: DeliverableStatus = DeliverableStatus.IN_REVIEW) -> Deliverable:
    """Add a deliverable due ``days`` days ago (negative: in the future)."""
    deliverable = Deliverable(project=project, title="Homepage", due_date=today(project) - timedelta(days=days), status=status, lock_version=1)
    db.session.add(deliverable)
    db.session.commit()
    return deliverable


def late_request(project: Project, days: int, status: AssetRequestStatus = AssetRequestStatus.OPEN) -> AssetRequest:
    """Add an asset request due ``days`` days ago."""
    asset_request = AssetRequest(project=project, title="Logo", kinds=["images"], due_date=today(project) - timedelta(days=days), status=status, row_version=1)
    db.session.add(asset_request)
    db.session.commit()
    return asset_request


def health(project: Project, **rules):
    """Return the project's health at NOW."""
    return health_for([project], NOW, rules=Rules(**rules) if rules else None)[project.id]


def test_a_project_with_nothing_wrong_is_on_track(project):
    """No goal behind, nothing late, an update yesterday: on track, no reasons."""
    goal_at(project, "150")
    result = health(project)
    assert result.status == "on_track" and result.status is HealthStatus.ON_TRACK
    assert result.reasons == []
    assert (result.goals_total, result.goals_on_track) == (1, 1)
    assert result.summary == "Nothing is late or behind plan"


def test_the_worst_goal_decides(project):
    """A goal at risk makes the project at risk; one off track makes it off track, whatever the others do."""
    goal_at(project, "150")
    goal_at(project, "135")  # 15 % of the planned change behind: at risk
    result = health(project)
    assert result.status is HealthStatus.AT_RISK
    assert [(r.kind, r.count) for r in result.reasons] == [(ReasonKind.GOALS_AT_RISK, 1)]
    assert result.reasons[0].text == "1 goal is at risk"

    goal_at(project, "100")  # 50 % behind: off track
    goal_at(project, "110")
    result = health(project)
    assert result.status is HealthStatus.OFF_TRACK
    assert [r.kind for r in result.reasons] == [ReasonKind.GOALS_OFF_TRACK, ReasonKind.GOALS_AT_RISK]
    assert result.reasons[0].text == "2 goals are off track"
    assert (result.goals_total, result.goals_on_track) == (4, 1)


def test_goals_without_data_proposals_and_closed_goals_do_not_count(project):
    """No check-in yet, a proposal and a missed goal leave the project on track."""
    goal_at(project, None)
    goal_at(project, "100", state=GoalState.PROPOSED)
    goal_at(project, "100", state=GoalState.MISSED)
    result = health(project)
    assert result.status is HealthStatus.ON_TRACK
    assert (result.goals_total, result.goals_on_track) == (1, 0)  # the one without data is open but not on track


def test_one_overdue_item_is_at_risk_and_the_reason_gives_count_and_age(project):
    """A deliverable a few days late: at risk, "1 item is overdue, the oldest by 3 days"."""
    late_deliverable(project, 3)
    result = health(project)
    assert result.status is HealthStatus.AT_RISK
    assert result.overdue == 1
    reason = result.reasons[0]
    assert (reason.kind, reason.count, reason.days) == (ReasonKind.OVERDUE, 1, 3)
    assert reason.text == "1 item is overdue, the oldest by 3 days"


def test_many_overdue_items_or_a_very_late_one_is_off_track(project, make_project):
    """Three overdue items (deliverables and requests together), or one 14 days late, make a project off track."""
    late_deliverable(project, 1)
    late_request(project, 2)
    assert health(project).status is HealthStatus.AT_RISK
    late_request(project, 1, AssetRequestStatus.RETURNED)
    assert health(project).status is HealthStatus.OFF_TRACK
    assert health(project).reasons[0].text == "3 items are overdue, the oldest by 2 days"

    other = make_project(name="Other", created_at=NOW - timedelta(days=30))
    speak(other, days_ago=0)
    late_request(other, 13)
    assert health(other).status is HealthStatus.AT_RISK
    late_request(other, 14)
    assert health(other).status is HealthStatus.OFF_TRACK


def test_what_is_not_overdue(project):
    """Due today, approved, submitted, accepted or cancelled items are not overdue."""
    late_deliverable(project, 0)
    late_deliverable(project, 20, DeliverableStatus.APPROVED)
    late_request(project, 0)
    for status in (AssetRequestStatus.SUBMITTED, AssetRequestStatus.ACCEPTED, AssetRequestStatus.CANCELLED):
        late_request(project, 20, status)
    result = health(project)
    assert result.status is HealthStatus.ON_TRACK and result.overdue == 0


def test_overdue_is_read_in_the_projects_zone(make_project):
    """At 22:30 UTC it is already tomorrow in Istanbul: yesterday's due date there is overdue, not in Los Angeles."""
    late_evening = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)
    istanbul = make_project(name="Istanbul", timezone="Europe/Istanbul", created_at=late_evening - timedelta(days=30))
    angeles = make_project(name="Los Angeles", timezone="America/Los_Angeles", created_at=late_evening - timedelta(days=30))
    for p in (istanbul, angeles):
        db.session.add(Update(project=p, title="News", body="x", status=UpdateStatus.PUBLISHED, published_at=late_evening))
        db.session.add(Deliverable(project=p, title="Due on the 23rd", due_date=date(2026, 11, 23), status=DeliverableStatus.PREPARING, lock_version=1))
    db.session.commit()
    result = health_for([istanbul, angeles], late_evening)
    assert result[istanbul.id].status is HealthStatus.AT_RISK
    assert result[angeles.id].status is HealthStatus.ON_TRACK


def test_silence_for_seven_days_is_at_risk(make_project):
    """Six days after the last update is fine; seven is at risk, "No update for 7 days". Drafts do not count."""
    quiet = make_project(name="Quiet", created_at=NOW - timedelta(days=60))
    speak(quiet, days_ago=6)
    assert health(quiet).status is HealthStatus.ON_TRACK

    silent = make_project(name="Silent", created_at=NOW - timedelta(days=60))
    speak(silent, days_ago=7)
    speak(silent, days_ago=0, status=UpdateStatus.DRAFT)
    result = health(silent)
    assert result.status is HealthStatus.AT_RISK
    assert [(r.kind, r.days) for r in result.reasons] == [(ReasonKind.SILENCE, 7)]
    assert result.reasons[0].text == "No update for 7 days"
    assert result.last_update_at == NOW - timedelta(days=7)


def test_a_new_project_is_not_silent_yet_and_an_old_one_that_never_spoke_is(make_project):
    """Silence counts from the project's creation while it never had an update."""
    assert health(make_project(name="New", created_at=NOW - timedelta(days=2))).status is HealthStatus.ON_TRACK
    never = health(make_project(name="Never", created_at=NOW - timedelta(days=10)))
    assert never.status is HealthStatus.AT_RISK and never.reasons[0].text == "No update yet"


def test_silence_does_not_count_on_hold_or_completed(make_project):
    """A project on hold or completed is not expected to speak every week."""
    for status in (ProjectStatus.ON_HOLD, ProjectStatus.COMPLETED):
        assert health(make_project(name=status.value, status=status, created_at=NOW - timedelta(days=90))).status is HealthStatus.ON_TRACK


def test_reasons_come_worst_first(project, make_project):
    """Silence (at risk) comes after overdue items that made the project off track."""
    quiet = make_project(name="Quiet", created_at=NOW - timedelta(days=60))
    speak(quiet, days_ago=10)
    late_request(quiet, 20)
    goal_at(quiet, "135")
    result = health(quiet)
    assert result.status is HealthStatus.OFF_TRACK
    assert [r.kind for r in result.reasons] == [ReasonKind.OVERDUE, ReasonKind.GOALS_AT_RISK, ReasonKind.SILENCE]


def test_thresholds_are_configurable(project, app):
    """Rules come from PORTAL_HEALTH_* settings; nonsense refuses loudly."""
    late_request(project, 2)
    assert health(project, overdue_off_track_days=2).status is HealthStatus.OFF_TRACK
    app.config.update(HEALTH_SILENCE_DAYS="3", HEALTH_OVERDUE_OFF_TRACK_COUNT=5, HEALTH_OVERDUE_OFF_TRACK_DAYS=30)
    assert Rules.from_config() == Rules(silence_days=3, overdue_off_track_count=5, overdue_off_track_days=30)
    for bad in ("soon", 0, -1):
        app.config["HEALTH_SILENCE_DAYS"] = bad
        with pytest.raises(ConfigError):
            Rules.from_config()


def test_no_projects_no_queries(app, count_queries):
    """An empty list answers at once."""
    with count_queries() as q:
        assert health_for([], NOW) == {}
    assert q.count == 0


def test_queries_do_not_grow_with_projects(make_project, make_client, make_user, count_queries):
    """5 or 50 projects, each with goals, late items and updates: the same number of queries."""
    counts = []
    for size in (5, 50):
        org = make_client(f"Org {size}")
        manager = make_user()
        projects = [make_project(org, manager, name=f"P{size}-{i}", created_at=NOW - timedelta(days=30)) for i in range(size)]
        for p in projects:
            goal_at(p, "120")
            late_deliverable(p, 2)
            late_request(p, 5)
            speak(p, days_ago=9)
        projects = db.session.scalars(select(Project).where(Project.client_id == org.id)).all()  # as a page loads them
        with count_queries() as q:
            result = health_for(projects, NOW)
        assert all(h.status is HealthStatus.OFF_TRACK for h in result.values())
        counts.append(q.count)
    assert counts[0] == counts[1] <= 6, counts
