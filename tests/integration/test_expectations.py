"""Expectation vs reality: staff notes, the weekly note, what clients see, and the chart."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import time_machine
from flask import current_app
from sqlalchemy import func, select

from portal.expectations import service
from portal.extensions import db
from portal.models import ExpectationNote, NoteSource, Visibility
from portal.timeutil import utcnow
from portal.updates.dispatch import dispatch_weekly
from portal.weekly.facts import Fact, expectation_facts

NOTE = {
    "expected": "Checkout live by 1 March, as promised at kick-off",
    "reality": "Checkout goes live on 20 March",
    "assessment": "worse",
    "variance": "three weeks late",
    "cause": "The payment provider took three weeks to approve the account",
    "impact": "The spring campaign starts later",
    "next_step": "Launch the campaign on 22 March",
    "visibility": "shared",
}


def write(world, **values) -> ExpectationNote:
    """Have the manager write a note through the service, and commit."""
    note = service.create_note(world.manager, world.project, {**NOTE, **values})
    db.session.commit()
    return note


def test_manager_writes_a_note_and_the_client_reads_it_in_the_log(web, make_web, world):
    """A shared note, with its cause, impact and next step, appears at the top of the log for the client."""
    web.login(world.manager)
    response = web.post(f"/projects/{world.project.id}/expectations/new", NOTE)
    assert response.status_code == 302
    client = make_web()
    client.login(world.own_client)
    page = client.text(f"/projects/{world.project.id}/expectations/")
    for text in ("Checkout live by 1 March", "three weeks late", "The spring campaign starts later", "Launch the campaign on 22 March", "Worse than expected"):
        assert text in page
    assert "Expectation vs reality" in client.text(f"/projects/{world.project.id}")


def test_a_slip_without_its_impact_on_the_client_is_refused(web, world):
    """Worse than expected needs "impact on the client" (principle 7); the form keeps what was typed."""
    web.login(world.manager)
    response = web.post(f"/projects/{world.project.id}/expectations/new", {**NOTE, "impact": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "every slip needs its impact" in page
    assert "Checkout live by 1 March, as promised at kick-off" in page
    assert db.session.scalar(select(func.count()).select_from(ExpectationNote)) == 0


def test_clients_see_shared_notes_only(web, make_web, world):
    """An internal note is in the staff's log and nowhere in the client's pages."""
    write(world, expected="Shared expectation")
    write(world, expected="Internal worry about the budget", visibility="internal", assessment="as_expected")
    client = make_web()
    client.login(world.own_client)
    for url in (f"/projects/{world.project.id}/expectations/", f"/projects/{world.project.id}"):
        page = client.text(url)
        assert "Shared expectation" in page and "Internal worry" not in page
    web.login(world.manager)
    page = web.text(f"/projects/{world.project.id}/expectations/")
    assert "Shared expectation" in page and "Internal worry about the budget" in page
    assert ">Internal<" in page


def test_log_is_newest_first(web, world):
    """The log lists the latest note first."""
    with time_machine.travel(datetime(2026, 3, 1, 10, tzinfo=UTC), tick=False):
        write(world, expected="Older expectation")
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=UTC), tick=False):
        write(world, expected="Newer expectation")
        web.login(world.manager)
        page = web.text(f"/projects/{world.project.id}/expectations/")
    assert page.index("Newer expectation") < page.index("Older expectation")


def test_an_internal_note_can_be_shared_but_not_unshared(web, world):
    """Sharing is one way: the client may have read a shared note."""
    note = write(world, visibility="internal")
    web.login(world.manager)
    assert web.post(f"/projects/{world.project.id}/expectations/{note.id}/edit", {**NOTE, "visibility": "shared"}).status_code == 302
    assert db.session.get(ExpectationNote, note.id).visibility is Visibility.SHARED
    response = web.post(f"/projects/{world.project.id}/expectations/{note.id}/edit", {**NOTE, "visibility": "internal"})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(ExpectationNote, note.id).visibility is Visibility.SHARED


def test_the_weekly_run_writes_one_note_per_project_and_week(world):
    """Writing the weekly note twice for one week keeps the first."""
    moment = datetime(2026, 3, 9, 6, tzinfo=UTC)
    args = {"iso_year": 2026, "iso_week": 11, "week_of": date(2026, 3, 9), "period_start": moment, "period_end": moment, "now": moment}
    assert service.write_weekly_note(world.project, **args) is not None
    db.session.commit()
    assert service.write_weekly_note(world.project, **args) is None
    count = db.session.scalar(select(func.count()).select_from(ExpectationNote).where(ExpectationNote.source == NoteSource.WEEKLY))
    assert count == 1


def test_weekly_notes_cannot_be_edited(web, world):
    """A note the weekly run wrote is a record: there is no form for it."""
    moment = utcnow()
    note = service.write_weekly_note(
        world.project, iso_year=2026, iso_week=11, week_of=date(2026, 3, 9), period_start=moment, period_end=moment, now=moment
    )
    db.session.commit()
    web.login(world.manager)
    assert web.get(f"/projects/{world.project.id}/expectations/{note.id}/edit").status_code == 404


# --- The chart ---------------------------------------------------------------------------


def test_chart_shows_its_empty_state_until_goals_are_measured(web, world):
    """Without any measured line, the chart says what will fill it."""
    web.login(world.own_client)
    page = web.text(f"/projects/{world.project.id}/expectations/")
    assert "No goal measurements yet" in page and "<svg" not in page


def test_chart_draws_expected_against_actual_from_a_plugged_in_provider(web, world):
    """A provider of expected and actual progress (as goals will register) fills the chart, week by week."""
    world.project.created_at = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.commit()
    actual = {10: 8.0, 11: 15.0, 12: 18.0}

    def goals(project, period_start, period_end, now):
        week = period_end.isocalendar()[1]
        return [
            Fact("goal_variance_test", "bad", {"goal_id": 1, "title": "Signups", "expected_pct": 10.0 * (week - 9), "actual_pct": actual[week]}),
            Fact("goal_variance_test", "progress", {"goal_id": 2, "title": "Speed", "expected_pct": 50.0, "actual_pct": 60.0}),
        ]

    expectation_facts.add(current_app, "test_goals", goals, order=5)
    try:
        for day in (2, 9, 16):
            with time_machine.travel(datetime(2026, 3, day, 6, 5, tzinfo=UTC), tick=False):
                dispatch_weekly(utcnow(), project_id=world.project.id)
    finally:
        expectation_facts.remove(current_app, "test_goals")

    with time_machine.travel(datetime(2026, 3, 16, 7, tzinfo=UTC), tick=False):
        web.login(world.own_client)
        page = web.text(f"/projects/{world.project.id}/expectations/")
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert 'role="img"' in svg and "Expected and actual progress across the goals" in svg
    assert 'class="xvr-expected" d="M' in svg and 'class="xvr-actual" d="M' in svg
    assert svg.count('class="xvr-dot-actual"') == 3
    assert "style=" not in svg and "<script" not in svg.lower()
    # The numbers behind it: week 11 averages (20 + 50) / 2 expected and (15 + 60) / 2 actual.
    assert re.search(r"<td>35%</td><td>37\.5%</td><td>2</td>", page)
    assert "2026-W11: actual 37.5%" in svg


def test_chart_draws_the_projects_own_goals_once_they_are_agreed_and_measured(web, world):
    """The goals registered by the app (no test provider) fill the chart: an agreed goal with a check-in is a point."""
    from decimal import Decimal

    from portal.goals import service as goals_service
    from tests.integration.goals_support import agreed_goal

    world.project.created_at = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.commit()
    with time_machine.travel(datetime(2026, 3, 2, 7, tzinfo=UTC), tick=False):
        goal = agreed_goal(world.manager, world.own_client, world.project, baseline=Decimal(0), target=Decimal(100),
                           unit="visits", target_date=date(2026, 4, 1), assumptions=[])
    with time_machine.travel(datetime(2026, 3, 9, 6, 5, tzinfo=UTC), tick=False):
        goals_service.record_check_in(world.manager, goal, measured_on=date(2026, 3, 8), value=Decimal(20))
        db.session.commit()
        dispatch_weekly(utcnow(), project_id=world.project.id)
        web.login(world.own_client)
        page = web.text(f"/projects/{world.project.id}/expectations/")
    # Expected on 9 March: 7 of 30 days, 23.3 %; actual 20 %.
    assert "<svg" in page and re.search(r"<td>23\.3%</td><td>20%</td><td>1</td>", page)


def test_log_queries_do_not_grow_with_notes(web, world, count_queries):
    """The log runs as many queries with 20 notes on the page as with 5."""
    web.login(world.manager)
    for i in range(5):
        write(world, expected=f"Expectation {i}")
    with count_queries() as few:
        web.text(f"/projects/{world.project.id}/expectations/")
    for i in range(5, 50):
        write(world, expected=f"Expectation {i}")
    with count_queries() as many:
        page = web.text(f"/projects/{world.project.id}/expectations/")
    assert "Expectation 49" in page
    assert many.count == few.count


def test_the_weekly_note_records_how_the_client_answered_last_weeks_update(world):
    """A concern raised on last week's update shows in this week's expectation note, as bad news."""
    from portal.models import AckChoice, Update, UpdateKind
    from portal.updates import service as updates_service

    world.project.created_at = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.commit()
    with time_machine.travel(datetime(2026, 3, 2, 6, 5, tzinfo=UTC), tick=False):
        dispatch_weekly(utcnow(), project_id=world.project.id)
    last_week = db.session.scalar(select(Update).where(Update.kind == UpdateKind.WEEKLY))
    with time_machine.travel(datetime(2026, 3, 3, 9, tzinfo=UTC), tick=False):
        updates_service.acknowledge(world.own_client, last_week, AckChoice.CONCERN, "Too slow")
        db.session.commit()
    with time_machine.travel(datetime(2026, 3, 9, 6, 5, tzinfo=UTC), tick=False):
        dispatch_weekly(utcnow(), project_id=world.project.id)
    note = db.session.scalar(select(ExpectationNote).where(ExpectationNote.iso_week == 11))
    [answers] = [f for f in note.facts if f["kind"] == "client_acknowledgements"]
    assert answers["severity"] == "bad"
    assert answers["params"] == {"updates": 1, "accurate": 0, "not_accurate": 0, "concern": 1, "unanswered": 0}
