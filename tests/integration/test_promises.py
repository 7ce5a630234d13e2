"""Promises kept: every dated commitment becomes a promise; kept on time, kept late, renegotiated or broken.

The dates are the project's calendar days (Europe/Istanbul, as the test projects are). Each
test moves the clock with time_machine: a promise is made on one day and judged on a later one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.assets import service as assets
from portal.deliverables import service as deliverables
from portal.errors import Conflict, NotAllowed
from portal.extensions import db
from portal.goals import service as goals
from portal.models import (
    AckChoice,
    Assessment,
    CloseOutcome,
    ExpectationNote,
    Incident,
    NoteSource,
    PlanAcceptance,
    PreferredChannel,
    Promise,
    PromiseKind,
    PromiseSide,
    RecoveryStep,
    Role,
    Update,
    UpdateAcknowledgement,
    UpdateKind,
    UpdateStatus,
    Visibility,
)
from portal.promises import service
from portal.promises.queries import PromiseStatus, months_for
from portal.promises.weekly import promise_lines
from portal.timeutil import utcnow
from tests.integration.deliverables_support import make_deliverable, submit
from tests.integration.goals_support import agree, agreed_goal, terms

# Tuesday 10 November 2026, noon in Istanbul.
START = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def at(day: int, hour: int = 9) -> datetime:
    """Return a moment of November 2026 (UTC)."""
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def promises_of(kind: PromiseKind, source_id: int) -> list[Promise]:
    """Return every promise of one source, oldest first."""
    db.session.expire_all()
    return list(db.session.scalars(select(Promise).where(Promise.kind == kind, Promise.source_id == source_id).order_by(Promise.id)))


def lines(project, now: datetime, kind: PromiseKind | None = None):
    """Return the project's promise lines of this month (of ``kind``)."""
    month = months_for([project], now)[project.id]
    return [line for line in month.lines if kind is None or line.kind is kind]


def approve(approver, deliverable) -> None:
    """Submit a version and approve it."""
    version = submit(deliverable.project.manager, deliverable)
    deliverables.decide(approver, version, outcome="approve")
    db.session.commit()


@pytest.fixture
def clock():
    """Stand at START; ``clock.move_to(...)`` moves on."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


# --- Deliverables (the agency's) ---------------------------------------------------------------


def test_a_deliverable_approved_by_its_due_date_is_kept_on_time(world, clock):
    """The due date is a promise of the agency; an approval on the day keeps it."""
    deliverable = make_deliverable(world.manager, world.project, due_date=date(2026, 11, 20))
    (promise,) = promises_of(PromiseKind.DELIVERABLE, deliverable.id)
    assert (promise.side, promise.due_date, promise.is_open) == (PromiseSide.AGENCY, date(2026, 11, 20), True)
    assert [line.status for line in lines(world.project, START, PromiseKind.DELIVERABLE)] == [PromiseStatus.OPEN]

    clock.move_to(at(20))
    approve(world.own_client, deliverable)
    (line,) = lines(world.project, at(25), PromiseKind.DELIVERABLE)
    assert (line.status, line.kept_on) == (PromiseStatus.KEPT_ON_TIME, date(2026, 11, 20))


def test_a_deliverable_approved_after_its_date_is_kept_late_and_broken_until_then(world, clock):
    """Past its date and not approved: broken; approved later: kept late (on the day it was approved)."""
    deliverable = make_deliverable(world.manager, world.project, due_date=date(2026, 11, 12))
    clock.move_to(at(13))
    assert [line.status for line in lines(world.project, at(13), PromiseKind.DELIVERABLE)] == [PromiseStatus.BROKEN]
    month = months_for([world.project], at(13))[world.project.id]
    assert month.agency.broken >= 1

    clock.move_to(at(16))
    approve(world.own_client, deliverable)
    (line,) = lines(world.project, at(16), PromiseKind.DELIVERABLE)
    assert (line.status, line.kept_on) == (PromiseStatus.KEPT_LATE, date(2026, 11, 16))


def test_a_date_moved_by_staff_is_renegotiated_only_once_an_approver_agrees(world, clock):
    """Staff move the date: a proposal, measured against the first date until the client's approver agrees."""
    deliverable = make_deliverable(world.manager, world.project, due_date=date(2026, 11, 20))
    deliverables.update_deliverable(world.manager, deliverable, {"due_date": date(2026, 11, 27)})
    db.session.commit()
    (promise,) = promises_of(PromiseKind.DELIVERABLE, deliverable.id)
    assert (promise.due_date, promise.proposed_due, promise.is_open) == (date(2026, 11, 20), date(2026, 11, 27), True)
    assert lines(world.project, START, PromiseKind.DELIVERABLE)[0].proposed

    with pytest.raises(NotAllowed):
        service.agree(world.manager, promise, utcnow())  # the agency cannot agree with itself

    clock.move_to(at(18))
    service.agree(world.own_client, promise, utcnow())
    db.session.commit()
    old, new = promises_of(PromiseKind.DELIVERABLE, deliverable.id)
    assert (old.ended.value, old.agreed_by_id) == ("renegotiated", world.own_client.id)
    assert (new.due_date, new.is_open) == (date(2026, 11, 27), True)
    statuses = [(line.due, line.status) for line in lines(world.project, at(18), PromiseKind.DELIVERABLE)]
    assert statuses == [(date(2026, 11, 20), PromiseStatus.RENEGOTIATED), (date(2026, 11, 27), PromiseStatus.OPEN)]
    # Renegotiated promises neither count for nor against the agency.
    assert months_for([world.project], at(18))[world.project.id].tally(PromiseSide.AGENCY).counted == 0


