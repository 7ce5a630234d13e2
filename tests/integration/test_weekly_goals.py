"""Goals in the weekly update and the weekly expectation note: slips first with their variance, then the rest.

State is built through the goal service with the clock controlled; the weekly dispatch
composes the update, and the tests read what the client reads: the stored update and the email.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from portal.extensions import db
from portal.goals import service
from portal.goals.weekly import goal_facts, goal_lines
from portal.models import CloseOutcome, ExpectationNote, Goal, GoalState, NoteSource, OutboxEmail, Update, UpdateKind
from portal.timeutil import utcnow
from portal.updates.dispatch import dispatch_weekly
from tests.integration.goals_support import agreed_goal, propose

AGREED = datetime(2026, 10, 1, 7, tzinfo=UTC)
SLOT = datetime(2026, 11, 23, 6, tzinfo=UTC)  # Monday 09:00 in Istanbul, week 2026-W48
PERIOD = (SLOT - timedelta(days=7), SLOT)


def at(moment: datetime):
    """Freeze the clock at ``moment``."""
    return time_machine.travel(moment, tick=False)


def check_in(goal, manager, on: date, value: str) -> None:
    """Record an actual value through the service on ``on`` (noon in Istanbul) and commit."""
    with at(datetime.combine(on, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)):
        service.record_check_in(manager, goal, measured_on=on, value=Decimal(value))
        db.session.commit()


def dispatch(project, moment: datetime = SLOT + timedelta(minutes=1)):
    """Run the weekly dispatch as the scheduler would at ``moment``; return the stored weekly update."""
    with at(moment):
        dispatch_weekly(utcnow(), project_id=project.id)
    db.session.expire_all()
    return db.session.scalars(
        select(Update).where(Update.project_id == project.id, Update.kind == UpdateKind.WEEKLY).order_by(Update.id.desc())
    ).first()


def client_email(world, week: str = "2026-W48") -> OutboxEmail:
    """Return the weekly email the client received for ``week``."""
    return db.session.scalar(
        select(OutboxEmail).where(
            OutboxEmail.kind == "weekly",
            OutboxEmail.idempotency_key == f"weekly:{world.project.id}:{week}:{world.own_client.id}",
        )
    )


@pytest.fixture
def project(world):
    """The world's project, old enough to have its Monday 09:00 update."""
    world.project.created_at = datetime(2025, 1, 1, tzinfo=UTC)
    db.session.commit()
    return world.project


