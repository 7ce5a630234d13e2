"""The weekly dispatch in batches: a constant number of statements per batch, safe beside other dispatchers, one bad project isolated.

Projects are built through the services with something for every fact provider to say
(goals, a deliverable waiting for review, an asset request, a manual update with a blocker,
a shared slip, a personal note), then sent with ``dispatch_weekly(utcnow(), force=True)``;
their slot is Monday 00:00 (local) unless a test says otherwise, so whatever the day the
tests run, one week per project is due.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from flask import current_app
from sqlalchemy import func, select

from portal.assets import service as assets_service
from portal.expectations import service as expectations_service
from portal.extensions import db
from portal.models import (
    ActivityEvent,
    ExpectationNote,
    NoteSource,
    OutboxEmail,
    Role,
    Update,
    UpdateKind,
    WeeklyNote,
)
from portal.timeutil import local_today, utcnow
from portal.updates import dispatch
from portal.updates import service as updates_service
from portal.updates.dispatch import dispatch_weekly
from portal.weekly.facts import Fact, Period, batch_provider, weekly_facts
from tests.conftest import TEST_DATABASE_URL
from tests.integration.deliverables_support import make_deliverable, submit
from tests.integration.goals_support import agreed_goal, propose

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_project(make_client, make_user, make_project):
    """Return a builder of active projects, a month old, where every fact provider has something to say."""
    counter = iter(range(1, 10_000))

    def build(*, created: datetime | None = None, **values):
        n = next(counter)
        # Monday 00:00 local by default: the latest slot is always this week's, so `force` adds no second week.
        values.setdefault("weekly_weekday", 0)
        values.setdefault("weekly_hour", 0)
        client = make_client(f"Client {n}")
        english = make_user(Role.CLIENT, client, name=f"Person {n}", language="en")
        turkish = make_user(Role.CLIENT, client, name=f"Kişi {n}", language="tr")
        project = make_project(client, None, [(english, True), (turkish, False)], name=f"Project {n}", **values)
        project.created_at = created or utcnow() - timedelta(days=30)
        db.session.commit()
        manager = project.manager
        agreed_goal(manager, english, project, title=f"Orders {n}")
        propose(manager, project, title=f"Speed {n}")
        deliverable = make_deliverable(manager, project, title=f"Homepage {n}")
        submit(manager, deliverable)
        assets_service.create_request(
            manager, project, title=f"Logo {n}", kinds=["images"], due_date=local_today(project.timezone) + timedelta(days=3)
        )
        updates_service.save_update(
            manager, project, {"title": f"Sprint {n}", "body": "x", "done": "Cart", "blockers": "Payment provider", "needs": "Prices"}, publish=True
        )
        expectations_service.create_note(
            manager,
            project,
            {"expected": "Live by May", "reality": "Live in June", "assessment": "worse", "impact": "Later sales", "visibility": "shared"},
        )
        db.session.add(WeeklyNote(project_id=project.id, author_id=manager.id, body=f"Thanks, {n}", version=1))
        db.session.commit()
        return project

    return build


def weekly_updates() -> list[Update]:
    db.session.expire_all()
    return list(db.session.scalars(select(Update).where(Update.kind == UpdateKind.WEEKLY).order_by(Update.project_id)))


def weekly_emails() -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "weekly").order_by(OutboxEmail.id)))


def statements_of_a_dispatch(count_queries) -> tuple[int, dispatch.DispatchReport]:
    """Run the dispatch now (this week's updates, before their slot) and count its SQL statements."""
    with count_queries() as counter:
        report = dispatch_weekly(utcnow(), force=True)
    return counter.count, report


# --- Statements ----------------------------------------------------------------------------


def test_statements_do_not_grow_with_the_number_of_projects_in_a_batch(app, busy_project, count_queries):
    """3 projects due or 12: the same statements, a small constant number for the whole batch."""
    built = datetime(2026, 3, 4, 9, tzinfo=UTC)  # Wednesday; projects due on Monday 9 March or Tuesday 10 March
    with time_machine.travel(built + timedelta(hours=1), tick=False):
        mondays = [busy_project(created=built, weekly_weekday=0, weekly_hour=9) for _ in range(3)]
        tuesdays = [busy_project(created=built, weekly_weekday=1, weekly_hour=9) for _ in range(12)]
    with time_machine.travel(datetime(2026, 3, 9, 6, 1, tzinfo=UTC), tick=False), count_queries() as counter:
        report = dispatch_weekly(utcnow())
    few = counter.count
    assert (report.sent, report.emails, report.failed) == (3, 9, 0)
    with time_machine.travel(datetime(2026, 3, 10, 6, 1, tzinfo=UTC), tick=False), count_queries() as counter:
        report = dispatch_weekly(utcnow())
    many = counter.count
    assert (report.sent, report.emails, report.failed) == (12, 36, 0)
    assert many == few, f"{few} statements for 3 projects, {many} for 12"
    assert few <= 60

    # Every provider had something to say, for every project.
    for update in weekly_updates():
        kinds = {fact["kind"] for fact in update.facts}
        assert {"goal_no_check_in", "goal_awaiting_signature", "goal_assumption_open", "deliverable_waiting", "asset_overdue",
                "update_blocker", "update_done", "expectation_slip", "manager_note"} <= kinds, kinds
    assert {u.project_id for u in weekly_updates()} == {p.id for p in mondays + tuesdays}
    assert db.session.scalar(select(func.count()).select_from(WeeklyNote).where(WeeklyNote.update_id.is_(None))) == 0
    lines = {f["kind"] for note in db.session.scalars(select(ExpectationNote.facts).where(ExpectationNote.source == NoteSource.WEEKLY)) for f in note}
    assert {"weekly_update_on_time", "goal_variance", "deliverable_schedule", "asset_schedule", "staff_notes_summary"} <= lines


def test_batches_of_the_configured_size_each_cost_the_same(app, busy_project, count_queries):
    """PORTAL_WEEKLY_BATCH_SIZE=4 and 8 projects: two batches, each with the statements of one."""
    app.config["WEEKLY_BATCH_SIZE"] = 4
    for _ in range(4):
        busy_project()
    one_batch, report = statements_of_a_dispatch(count_queries)
    assert report.sent == 4
    for _ in range(8):
        busy_project()
    two_batches, report = statements_of_a_dispatch(count_queries)
    assert report.sent == 8
    # One query finds what is due; the rest is per batch.
    assert two_batches - 1 == 2 * (one_batch - 1)


def test_a_batch_provider_is_called_once_per_batch(app, busy_project):
    """A provider written for batches gets every project of a batch at once, and each its own facts back."""
    app.config["WEEKLY_BATCH_SIZE"] = 3
    projects = [busy_project() for _ in range(7)]
    calls: list[int] = []

    @batch_provider
    def counting(periods: Sequence[Period]) -> list[list[Fact]]:
        calls.append(len(periods))
        return [[Fact("batch_test", "note", {"project": p.project.id})] for p in periods]

    weekly_facts.add(current_app, "test_batch", counting, order=5)
    try:
        assert dispatch_weekly(utcnow(), force=True).sent == 7
    finally:
        weekly_facts.remove(current_app, "test_batch")
    assert calls == [3, 3, 1]
    for project, update in zip(projects, weekly_updates(), strict=True):
        assert [f["params"] for f in update.facts if f["kind"] == "batch_test"] == [{"project": project.id}]


# --- One bad project ---------------------------------------------------------------------------


def test_a_failing_project_inside_a_batch_does_not_stop_the_others(app, busy_project):
    """One project's provider breaks: the other four go out with everything; that one has nothing, and goes out once fixed."""
    projects = [busy_project() for _ in range(5)]
    broken = projects[2]

    def flaky(project, period_start, period_end, now):
        if project.id == broken.id:
            raise RuntimeError("this project's data is broken")
        return []

    weekly_facts.add(current_app, "test_flaky", flaky, order=5)
    try:
        report = dispatch_weekly(utcnow(), force=True)
    finally:
        weekly_facts.remove(current_app, "test_flaky")
    assert (report.sent, report.failed, report.emails) == (4, 1, 12)
    sent = {u.project_id for u in weekly_updates()}
    assert sent == {p.id for p in projects} - {broken.id}
    # Nothing half-written for the broken one: no update, note, event, email, and its personal note still waits.
    assert db.session.scalar(select(func.count()).select_from(ExpectationNote).where(
        ExpectationNote.source == NoteSource.WEEKLY, ExpectationNote.project_id == broken.id)) == 0
    assert db.session.scalar(select(func.count()).select_from(ActivityEvent).where(
        ActivityEvent.verb == "update.weekly_sent", ActivityEvent.project_id == broken.id)) == 0
    assert not [e for e in weekly_emails() if e.idempotency_key.startswith(f"weekly:{broken.id}:")]
    assert db.session.scalar(select(WeeklyNote.update_id).where(WeeklyNote.project_id == broken.id)) is None
    # The others have their note, their event and one email per recipient each.
    assert db.session.scalar(select(func.count()).select_from(ExpectationNote).where(ExpectationNote.source == NoteSource.WEEKLY)) == 4
    assert db.session.scalar(select(func.count()).select_from(ActivityEvent).where(ActivityEvent.verb == "update.weekly_sent")) == 4

    report = dispatch_weekly(utcnow(), force=True)
    assert (report.sent, report.failed) == (1, 0)
    assert {u.project_id for u in weekly_updates()} == {p.id for p in projects}
    counts = Counter(e.idempotency_key for e in weekly_emails())
    assert len(counts) == 15 and set(counts.values()) == {1}


def test_an_error_while_queueing_one_projects_emails_rolls_back_only_that_project(app, busy_project, monkeypatch):
    """A failure late in the batch (rendering an email) undoes that project's week only; the next run sends it once."""
    projects = [busy_project() for _ in range(3)]
    broken = projects[0]
    real = dispatch.email_values

    def failing(recipient, **values):
        if values["key"].startswith(f"weekly:{broken.id}:"):
            raise RuntimeError("template error")
        return real(recipient, **values)

    monkeypatch.setattr(dispatch, "email_values", failing)
    report = dispatch_weekly(utcnow(), force=True)
    assert (report.sent, report.failed) == (2, 1)
    assert broken.id not in {u.project_id for u in weekly_updates()}
    monkeypatch.setattr(dispatch, "email_values", real)
    assert dispatch_weekly(utcnow(), force=True).sent == 1
    assert dispatch_weekly(utcnow(), force=True).sent == 0
    counts = Counter(e.idempotency_key for e in weekly_emails())
    assert len(counts) == 9 and set(counts.values()) == {1}


def test_a_week_claimed_by_another_dispatcher_in_the_middle_of_a_batch_is_skipped(app, busy_project):
    """Another dispatcher already sent one project of the batch: this one skips it and sends the rest once."""
    projects = [busy_project() for _ in range(4)]
    items = dispatch.due_weeklies(utcnow(), force=True)
    assert dispatch.send_weekly(next(i for i in items if i.project_id == projects[1].id), utcnow()) == 3  # the other dispatcher
    outcome = dispatch.send_batch(items, utcnow())
    assert [outcome[i] for i in items] == [3, None, 3, 3]
    assert len(weekly_updates()) == 4
    counts = Counter(e.idempotency_key for e in weekly_emails())
    assert len(counts) == 12 and set(counts.values()) == {1}


# --- Dispatchers side by side on PostgreSQL ------------------------------------------------------


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="several processes need PostgreSQL (PORTAL_TEST_DATABASE_URL)")
@pytest.mark.postgres
def test_three_dispatcher_processes_with_small_batches_send_each_week_once(database_url, make_client, make_user, make_project, tmp_path):
    """Three `send-weekly` processes at once, batches of 4: every week once, one email per recipient, nothing failed."""
    projects = []
    for n in range(40):
        client = make_client(f"Client {n}")
        people = [make_user(Role.CLIENT, client, name=f"Person {n}.{i}", language=("en", "tr")[i]) for i in range(2)]
        project = make_project(client, None, [(p, True) for p in people], name=f"Project {n}", weekly_weekday=0, weekly_hour=0)
        project.created_at = utcnow() - timedelta(days=30)
        projects.append(project)
    db.session.commit()
    env = {**os.environ, "PORTAL_ENV": "testing", "PORTAL_SECRET_KEY": "test", "PORTAL_DATABASE_URL": database_url,
           "PORTAL_MAIL_DIR": str(tmp_path / "mail"), "PORTAL_BASE_URL": "http://portal.test", "PORTAL_WEEKLY_BATCH_SIZE": "4"}
    command = [sys.executable, "-m", "flask", "--app", "portal", "portal", "send-weekly", "--now"]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=180)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], outputs
    sent = sum(int(out.split(" weekly updates sent")[0].split()[-1]) for out in outputs)
    assert sent == 40, outputs
    assert all(" 0 busy, 0 failed" in out for out in outputs), outputs
    updates = weekly_updates()
    assert Counter(u.project_id for u in updates) == Counter({p.id: 1 for p in projects})
    counts = Counter(email.idempotency_key for email in weekly_emails())
    assert len(counts) == 120 and set(counts.values()) == {1}
    notes = db.session.scalar(select(func.count()).select_from(ExpectationNote).where(ExpectationNote.source == NoteSource.WEEKLY))
    assert notes == 40