def test_an_unagreed_new_date_leaves_the_first_date_standing(world, clock):
    """Without the client's agreement the first date is what is measured; once it passed, agreeing is refused."""
    deliverable = make_deliverable(world.manager, world.project, due_date=date(2026, 11, 12))
    deliverables.update_deliverable(world.manager, deliverable, {"due_date": date(2026, 11, 26)})
    db.session.commit()
    (promise,) = promises_of(PromiseKind.DELIVERABLE, deliverable.id)

    clock.move_to(at(14))
    assert [line.status for line in lines(world.project, at(14), PromiseKind.DELIVERABLE)] == [PromiseStatus.BROKEN]
    with pytest.raises(Conflict):
        service.agree(world.own_client, promise, utcnow())
    db.session.rollback()


def test_a_date_moved_after_it_passed_breaks_the_promise_and_makes_a_new_one(world, clock):
    """Moving a date that already passed does not renegotiate: the first promise is broken, the new date a new promise."""
    deliverable = make_deliverable(world.manager, world.project, due_date=date(2026, 11, 11))
    clock.move_to(at(13))
    deliverables.update_deliverable(world.manager, deliverable, {"due_date": date(2026, 11, 25)})
    db.session.commit()
    old, new = promises_of(PromiseKind.DELIVERABLE, deliverable.id)
    assert (old.ended.value, new.due_date, new.is_open) == ("broken", date(2026, 11, 25), True)


# --- Asset requests (the client's) -------------------------------------------------------------


def test_files_sent_by_the_due_date_keep_the_clients_promise(world, clock):
    """An asset request's due date is the client's promise, kept when the files arrive."""
    from tests.integration.asset_helpers import png_bytes, store_file

    request = assets.create_request(world.manager, world.project, title="Logo", kinds=["images"], due_date=date(2026, 11, 15))
    db.session.commit()
    (promise,) = promises_of(PromiseKind.ASSET_REQUEST, request.id)
    assert promise.side is PromiseSide.CLIENT

    clock.move_to(at(14))
    store_file(world.own_client, world.project, request, png_bytes(), "logo.png")
    db.session.commit()
    (line,) = lines(world.project, at(20), PromiseKind.ASSET_REQUEST)
    assert (line.side, line.status, line.kept_on) == (PromiseSide.CLIENT, PromiseStatus.KEPT_ON_TIME, date(2026, 11, 14))
    assert months_for([world.project], at(20))[world.project.id].client.kept_on_time == 1


def test_the_agency_moving_or_cancelling_a_request_renegotiates_at_once(world, clock):
    """The agency is owed the files: its new date or its cancelling, before the date passed, is agreed at once."""
    request = assets.create_request(world.manager, world.project, title="Photos", kinds=["images"], due_date=date(2026, 11, 15))
    db.session.commit()
    assets.update_request(world.manager, request, {"due_date": date(2026, 11, 22)})
    db.session.commit()
    old, new = promises_of(PromiseKind.ASSET_REQUEST, request.id)
    assert (old.ended.value, new.due_date) == ("renegotiated", date(2026, 11, 22))

    assets.cancel_request(world.manager, request)
    db.session.commit()
    assert [p.ended.value for p in promises_of(PromiseKind.ASSET_REQUEST, request.id)] == ["renegotiated", "renegotiated"]