def test_an_off_track_goal_leads_the_update_with_its_variance_and_its_impact(world, project):
    """A goal behind plan is the first thing the client reads, in the goal's unit, with what it means for the target."""
    with at(AGREED):
        orders = agreed_goal(world.manager, world.own_client, project, title="More online orders",
                             baseline=Decimal(120), target=Decimal(200), unit="orders", target_date=date(2026, 12, 30))
        leads = agreed_goal(world.manager, world.own_client, project, title="Newsletter leads", assumptions=[],
                            baseline=Decimal(100), target=Decimal(300), unit="leads", target_date=date(2026, 12, 15))
        done = agreed_goal(world.manager, world.own_client, project, title="Old shop closed", assumptions=[],
                           baseline=Decimal(0), target=Decimal(10), unit="", target_date=date(2026, 12, 31))
        propose(world.manager, project, title="Faster checkout", assumptions=["Payment provider answers within a week"],
                baseline=Decimal(4000), target=Decimal(1500), unit="ms", target_date=date(2027, 3, 1))
    check_in(orders, world.manager, date(2026, 11, 20), "130")
    check_in(leads, world.manager, date(2026, 11, 20), "250")
    with at(datetime(2026, 11, 18, 9, tzinfo=UTC)):
        service.close_goal(world.manager, done, outcome=CloseOutcome.ACHIEVED)
        db.session.commit()

    update = dispatch(project)

    kinds = [f["kind"] for f in update.facts]
    assert kinds[0] == "goal_off_track"
    off = update.facts[0]["params"]
    # Expected on 23 November: 120 + 80 × 53/90 days = 167.11; actual 130: 37.11 orders (46.4 % of the change) behind.
    assert (off["expected"], off["actual"], off["variance"], off["behind_pct"]) == ("167.11", "130", "-37.11", 46.4)
    assert {"goal_awaiting_signature", "goal_assumption_open", "goal_closed", "goal_on_track", "goal_target_date"} <= set(kinds)

    body = client_email(world).text_body
    headings = ["OFF TRACK AND AT RISK", "WAITING FOR YOU", "DECIDED THIS WEEK", "PROGRESS", "COMING UP"]
    assert [body.index(h) for h in headings] == sorted(body.index(h) for h in headings)
    assert (
        "“More online orders” is off track: 130 orders on November 20, 2026, where 167.11 orders was expected by "
        "November 23, 2026 — 37.11 orders behind plan (46.4% of the planned change)."
    ) in body
    assert "Impact on you: at this pace the agreed target of 200 orders by December 30, 2026 will not be reached." in body
    assert "The goal “Faster checkout” waits for your signature" in body
    assert "waits for your confirmation: “Payment provider answers within a week”" in body
    assert "Goal achieved: “Old shop closed”." in body
    assert "“Newsletter leads” is ahead of plan: 250 leads on November 20, 2026" in body
    assert "The target date of “Newsletter leads” is December 15, 2026, in 22 days." in body
    assert "quiet week" not in body


def test_a_missed_goal_carries_its_reason_and_impact_and_the_page_shows_it(web, world, project):
    """Both sides confirmed a miss this week: the update says why and how it affects the client."""
    with at(AGREED):
        goal = agreed_goal(world.manager, world.own_client, project, title="Spring campaign leads", assumptions=[],
                           target_date=date(2026, 11, 30))
    with at(datetime(2026, 11, 17, 9, tzinfo=UTC)):
        closure = service.close_goal(world.manager, goal, outcome=CloseOutcome.MISSED,
                                     reason="The campaign budget was cut", impact="Fewer spring orders; we plan a summer push")
        db.session.commit()
        service.answer_closure(world.own_client, closure, accept=True)
        db.session.commit()

    update = dispatch(project)
    [fact] = [f for f in update.facts if f["kind"] == "goal_closed"]
    assert fact["severity"] == "bad" and fact["params"]["outcome"] == "missed"
    body = client_email(world).text_body
    assert "Goal missed, as both sides confirmed: “Spring campaign leads”." in body
    assert body.index("OFF TRACK AND AT RISK") < body.index("Goal missed"), "a missed goal is bad news: it leads"
    assert "Reason: The campaign budget was cut" in body
    assert "Impact on you: Fewer spring orders; we plan a summer push" in body

    with at(SLOT + timedelta(hours=2)):
        web.login(world.own_client)
        page = web.text(f"/projects/{project.id}/updates/{update.id}")
    assert "Goal missed, as both sides confirmed" in page and "Fewer spring orders; we plan a summer push" in page


def test_a_quiet_week_for_goals_still_says_so(world, project):
    """A goal closed long ago adds nothing: the week is quiet, and the email says so."""
    with at(AGREED):
        goal = agreed_goal(world.manager, world.own_client, project, assumptions=[])
        service.close_goal(world.manager, goal, outcome=CloseOutcome.ACHIEVED)
        db.session.commit()
    update = dispatch(project)
    assert update.facts == []
    assert "A quiet week: nothing changed that needs your attention." in client_email(world).text_body


