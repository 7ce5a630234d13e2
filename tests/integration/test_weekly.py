"""The weekly update: due at each project's weekday and hour, once per week, bad news first, caught up after downtime.

The clock is controlled with time-machine; the database decides what is due.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import current_app
from sqlalchemy import func, select

from portal.expectations import service as expectations_service
from portal.extensions import db
from portal.models import (
    ExpectationNote,
    NoteSource,
    OutboxEmail,
    PreferredChannel,
    ProjectStatus,
    Role,
    Update,
    UpdateKind,
    WeeklyNote,
)
from portal.projects import service as projects_service
from portal.timeutil import utcnow
from portal.updates import dispatch, service
from portal.updates.dispatch import dispatch_weekly, due_weeklies, send_weekly
from portal.weekly.facts import Fact, weekly_facts
from tests.conftest import TEST_DATABASE_URL

ROOT = Path(__file__).resolve().parents[2]
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def make_weekly_project(make_client, make_user, make_project):
    """Return a builder of active projects with a weekly slot, one client member and a manager."""
    counter = iter(range(1, 1000))

    def build(timezone: str = "Europe/Istanbul", weekday: int = 0, hour: int = 9, *, created: datetime = LONG_AGO, members: int = 1, **values):
        n = next(counter)
        language = values.pop("language", "en")
        client = values.pop("client", None) or make_client(f"Client {n}", timezone=timezone)
        people = [make_user(Role.CLIENT, client, name=f"Person {n}.{i}", language=language) for i in range(members)]
        project = make_project(
            client,
            values.pop("manager", None),
            [(p, True) for p in people],
            name=values.pop("name", f"Project {n}"),
            timezone=timezone,
            weekly_weekday=weekday,
            weekly_hour=hour,
            **values,
        )
        project.created_at = created
        db.session.commit()
        return project

    return build


def weeklies(project=None) -> list[Update]:
    """Return the weekly updates (of one project), oldest first."""
    query = select(Update).where(Update.kind == UpdateKind.WEEKLY).order_by(Update.project_id, Update.period_end)
    if project is not None:
        query = query.where(Update.project_id == project.id)
    db.session.expire_all()
    return list(db.session.scalars(query))


def weekly_emails() -> list[OutboxEmail]:
    """Return the queued weekly emails."""
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "weekly").order_by(OutboxEmail.id)))


def run_at(moment: datetime, **kwargs):
    """Run the dispatcher as if it were ``moment``."""
    with time_machine.travel(moment, tick=False):
        return dispatch_weekly(utcnow(), **kwargs)


# --- When it is due -------------------------------------------------------------------


def test_update_goes_out_at_the_projects_weekday_and_hour_once(make_weekly_project):
    """Monday 09:00 Istanbul: nothing at 08:59, one update at 09:00, nothing more that week."""
    project = make_weekly_project("Europe/Istanbul", 0, 9, created=datetime(2026, 3, 3, tzinfo=UTC))
    assert run_at(datetime(2026, 3, 9, 5, 59, tzinfo=UTC)).sent == 0
    report = run_at(datetime(2026, 3, 9, 6, 0, tzinfo=UTC))
    assert (report.sent, report.late) == (1, 0)
    for moment in (datetime(2026, 3, 9, 6, 5, tzinfo=UTC), datetime(2026, 3, 12, 12, tzinfo=UTC), datetime(2026, 3, 16, 5, 59, tzinfo=UTC)):
        assert run_at(moment).sent == 0
    [update] = weeklies(project)
    assert (update.iso_year, update.iso_week, update.week_of) == (2026, 11, date(2026, 3, 9))
    assert update.period_end == datetime(2026, 3, 9, 6, tzinfo=UTC) and not update.late
    assert run_at(datetime(2026, 3, 16, 6, 0, tzinfo=UTC)).sent == 1
    assert [u.week_label for u in weeklies(project)] == ["2026-W11", "2026-W12"]
    # Each update covers the week since the previous one, with no gap and no overlap.
    first, second = weeklies(project)
    assert second.period_start == first.period_end


SCENARIOS = {
    # (zone, weekday, hour): slots across a DST change, or at the edge of the week
    "london-skipped-hour": ("Europe/London", 6, 1),  # 01:00 does not exist on 29 March
    "london-repeated-hour": ("Europe/London", 6, 1),  # 01:00 happens twice on 25 October
    "new-york-skipped-hour": ("America/New_York", 6, 2),  # 02:00 does not exist on 8 March
    "new-york-repeated-hour": ("America/New_York", 6, 1),  # 01:00 happens twice on 1 November
    "auckland-repeated-hour": ("Pacific/Auckland", 6, 2),  # southern autumn: 02:00 twice on 5 April
    "istanbul": ("Europe/Istanbul", 0, 9),
    "kathmandu-quarter-hour": ("Asia/Kathmandu", 4, 17),
    "kiritimati-monday-midnight": ("Pacific/Kiritimati", 0, 0),  # UTC+14: Sunday in UTC
    "pago-pago-sunday-late": ("Pacific/Pago_Pago", 6, 23),  # UTC-11: Monday in UTC
}


@pytest.mark.parametrize(
    ("start", "weeks"),
    [(datetime(2026, 3, 1, tzinfo=UTC), 6), (datetime(2026, 10, 18, tzinfo=UTC), 3)],
    ids=["spring-2026", "autumn-2026"],
)
def test_exactly_one_update_per_week_across_dst_and_time_zones(make_weekly_project, start, weeks):
    """Run the dispatcher every hour across the DST changes: each project gets one update per local week, on time."""
    projects = {name: make_weekly_project(zone, weekday, hour, created=start) for name, (zone, weekday, hour) in SCENARIOS.items()}
    end = start + timedelta(weeks=weeks)
    moment = start
    with time_machine.travel(start, tick=False) as clock:
        while moment <= end:
            clock.move_to(moment)
            report = dispatch_weekly(utcnow())
            assert report.failed == report.busy == 0
            moment += timedelta(hours=1)

    for name, project in projects.items():
        zone = ZoneInfo(project.timezone)
        updates = weeklies(project)
        keys = [(u.iso_year, u.iso_week) for u in updates]
        assert len(keys) == len(set(keys)), f"{name}: a week was sent twice"
        # The expected slots, found day by day in the project's own calendar.
        expected = []
        day = (start - timedelta(days=1)).astimezone(zone).date()
        while day <= (end + timedelta(days=1)).astimezone(zone).date():
            if day.weekday() == project.weekly_weekday:
                at = datetime(day.year, day.month, day.day, project.weekly_hour, tzinfo=zone).astimezone(UTC)
                if start < at <= end:
                    expected.append(at)
            day += timedelta(days=1)
        assert [u.period_end for u in updates] == expected, name
        for update in updates:
            local = update.period_end.astimezone(zone)
            assert local.weekday() == project.weekly_weekday, name
            assert local.date() == update.week_of and local.isocalendar()[:2] == (update.iso_year, update.iso_week), name
            assert not update.late, f"{name}: sent late"
            assert update.published_at - update.period_end < timedelta(hours=1), name

    # The DST cases land on the instant the rules give.
    london = weeklies(projects["london-skipped-hour"])
    if start.month == 3:
        assert datetime(2026, 3, 29, 1, tzinfo=UTC) in [u.period_end for u in london]  # 02:00 BST, the hour after the gap
        assert datetime(2026, 3, 8, 7, tzinfo=UTC) in [u.period_end for u in weeklies(projects["new-york-skipped-hour"])]
    else:
        assert datetime(2026, 10, 25, 0, tzinfo=UTC) in [u.period_end for u in london]  # the first 01:00 (BST)
        assert datetime(2026, 11, 1, 5, tzinfo=UTC) in [u.period_end for u in weeklies(projects["new-york-repeated-hour"])]

    # One email per recipient and update: the client member and the manager's copy.
    counts = Counter(email.idempotency_key for email in weekly_emails())
    assert set(counts.values()) == {1}
    assert len(counts) == 2 * len(weeklies())


def test_a_project_created_after_this_weeks_slot_waits_for_next_week(make_weekly_project):
    """A project created on Tuesday gets its first update next Monday, not a late one for this week."""
    project = make_weekly_project("Europe/Istanbul", 0, 9, created=datetime(2026, 3, 10, 8, tzinfo=UTC))
    assert run_at(datetime(2026, 3, 11, 8, tzinfo=UTC)).sent == 0
    assert run_at(datetime(2026, 3, 16, 6, 1, tzinfo=UTC)).sent == 1
    assert len(weeklies(project)) == 1


def test_paused_archived_and_planned_projects_get_no_update(make_weekly_project):
    """Only active projects of active clients are sent an update."""
    paused = make_weekly_project(status=ProjectStatus.ON_HOLD)
    planned = make_weekly_project(status=ProjectStatus.PLANNED)
    archived = make_weekly_project()
    archived.archived_at = LONG_AGO
    gone_client = make_weekly_project()
    gone_client.client.archived_at = LONG_AGO
    db.session.commit()
    assert run_at(datetime(2026, 3, 9, 7, tzinfo=UTC)).sent == 0
    assert weeklies() == []
    assert paused.status is ProjectStatus.ON_HOLD and planned.status is ProjectStatus.PLANNED


# --- Downtime -------------------------------------------------------------------------


def test_a_dispatcher_stopped_three_weeks_catches_up_once_per_missed_week(make_weekly_project):
    """After three weeks down, each missed week is sent once, oldest first, marked late; a re-run sends nothing."""
    project = make_weekly_project("Europe/Istanbul", 0, 9)
    assert run_at(datetime(2026, 3, 9, 6, 5, tzinfo=UTC)).sent == 1
    # Down from Monday 9 March until Wednesday 1 April.
    report = run_at(datetime(2026, 4, 1, 10, tzinfo=UTC))
    assert (report.sent, report.late) == (3, 3)
    updates = weeklies(project)
    assert [u.week_label for u in updates] == ["2026-W11", "2026-W12", "2026-W13", "2026-W14"]
    assert [u.late for u in updates] == [False, True, True, True]
    for before, after in pairwise(updates):
        assert after.period_start == before.period_end  # each week covers its own week
    assert run_at(datetime(2026, 4, 1, 10, 5, tzinfo=UTC)).sent == 0
    counts = Counter(email.idempotency_key for email in weekly_emails())
    assert set(counts.values()) == {1} and len(counts) == 2 * 4
    late_email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.idempotency_key.like("%2026-W12%")).limit(1))
    assert "This update is late: it was due on March 16, 2026." in late_email.text_body
    # Each week also has its expectation note, which records the delay.
    notes = db.session.scalars(
        select(ExpectationNote).where(ExpectationNote.source == NoteSource.WEEKLY).order_by(ExpectationNote.week_of)
    ).all()
    assert [(n.iso_week, n.facts[0]["kind"]) for n in notes] == [
        (11, "weekly_update_on_time"),
        (12, "weekly_update_late"),
        (13, "weekly_update_late"),
        (14, "weekly_update_late"),
    ]


def test_missed_weeks_go_out_in_order_even_when_one_fails(make_weekly_project):
    """If a missed week fails, the weeks after it wait: no week is skipped, and the next run sends them in order."""
    project = make_weekly_project()
    run_at(datetime(2026, 3, 9, 6, 5, tzinfo=UTC))
    failing = {"week": 12}

    def flaky(project, period_start, period_end, now):
        if period_end.isocalendar()[1] == failing["week"]:
            raise RuntimeError("temporary failure")
        return []

    weekly_facts.add(current_app, "test_flaky", flaky, order=5)
    try:
        report = run_at(datetime(2026, 3, 25, 10, tzinfo=UTC))
        assert (report.sent, report.failed) == (0, 1)
        assert [u.week_label for u in weeklies(project)] == ["2026-W11"]
        failing["week"] = None
        assert run_at(datetime(2026, 3, 25, 10, 5, tzinfo=UTC)).sent == 2
    finally:
        weekly_facts.remove(current_app, "test_flaky")
    assert [u.week_label for u in weeklies(project)] == ["2026-W11", "2026-W12", "2026-W13"]


def test_a_new_project_does_not_get_a_backlog(make_weekly_project):
    """A project that never had an update gets this week's only, however long ago it was created."""
    project = make_weekly_project(created=datetime(2026, 1, 1, tzinfo=UTC))
    assert run_at(datetime(2026, 3, 11, 10, tzinfo=UTC)).sent == 1
    assert [u.week_label for u in weeklies(project)] == ["2026-W11"]