def test_a_request_past_its_date_is_the_clients_broken_promise(world, clock):
    """No files by the date: broken, counted against the client."""
    assets.create_request(world.manager, world.project, title="Texts", kinds=["documents"], due_date=date(2026, 11, 11))
    db.session.commit()
    month = months_for([world.project], at(12))[world.project.id]
    assert (month.client.kept_on_time, month.client.counted, month.client.broken) == (0, 1, 1)


# --- Goals (the agency's) ----------------------------------------------------------------------


def test_an_agreed_goal_promises_its_target_date_and_achieving_it_keeps_it(world, clock):
    """A proposal promises nothing; once both sides agreed, the target date is a promise, kept when achieved."""
    goal = goals.propose_goal(world.manager, world.project, terms(target_date=date(2026, 11, 28)))
    db.session.commit()
    assert promises_of(PromiseKind.GOAL, goal.id) == []
    agree(goal, world.own_client)
    (promise,) = promises_of(PromiseKind.GOAL, goal.id)
    assert (promise.side, promise.due_date) == (PromiseSide.AGENCY, date(2026, 11, 28))

    clock.move_to(at(20))
    goals.close_goal(world.manager, goal, outcome=CloseOutcome.ACHIEVED)
    db.session.commit()
    (line,) = lines(world.project, at(20), PromiseKind.GOAL)
    assert (line.status, line.kept_on) == (PromiseStatus.KEPT_ON_TIME, date(2026, 11, 20))


def test_a_new_target_date_signed_by_both_sides_is_renegotiated(world, clock):
    """Goal dates change only through a revision both sides signed: that is an agreed renegotiation."""
    goal = agreed_goal(world.manager, world.own_client, world.project, target_date=date(2026, 11, 20))
    goals.revise_goal(world.manager, goal, terms(target_date=date(2026, 11, 29)), seen=goal.current_number, note="Photos arrived late")
    db.session.commit()
    assert [p.is_open for p in promises_of(PromiseKind.GOAL, goal.id)] == [True]  # not agreed yet: nothing changes
    agree(goal, world.own_client)
    old, new = promises_of(PromiseKind.GOAL, goal.id)
    assert (old.ended.value, new.due_date) == ("renegotiated", date(2026, 11, 29))


# --- The weekly slot (the agency's) ------------------------------------------------------------


def weekly(project, day: date, *, late: bool = False) -> Update:
    """Store the weekly update of the ISO week of ``day`` (as the dispatch does)."""
    year, week, _ = day.isocalendar()
    update = Update(
        project=project, kind=UpdateKind.WEEKLY, status=UpdateStatus.PUBLISHED, iso_year=year, iso_week=week, week_of=day,
        late=late, published_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=7),
    )
    db.session.add(update)
    db.session.commit()
    return update


def test_each_weekly_slot_is_a_promise_kept_on_time_late_or_broken(make_project, world):
    """Mondays at 09:00: sent on time, sent late, not sent (broken), and the slot still to come (open)."""
    project = make_project(world.own_org, world.manager, name="Weekly", weekly_weekday=0, weekly_hour=9, created_at=at(1))
    weekly(project, date(2026, 11, 2))
    weekly(project, date(2026, 11, 9), late=True)
    found = [(line.due, line.status) for line in lines(project, at(18), PromiseKind.WEEKLY_UPDATE)]
    assert found == [
        (date(2026, 11, 2), PromiseStatus.KEPT_ON_TIME),
        (date(2026, 11, 9), PromiseStatus.KEPT_LATE),
        (date(2026, 11, 16), PromiseStatus.BROKEN),
        (date(2026, 11, 23), PromiseStatus.OPEN),
        (date(2026, 11, 30), PromiseStatus.OPEN),
    ]
    tally = months_for([project], at(18))[project.id].agency
    assert (tally.kept_on_time, tally.counted) == (1, 3)