def test_the_weekly_note_records_expected_against_actual_and_the_chart_draws_it(web, world, project):
    """Each week's note holds every agreed goal's expected and actual value; the chart plots them in percent."""
    with at(AGREED):
        goal = agreed_goal(world.manager, world.own_client, project, title="More online orders",
                           baseline=Decimal(120), target=Decimal(200), unit="orders", target_date=date(2026, 12, 30))
    check_in(goal, world.manager, date(2026, 11, 13), "140")
    dispatch(project, SLOT - timedelta(days=7) + timedelta(minutes=1))
    check_in(goal, world.manager, date(2026, 11, 20), "150")
    dispatch(project)

    notes = db.session.scalars(
        select(ExpectationNote).where(ExpectationNote.source == NoteSource.WEEKLY).order_by(ExpectationNote.week_of)
    ).all()
    assert [n.week_of for n in notes] == [date(2026, 11, 16), date(2026, 11, 23)]
    [line] = [f for f in notes[-1].facts if f["kind"] == "goal_variance"]
    params = line["params"]
    assert (params["expected"], params["actual"], params["variance"]) == ("167.11", "150", "-17.11")
    assert (params["expected_pct"], params["actual_pct"]) == (58.9, 37.5)
    assert line["severity"] == "bad"  # 21.4 % of the planned change behind: at risk

    with at(SLOT + timedelta(hours=1)):
        web.login(world.own_client)
        page = web.text(f"/projects/{project.id}/expectations/")
    assert "<svg" in page and page.count('class="xvr-dot-actual"') == 2
    assert "“More online orders”: expected 167.11 orders by November 23, 2026, actual 150 orders" in page
    assert "variance -17.11 orders" in page


@pytest.mark.parametrize("provider", [goal_facts, goal_lines])
def test_goal_providers_run_as_many_queries_for_50_goals_as_for_5(world, project, count_queries, provider):
    """The weekly update and the note read goals in a constant number of queries."""

    def add(n: int) -> None:
        with at(AGREED):
            for i in range(n):
                goal = agreed_goal(world.manager, world.own_client, project, title=f"Goal {i}", target_date=date(2026, 12, 1))
                if i % 3 == 0:
                    propose(world.manager, project, title=f"Proposal {i}")
                if i % 4 == 0:
                    service.close_goal(world.manager, goal, outcome=CloseOutcome.DROPPED, reason="Out of scope")
                    db.session.commit()
        with at(datetime(2026, 11, 20, 9, tzinfo=UTC)):
            for goal in db.session.scalars(select(Goal).where(Goal.project_id == project.id, Goal.state == GoalState.AGREED)):
                if goal.agreed_number is not None:
                    service.record_check_in(world.manager, goal, measured_on=date(2026, 11, 20), value=Decimal(150))
            db.session.commit()

    def count() -> tuple[int, int]:
        db.session.expire_all()
        with at(SLOT), count_queries() as queries:
            facts = provider(project, *PERIOD, SLOT)
        return queries.count, len(facts)

    add(5)
    few, few_facts = count()
    add(45)
    many, many_facts = count()
    assert many_facts > few_facts > 0
    assert many == few



def test_the_app_factory_registers_every_features_facts_for_web_scheduler_and_cli(runner, world, project):
    """`flask portal send-weekly` composes goal facts too: every feature adds its providers when the app is built."""
    from portal.weekly.facts import expectation_facts, weekly_facts

    assert {"goals", "deliverables", "assets"} <= set(weekly_facts.keys()) & set(expectation_facts.keys())
    with at(datetime(2026, 11, 20, 7, tzinfo=UTC)):
        agreed_goal(world.manager, world.own_client, project, title="Signed in time", assumptions=[])
    with at(datetime(2026, 11, 20, 8, tzinfo=UTC)):
        result = runner.invoke(args=["portal", "send-weekly", "--project", str(project.id), "--now"])
    assert result.exit_code == 0, result.output
    update = db.session.scalar(select(Update).where(Update.project_id == project.id, Update.kind == UpdateKind.WEEKLY))
    assert "goal_no_check_in" in [f["kind"] for f in update.facts]