def test_catch_up_is_capped(app, make_weekly_project):
    """After months down, a project gets at most PORTAL_WEEKLY_MAX_CATCH_UP_WEEKS late updates."""
    app.config["WEEKLY_MAX_CATCH_UP_WEEKS"] = 2
    project = make_weekly_project()
    run_at(datetime(2026, 1, 5, 7, tzinfo=UTC))
    assert run_at(datetime(2026, 4, 1, 10, tzinfo=UTC)).sent == 2
    assert [u.week_label for u in weeklies(project)] == ["2026-W02", "2026-W13", "2026-W14"]


def test_weeks_a_project_was_on_hold_are_not_caught_up(make_weekly_project, make_user):
    """Put on hold, then active again: no late updates for the weeks it was paused, only the current one."""
    project = make_weekly_project()
    run_at(datetime(2026, 3, 2, 7, tzinfo=UTC))
    admin = make_user(Role.ADMIN)
    with time_machine.travel(datetime(2026, 3, 4, 10, tzinfo=UTC), tick=False):
        projects_service.update_project(admin, project, {"status": "on_hold"})
        db.session.commit()
    run_at(datetime(2026, 3, 16, 7, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 3, 25, 10, tzinfo=UTC), tick=False):
        projects_service.update_project(admin, project, {"status": "active"})
        db.session.commit()
    assert run_at(datetime(2026, 3, 30, 7, tzinfo=UTC)).sent == 1
    assert [u.week_label for u in weeklies(project)] == ["2026-W10", "2026-W14"]