def test_weeks_before_the_project_or_while_it_is_on_hold_promise_nothing(make_project, world):
    """A project made mid-month has no slots before it; one on hold is not expected to report."""
    from portal.models import ProjectStatus

    late_start = make_project(world.own_org, world.manager, name="New", weekly_weekday=0, created_at=at(12))
    assert [line.due for line in lines(late_start, at(18), PromiseKind.WEEKLY_UPDATE)] == [date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30)]
    paused = make_project(world.own_org, world.manager, name="Paused", status=ProjectStatus.ON_HOLD, created_at=at(1))
    assert lines(paused, at(18), PromiseKind.WEEKLY_UPDATE) == []


# --- Recovery steps (the owner's) --------------------------------------------------------------


def incident_with_steps(world, *, visibility: Visibility = Visibility.SHARED) -> Incident:
    """An open incident with a step of the agency's (due the 15th) and one of the client's (due the 16th)."""
    incident = Incident(
        project=world.project, opened_by=world.manager, title="The shop was down", detected_at=utcnow(), impact="Lost orders", visibility=visibility
    )
    incident.steps.append(RecoveryStep(title="Restore the backup", due_on=date(2026, 11, 15), owner=world.manager))
    incident.steps.append(RecoveryStep(title="Check the orders", due_on=date(2026, 11, 16), owner_is_client=True))
    db.session.add(incident)
    db.session.commit()
    return incident


def test_recovery_steps_are_promises_of_their_owners(world, clock):
    """Each step of a shared incident's plan is its owner's promise, kept when done; internal incidents' steps are not shown."""
    incident = incident_with_steps(world)
    ours, theirs = incident.steps
    assert [p.side for p in promises_of(PromiseKind.RECOVERY_STEP, ours.id)] == [PromiseSide.AGENCY]
    assert [p.side for p in promises_of(PromiseKind.RECOVERY_STEP, theirs.id)] == [PromiseSide.CLIENT]

    clock.move_to(at(14))
    ours.done_at = utcnow()
    db.session.commit()
    statuses = {line.title: line.status for line in lines(world.project, at(17), PromiseKind.RECOVERY_STEP)}
    assert statuses == {"Restore the backup": PromiseStatus.KEPT_ON_TIME, "Check the orders": PromiseStatus.BROKEN}

    internal = incident_with_steps(world, visibility=Visibility.INTERNAL)
    assert promises_of(PromiseKind.RECOVERY_STEP, internal.steps[0].id) == []


def test_a_steps_new_date_is_agreed_when_the_client_accepts_the_plan(world, clock):
    """The client's own step moves at once; the agency's waits for the plan's acceptance."""
    incident = incident_with_steps(world)
    ours, theirs = incident.steps
    theirs.due_on = date(2026, 11, 19)
    ours.due_on = date(2026, 11, 18)
    incident.plan_version += 1
    db.session.commit()
    assert [p.ended.value if p.ended else None for p in promises_of(PromiseKind.RECOVERY_STEP, theirs.id)] == ["renegotiated", None]
    (proposed,) = promises_of(PromiseKind.RECOVERY_STEP, ours.id)
    assert (proposed.due_date, proposed.proposed_due) == (date(2026, 11, 15), date(2026, 11, 18))

    db.session.add(PlanAcceptance(incident=incident, plan_version=incident.plan_version, user=world.own_client))
    db.session.commit()
    old, new = promises_of(PromiseKind.RECOVERY_STEP, ours.id)
    assert (old.ended.value, old.agreed_by_id, new.due_date) == ("renegotiated", world.own_client.id, date(2026, 11, 18))


# --- What people see ---------------------------------------------------------------------------


def test_the_project_page_shows_promises_kept_on_time_per_side_with_links(world, web, clock):
    """ "Promises kept on time this month: agency 1/2, client 0/1", each side linking to its promises."""
    on_time = make_deliverable(world.manager, world.project, title="Kept", due_date=date(2026, 11, 11))
    make_deliverable(world.manager, world.project, title="Forgotten", due_date=date(2026, 11, 11))
    assets.create_request(world.manager, world.project, title="Logo", kinds=["images"], due_date=date(2026, 11, 11))
    db.session.commit()
    approve(world.own_client, on_time)
    clock.move_to(at(12))
    web.login(world.own_client)
    page = web.text(f"/projects/{world.project.id}")
    assert "Promises kept on time this month:" in page
    assert f'href="/projects/{world.project.id}/promises/?side=agency" data-promises-side="agency">agency 1/2</a>' in page
    assert f'href="/projects/{world.project.id}/promises/?side=client" data-promises-side="client">client 0/1</a>' in page

    listing = web.text(f"/projects/{world.project.id}/promises/?side=agency")
    assert "Kept" in listing and "Forgotten" in listing and "Kept on time" in listing and "Broken" in listing
    assert "Logo" not in listing
    assert "Logo" in web.text(f"/projects/{world.project.id}/promises/?side=client")


