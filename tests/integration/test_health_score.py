"""Health as a score that explains itself: each factor with its weight and its words; the status read from the score."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine

from portal.extensions import db
from portal.health import (
    AT_RISK_WEIGHT,
    OFF_TRACK_WEIGHT,
    HealthStatus,
    Reason,
    ReasonKind,
    health_for,
    status_for,
)
from portal.models import Deliverable, DeliverableStatus, Incident, RecoveryStep, Update, UpdateStatus, Visibility
from portal.timeutil import utcnow

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def health(project):
    """Return the project's health at NOW."""
    db.session.expire_all()
    return health_for([project], NOW)[project.id]


def spoke(project, days_ago: int = 1) -> None:
    """Publish an update ``days_ago`` days before NOW."""
    db.session.add(Update(project=project, title="News", body="x", status=UpdateStatus.PUBLISHED, published_at=NOW - timedelta(days=days_ago)))
    db.session.commit()


def test_the_status_is_read_from_the_score():
    """90 and up: on track; 40 and below: off track; between: at risk."""
    assert [status_for(score) for score in (100, 90, 89, 41, 40, 0)] == [
        HealthStatus.ON_TRACK, HealthStatus.ON_TRACK, HealthStatus.AT_RISK, HealthStatus.AT_RISK, HealthStatus.OFF_TRACK, HealthStatus.OFF_TRACK,
    ]


def test_weights_keep_the_old_rule_worst_signal_decides():
    """One off-track factor is off track; every at-risk factor together, with broken promises, is still at risk."""
    off = Reason(ReasonKind.OVERDUE, HealthStatus.OFF_TRACK, count=3, days=2)
    assert off.weight == OFF_TRACK_WEIGHT and status_for(100 - off.weight) is HealthStatus.OFF_TRACK
    at_risk = [Reason(kind, HealthStatus.AT_RISK) for kind in (ReasonKind.GOALS_AT_RISK, ReasonKind.OVERDUE, ReasonKind.SILENCE, ReasonKind.RECOVERING)]
    broken = Reason(ReasonKind.PROMISES_BROKEN, HealthStatus.ON_TRACK, count=9)
    assert all(r.weight == AT_RISK_WEIGHT for r in at_risk) and broken.weight == 10  # capped
    assert status_for(100 - sum(r.weight for r in at_risk) - broken.weight) is HealthStatus.AT_RISK
    assert status_for(100 - broken.weight) is HealthStatus.ON_TRACK


def test_a_project_with_nothing_wrong_scores_100(make_project):
    """No factor: 100, on track, and the words say so."""
    project = make_project(created_at=NOW - timedelta(days=2))
    result = health(project)
    assert (result.score, result.status, result.factors, result.summary) == (100, HealthStatus.ON_TRACK, [], "Nothing is late or behind plan")


def test_an_overdue_deliverable_costs_points_and_is_a_broken_promise(make_project):
    """A deliverable three days late: overdue (−12) and a promise broken this month (−5) — 83, at risk."""
    with time_machine.travel(NOW - timedelta(days=10), tick=False):
        project = make_project(created_at=NOW - timedelta(days=5))  # after the last Monday's slot: no weekly promise broken
        db.session.add(Deliverable(project=project, title="Homepage", due_date=date(2026, 11, 20), status=DeliverableStatus.IN_REVIEW, lock_version=1))
        db.session.commit()
    spoke(project)
    result = health(project)
    assert [(f.kind, f.weight) for f in result.factors] == [(ReasonKind.OVERDUE, 12), (ReasonKind.PROMISES_BROKEN, 5)]
    assert (result.score, result.status) == (83, HealthStatus.AT_RISK)
    assert [f.text for f in result.factors] == ["1 item is overdue, the oldest by 3 days", "1 promise broken this month"]
    assert [r.kind for r in result.reasons] == [ReasonKind.OVERDUE]  # the reasons of the status leave out what does not change it


def test_broken_promises_alone_lower_the_score_but_not_the_status(make_project):
    """Weekly slots missed (silence aside, as a manual update went out): on track, 90, and explained."""
    project = make_project(created_at=NOW - timedelta(days=40), weekly_weekday=0)
    spoke(project)
    result = health(project)
    assert result.status is HealthStatus.ON_TRACK
    assert [(f.kind, f.count) for f in result.factors] == [(ReasonKind.PROMISES_BROKEN, 3)]  # the 2nd, 9th and 16th
    assert result.score == 90 and result.factors[0].text == "3 promises broken this month"


def test_an_open_shared_incident_shows_recovery_progress(make_project, make_user):
    """ "Recovering — 2 of 5 steps done": at risk until the incident is closed; an internal one is not shown."""
    project = make_project(created_at=NOW - timedelta(days=2))
    manager = project.manager
    incident = Incident(project=project, opened_by=manager, title="Outage", detected_at=NOW, impact="Orders lost", visibility=Visibility.SHARED)
    for i in range(5):
        incident.steps.append(RecoveryStep(title=f"Step {i}", due_on=date(2026, 11, 30), owner=manager, done_at=utcnow() if i < 2 else None))
    db.session.add(incident)
    db.session.commit()
    result = health(project)
    assert result.status is HealthStatus.AT_RISK
    assert [f.text for f in result.factors] == ["Recovering — 2 of 5 steps done"]
    assert result.score == 100 - AT_RISK_WEIGHT

    incident.visibility = Visibility.INTERNAL
    db.session.commit()
    assert health(project).status is HealthStatus.ON_TRACK


def test_the_project_page_shows_the_score_and_each_factor_with_its_points(world, web):
    """Where health is shown: the score and the factors, each with the points it takes off."""
    incident = Incident(project=world.project, opened_by=world.manager, title="Outage", detected_at=utcnow(), impact="Orders lost")
    incident.steps.append(RecoveryStep(title="Restore", due_on=utcnow().date() + timedelta(days=3), owner=world.manager))
    db.session.add(incident)
    db.session.commit()
    web.login(world.own_client)
    page = web.text(f"/projects/{world.project.id}")
    assert "Score 88/100" in page
    assert 'data-health-factor="recovering">Recovering — 0 of 1 step done <span class="text-secondary">(−12 points)</span>' in page


def test_the_factors_are_in_turkish_for_a_turkish_reader(world, web):
    """The score and the factors' words in the reader's language."""
    incident = Incident(project=world.project, opened_by=world.manager, title="Kesinti", detected_at=utcnow(), impact="Sipariş kaybı")
    incident.steps.append(RecoveryStep(title="Geri yükle", due_on=utcnow().date() + timedelta(days=3), owner=world.manager))
    db.session.add(incident)
    world.own_client.language = "tr"
    db.session.commit()
    web.login(world.own_client)
    page = web.text(f"/projects/{world.project.id}")
    assert "Puan 88/100" in page and "Toparlanıyor — 1 adımdan 0 tamamlandı" in page and "(−12 puan)" in page