# --- Two dispatchers at once ---------------------------------------------------------------


def test_two_dispatchers_in_threads_send_one_update_and_one_email_per_recipient(app, make_weekly_project, monkeypatch):
    """Two threads dispatch the same week at once: one update, one email per recipient; the loser skips."""
    project = make_weekly_project(members=2)
    composing = threading.Event()
    second_found_it_due = threading.Event()

    def hold(project, period_start, period_end, now):
        # The first dispatcher holds its claim until the second one has found the week due, so they overlap.
        if not composing.is_set():
            composing.set()
            second_found_it_due.wait(timeout=10)
        return []

    def due_then_tell(*args, **kwargs):
        items = due_weeklies(*args, **kwargs)
        if threading.current_thread().name == "second":
            second_found_it_due.set()
        return items

    weekly_facts.add(current_app, "test_hold", hold, order=1)
    monkeypatch.setattr(dispatch, "due_weeklies", due_then_tell)
    moment = datetime(2026, 3, 9, 6, 1, tzinfo=UTC)
    reports = {}

    def dispatcher() -> None:
        with app.app_context():
            if threading.current_thread().name == "second":
                composing.wait(timeout=10)
            try:
                reports[threading.current_thread().name] = dispatch_weekly(moment)
            finally:
                db.session.remove()

    try:
        threads = [threading.Thread(target=dispatcher, name=name) for name in ("first", "second")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads), "a dispatcher hung"
    finally:
        weekly_facts.remove(current_app, "test_hold")
    assert sum(r.sent for r in reports.values()) == 1, reports
    # They really overlapped: the second found the week due, and lost the claim to the first.
    assert reports["second"].skipped + reports["second"].busy == 1, reports
    assert sum(r.failed for r in reports.values()) == 0, reports
    assert len(weeklies(project)) == 1
    counts = Counter(email.to_address for email in weekly_emails())
    assert len(counts) == 3 and set(counts.values()) == {1}  # two client members and the manager