def test_an_approver_agrees_to_a_new_date_on_the_promises_page(world, web, clock):
    """The proposal is shown with a button to the approver; agreeing records it and the promise reads renegotiated."""
    deliverable = make_deliverable(world.manager, world.project, title="Landing page", due_date=date(2026, 11, 20))
    deliverables.update_deliverable(world.manager, deliverable, {"due_date": date(2026, 11, 27)})
    db.session.commit()
    (promise,) = promises_of(PromiseKind.DELIVERABLE, deliverable.id)
    web.login(world.own_client)
    page = web.text(f"/projects/{world.project.id}/promises/")
    assert "now proposed for" in page and "Agree to the new date" in page
    response = web.post(f"/projects/{world.project.id}/promises/{promise.id}/agree")
    assert response.status_code == 302
    page = web.text(response.headers["Location"])
    assert "You agreed to the new date." in page and "Renegotiated" in page and "Agree to the new date" not in page
    # A second time: nothing waits any more — a clear refusal, not a 500.
    again = web.post(f"/projects/{world.project.id}/promises/{promise.id}/agree")
    assert again.status_code == 409 and "no new date waiting" in again.get_data(as_text=True)


def test_a_promise_of_another_project_is_not_found(world, web):
    """The promise must belong to the project in the address."""
    deliverable = make_deliverable(world.manager, world.project, title="Ours", due_date=date(2027, 1, 20))
    (promise,) = promises_of(PromiseKind.DELIVERABLE, deliverable.id)
    web.login(world.other_client)
    assert web.post(f"/projects/{world.other_project.id}/promises/{promise.id}/agree").status_code == 404


def test_the_promises_page_is_in_turkish_for_a_turkish_reader(world, web, clock):
    """Statuses and headings in the reader's language."""
    make_deliverable(world.manager, world.project, title="Ana sayfa", due_date=date(2026, 11, 11))
    world.own_client.language = "tr"
    db.session.commit()
    clock.move_to(at(12))
    web.login(world.own_client)
    page = web.text(f"/projects/{world.project.id}/promises/")
    assert '<html lang="tr">' in page
    assert "Bu ay zamanında tutulan sözler:" in page and "Tutulmadı" in page


def test_the_promises_page_reads_the_same_number_of_queries_for_5_or_50_promises(world, web, count_queries, clock):
    """Queries do not grow with the promises listed."""
    counts = []
    web.login(world.manager)
    for n in (5, 50):
        for i in range(n):
            make_deliverable(world.manager, world.project, title=f"D{n}-{i}", due_date=date(2026, 11, 20))
        web.text(f"/projects/{world.project.id}/promises/")
        with count_queries() as q:
            web.text(f"/projects/{world.project.id}/promises/")
        counts.append(q.count)
    assert counts[0] == counts[1], counts


# --- The weekly expectation note ---------------------------------------------------------------


def test_the_weekly_note_says_how_many_promises_each_side_kept_on_time(world, app, clock):
    """Two lines, one per side, each linking to that side's promises."""
    from portal.weekly.facts import Period

    kept = make_deliverable(world.manager, world.project, title="Kept", due_date=date(2026, 11, 11))
    approve(world.own_client, kept)
    make_deliverable(world.manager, world.project, title="Late", due_date=date(2026, 11, 11))
    clock.move_to(at(16))
    facts = promise_lines.many([Period(world.project, at(9), at(16), at(16))])[0]
    agency, client = facts
    assert (agency.kind, agency.params["side"], agency.link) == ("promises_kept", "agency", f"/projects/{world.project.id}/promises/?side=agency")
    assert agency.params["kept"] == 1 and agency.params["total"] >= 2 and agency.severity == "bad"
    assert client.params == {"side": "client", "kept": 0, "total": 0, "broken": 0}

    from flask import render_template_string

    with app.test_request_context():
        text = render_template_string('{% from "promises/_facts.html" import headline %}{{ headline(f) }}', f=agency.to_json())
    assert text.startswith("Promises kept on time this month, agency: 1/")