def test_a_claim_lost_to_another_dispatcher_sends_nothing(make_weekly_project):
    """A dispatcher that found the week due, but lost it to another before inserting, skips it cleanly."""
    project = make_weekly_project()
    moment = datetime(2026, 3, 9, 6, 1, tzinfo=UTC)
    [item] = due_weeklies(moment)
    assert send_weekly(item, moment) == 2  # the other dispatcher: client member and manager
    assert send_weekly(item, moment) is None  # this one: the unique key refuses its claim
    assert len(weeklies(project)) == 1 and len(weekly_emails()) == 2


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="two processes need PostgreSQL (PORTAL_TEST_DATABASE_URL)")
@pytest.mark.postgres
def test_two_dispatcher_processes_on_postgresql_send_each_week_once(database_url, make_weekly_project, tmp_path):
    """Two `flask portal send-weekly` processes started together: every project gets one update, one email per recipient."""
    projects = [make_weekly_project(created=datetime(2026, 1, 1, tzinfo=UTC)) for _ in range(30)]
    env = {**os.environ, "PORTAL_ENV": "testing", "PORTAL_SECRET_KEY": "test", "PORTAL_DATABASE_URL": database_url,
           "PORTAL_MAIL_DIR": str(tmp_path / "mail"), "PORTAL_BASE_URL": "http://portal.test"}
    command = [sys.executable, "-m", "flask", "--app", "portal", "portal", "send-weekly", "--now"]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    sent = sum(int(out.split(" weekly updates sent")[0].split()[-1]) for out in outputs)
    assert sent == 30, outputs
    for project in projects:
        assert len(weeklies(project)) == 1
    counts = Counter(email.idempotency_key for email in weekly_emails())
    assert len(counts) == 60 and set(counts.values()) == {1}


# --- What it says ---------------------------------------------------------------------------


def test_bad_news_leads_and_a_quiet_week_says_so(make_weekly_project):
    """A blocker and a slip come before progress and notes; a week with nothing says it was quiet."""
    project = make_weekly_project()
    manager = project.manager
    with time_machine.travel(datetime(2026, 3, 4, 10, tzinfo=UTC), tick=False):
        values = {"title": "Checkout", "body": "Going well", "done": "Cart", "blockers": "Payment provider approval", "needs": "Logo"}
        service.save_update(manager, project, values, publish=True)
        expectations_service.create_note(
            manager,
            project,
            {"expected": "Launch on 1 March", "reality": "Launch moves to 20 March", "assessment": "worse",
             "impact": "Spring campaign starts later", "visibility": "shared"},
        )
        db.session.commit()
    run_at(datetime(2026, 3, 9, 6, 1, tzinfo=UTC))
    [update] = weeklies(project)
    kinds = [f["kind"] for f in update.facts]
    severities = [f["severity"] for f in update.facts]
    assert kinds[:2] == ["expectation_slip", "update_blocker"]
    assert severities == sorted(severities, key=["bad", "waiting", "decision", "progress", "note", "deadline", "need"].index)
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address != manager.email, OutboxEmail.kind == "weekly"))
    body = email.text_body
    assert body.index("OFF TRACK AND AT RISK") < body.index("PROGRESS") < body.index("WHAT WE NEED FROM YOU")
    assert "Impact on you: Spring campaign starts later" in body
    assert "quiet week" not in body

    run_at(datetime(2026, 3, 16, 6, 1, tzinfo=UTC))
    quiet = weeklies(project)[-1]
    assert [f["kind"] for f in quiet.facts] == []
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.idempotency_key.like(f"weekly:{project.id}:2026-W12:%")).limit(1))
    assert "A quiet week: nothing changed that needs your attention." in email.text_body


def test_weekly_email_respects_preferences(make_weekly_project):
    """Only active client members who want the weekly email get it; the manager gets a copy unless opted out."""
    project = make_weekly_project(members=3)
    muted, gone, keen = [m.user for m in project.members]
    muted.notify_weekly = False
    gone.active = False
    db.session.commit()
    run_at(datetime(2026, 3, 9, 6, 1, tzinfo=UTC))
    assert sorted(e.to_address for e in weekly_emails()) == sorted([keen.email, project.manager.email])