def test_the_weekly_note_stores_the_promise_lines(world, clock):
    """The weekly run writes them into that week's expectation note."""
    from portal.updates.dispatch import dispatch_weekly

    clock.move_to(at(16, 7))  # Monday 10:00 in Istanbul, after the project's slot
    dispatch_weekly(utcnow(), project_id=world.project.id, force=True)
    note = db.session.scalars(
        select(ExpectationNote).where(ExpectationNote.project_id == world.project.id, ExpectationNote.source == NoteSource.WEEKLY)
    ).first()
    assert note is not None
    assert [f["params"]["side"] for f in note.facts if f["kind"] == "promises_kept"] == ["agency", "client"]


# --- The perception gap ------------------------------------------------------------------------


def answer(update: Update, person, choice: AckChoice, when: datetime, score: int | None = None) -> None:
    """Store a client's answer to an update at ``when``."""
    ack = UpdateAcknowledgement(update_id=update.id, user=person, choice=choice, comment="Not what we see", score=score, created_at=when, updated_at=when)
    db.session.add(ack)
    db.session.commit()


def published(project, when: datetime) -> Update:
    """A published manual update."""
    update = Update(project=project, title="Progress", body="All fine", status=UpdateStatus.PUBLISHED, published_at=when)
    db.session.add(update)
    db.session.commit()
    return update


def staff_home(make_web, manager) -> str:
    """Return the manager's home."""
    browser = make_web()
    browser.login(manager)
    return browser.text("/")


def test_three_weeks_of_the_client_disagreeing_while_we_say_all_is_well_flag_the_project(world, make_web, clock):
    """Concerns and low scores in two of the last three weeks, health on track, notes as expected: a call is suggested."""
    world.project.client.preferred_channel = PreferredChannel.PHONE
    db.session.add(ExpectationNote(project=world.project, author=world.manager, assessment=Assessment.AS_EXPECTED, expected="On plan", reality="On plan"))
    db.session.commit()
    clock.move_to(at(30))
    for days_ago, choice, score in ((18, AckChoice.CONCERN, None), (10, AckChoice.ACCURATE, 1), (2, AckChoice.NOT_ACCURATE, None)):
        answer(published(world.project, at(30) - timedelta(days=days_ago + 1)), world.own_client, choice, at(30) - timedelta(days=days_ago), score)
    page = staff_home(make_web, world.manager)
    assert "The client sees it differently" in page
    assert "answered negatively 3 times in three weeks" in page and "Suggest a phone call" in page


def test_one_bad_week_or_an_agency_that_says_it_is_worse_is_no_gap(world, make_web, clock):
    """A single week of concern is not a gap; nor is one the agency already called worse than expected."""
    clock.move_to(at(30))
    answer(published(world.project, at(27)), world.own_client, AckChoice.CONCERN, at(28))
    assert "The client sees it differently" not in staff_home(make_web, world.manager)

    answer(published(world.project, at(17)), world.own_client, AckChoice.CONCERN, at(18))
    assert "The client sees it differently" in staff_home(make_web, world.manager)
    db.session.add(ExpectationNote(project=world.project, author=world.manager, assessment=Assessment.WORSE, expected="Launch", reality="Delayed"))
    db.session.commit()
    assert "The client sees it differently" not in staff_home(make_web, world.manager)


def test_the_gap_suggests_the_clients_preferred_channel(world, make_web, clock):
    """Email, phone or a meeting, as the client's profile says."""
    clock.move_to(at(30))
    for days_ago in (16, 3):
        answer(published(world.project, at(30) - timedelta(days=days_ago + 1)), world.own_client, AckChoice.CONCERN, at(30) - timedelta(days=days_ago))
    world.project.client.preferred_channel = PreferredChannel.MEETING
    db.session.commit()
    assert "Suggest a meeting" in staff_home(make_web, world.manager)
    world.project.client.preferred_channel = PreferredChannel.EMAIL
    db.session.commit()
    assert "they prefer email" in staff_home(make_web, world.manager)


def test_the_gap_is_only_shown_to_staff_who_see_the_project(world, make_web, make_user, clock):
    """Another manager's home does not list it."""
    clock.move_to(at(30))
    for days_ago in (16, 3):
        answer(published(world.project, at(30) - timedelta(days=days_ago + 1)), world.own_client, AckChoice.CONCERN, at(30) - timedelta(days=days_ago))
    assert "The client sees it differently" not in staff_home(make_web, make_user(Role.MANAGER, name="Someone else"))