def test_a_client_who_prefers_phone_is_offered_a_call_and_the_manager_home_lists_it(web, make_weekly_project):
    """A client whose profile prefers phone calls gets a call suggestion; the manager's home lists the project."""
    project = make_weekly_project(created=utcnow() - timedelta(days=30))
    project.client.preferred_channel = PreferredChannel.PHONE
    email_project = make_weekly_project(created=utcnow() - timedelta(days=30), manager=project.manager)
    db.session.commit()
    dispatch_weekly(utcnow(), force=True)
    [update] = weeklies(project)
    assert update.suggests_call and "call_suggested" in [f["kind"] for f in update.facts]
    assert not weeklies(email_project)[0].suggests_call

    web.login(project.manager)
    home = web.text("/")
    panel = home[home.index("Calls to offer this week") :]
    assert project.name in panel and email_project.name not in panel.split("</section>")[0]


# --- Preview and personal note ---------------------------------------------------------------


def test_staff_preview_the_coming_update_and_add_a_note_that_goes_with_it(web, make_weekly_project):
    """The preview shows what would go out; a personal note is sent with it, after the bad news, then cleared."""
    project = make_weekly_project(created=datetime(2026, 3, 3, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 3, 4, 10, tzinfo=UTC), tick=False):
        service.save_update(project.manager, project, {"title": "Sprint", "body": "x", "blockers": "Hosting contract unsigned"}, publish=True)
        db.session.commit()
        web.login(project.manager)
        page = web.text(f"/projects/{project.id}/weekly")
        assert "Weekly update, week of March 9, 2026" in page
        assert "Off track and at risk" in page and "Hosting contract unsigned" in page
        assert project.members[0].user.name in page[page.index("Who receives it") :]

        response = web.post(f"/projects/{project.id}/weekly/note", {"body": "Thanks for the **quick** answers this week."})
        assert response.status_code == 302
        page = web.text(f"/projects/{project.id}/weekly")
        assert "Thanks for the <strong>quick</strong> answers" in page

    run_at(datetime(2026, 3, 9, 6, 1, tzinfo=UTC))
    [update] = weeklies(project)
    kinds = [f["kind"] for f in update.facts]
    assert kinds.index("update_blocker") < kinds.index("manager_note")
    note = db.session.scalar(select(WeeklyNote))
    assert note.update_id == update.id
    with time_machine.travel(datetime(2026, 3, 9, 6, 5, tzinfo=UTC), tick=False):
        web.login(project.manager)
        page = web.text(f"/projects/{project.id}/weekly")
    assert "Weekly update, week of March 16, 2026" in page
    assert "Thanks for the <strong>quick</strong> answers" not in page


def test_a_note_saved_after_its_update_went_out_is_kept_and_not_lost(web, make_weekly_project):
    """Editing a note that went out meanwhile is refused with a 409 that keeps the text typed."""
    project = make_weekly_project(created=datetime(2026, 3, 1, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 3, 9, 6, 0, tzinfo=UTC), tick=False):
        web.login(project.manager)
        web.post(f"/projects/{project.id}/weekly/note", {"body": "First version"})
        note = db.session.scalar(select(WeeklyNote))
        dispatch_weekly(utcnow())  # the update goes out with the note
        response = web.post(
            f"/projects/{project.id}/weekly/note", {"body": "Second version", "note_id": note.id, "version": note.version}
        )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "went out with the weekly update in the meantime" in page and "Second version" in page
    assert db.session.scalar(select(func.count()).select_from(WeeklyNote).where(WeeklyNote.update_id.is_(None))) == 0
    assert "First version" in weeklies(project)[0].facts[-1]["params"]["text"]


def test_staff_cannot_take_bad_news_out(web, make_weekly_project):
    """Nothing staff can send removes bad news: the note form has no such field, and a shared slip stays shared and bad."""
    project = make_weekly_project(created=datetime(2026, 3, 1, tzinfo=UTC))
    manager = project.manager
    with time_machine.travel(datetime(2026, 3, 4, 10, tzinfo=UTC), tick=False):
        note = expectations_service.create_note(
            manager, project, {"expected": "Live by May", "reality": "Live in June", "assessment": "worse", "impact": "Later sales", "visibility": "shared"}
        )
        db.session.commit()
        web.login(manager)
        web.post(f"/projects/{project.id}/weekly/note", {"body": "All good!", "remove": "expectation_slips", "facts": "[]"})
        base = {"expected": "Live by May", "reality": "Live in June", "impact": "Later sales"}
        response = web.post(f"/projects/{project.id}/expectations/{note.id}/edit", {**base, "assessment": "worse", "visibility": "internal"})
        assert response.status_code == 422 and "stays shared" in response.get_data(as_text=True)
        response = web.post(f"/projects/{project.id}/expectations/{note.id}/edit", {**base, "assessment": "as_expected", "visibility": "shared"})
        assert response.status_code == 422 and "stays on the record" in response.get_data(as_text=True)

    run_at(datetime(2026, 3, 9, 6, 1, tzinfo=UTC))
    [update] = weeklies(project)
    assert [f["kind"] for f in update.facts][:2] == [*["expectation_slip", "weekly_update_on_time"][:1], "manager_note"]


# --- Pluggable facts ------------------------------------------------------------------------


def test_providers_of_other_features_plug_in_and_unknown_kinds_render(web, make_weekly_project):
    """A provider registered by another feature adds its facts in severity order; a kind without a sentence shows generically."""
    project = make_weekly_project(created=utcnow() - timedelta(days=30))

    def goals(project, period_start, period_end, now):
        return [
            Fact("goal_off_track_test", "bad", {"goal_id": 7, "title": "Signups", "variance_pct": -30}, link=f"/projects/{project.id}"),
            Fact("deliverable_waiting_test", "waiting", {"title": "Homepage design"}),
        ]

    weekly_facts.add(current_app, "test_goals", goals, order=5)
    try:
        dispatch_weekly(utcnow(), force=True)
    finally:
        weekly_facts.remove(current_app, "test_goals")
    [update] = weeklies(project)
    assert [f["kind"] for f in update.facts][:2] == ["goal_off_track_test", "deliverable_waiting_test"]
    client = project.members[0].user
    client.password_hash = project.manager.password_hash
    db.session.commit()
    web.login(client)
    page = web.text(f"/projects/{project.id}/updates/{update.id}")
    assert "Goal off track test: title Signups · variance pct -30" in page
    assert "Waiting for you" in page and "Homepage design" in page


def test_a_failing_provider_sends_nothing_and_the_next_run_retries(make_weekly_project):
    """If a provider breaks, that project's update is not sent half-composed; once fixed, it goes out once."""
    project = make_weekly_project()

    def broken(project, period_start, period_end, now):
        raise RuntimeError("goal table missing")

    weekly_facts.add(current_app, "test_broken", broken, order=5)
    try:
        report = run_at(datetime(2026, 3, 9, 6, 1, tzinfo=UTC))
    finally:
        weekly_facts.remove(current_app, "test_broken")
    assert (report.sent, report.failed) == (0, 1)
    assert weeklies(project) == [] and weekly_emails() == []
    assert run_at(datetime(2026, 3, 9, 6, 6, tzinfo=UTC)).sent == 1
    assert not weeklies(project)[0].late


def test_send_weekly_cli_runs_the_dispatch(runner, make_weekly_project):
    """`flask portal send-weekly --project ID --now` sends that project's update now, once."""
    project = make_weekly_project(created=utcnow() - timedelta(days=30))
    other = make_weekly_project(created=utcnow() - timedelta(days=30))
    result = runner.invoke(args=["portal", "send-weekly", "--project", str(project.id), "--now"])
    assert result.exit_code == 0, result.output
    assert "1 weekly updates sent" in result.output and "2 emails queued" in result.output
    result = runner.invoke(args=["portal", "send-weekly", "--project", str(project.id), "--now"])
    assert "0 weekly updates sent" in result.output
    assert len(weeklies(project)) == 1 and weeklies(other) == []


def test_scheduler_runs_the_weekly_dispatch_every_few_minutes(app):
    """The scheduler has a weekly-dispatch job on a short interval, coalesced, one at a time."""
    from portal import jobs

    scheduler = jobs.build_scheduler(app)
    job = scheduler.get_job("dispatch_weekly_updates")
    assert job is not None and job.func is jobs.dispatch_weekly_updates
    assert job.trigger.interval <= timedelta(minutes=10)
    assert job.coalesce is True and job.max_instances == 1
    outbox = scheduler.get_job("send_outbox")
    assert outbox.trigger.interval <= timedelta(minutes=1)
