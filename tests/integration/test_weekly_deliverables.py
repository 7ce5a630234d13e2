"""Deliverables in the weekly update and the weekly expectation note: late work first, then reviews and decisions.

State is built through the deliverable service with the clock controlled; the weekly dispatch
composes the update, and the tests read what the client reads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.deliverables import service
from portal.deliverables.weekly import deliverable_lines, deliverable_weekly_facts
from portal.extensions import db
from portal.models import ExpectationNote, NoteSource, OutboxEmail, Update, UpdateKind
from portal.timeutil import utcnow
from portal.updates.dispatch import dispatch_weekly
from tests.integration.deliverables_support import make_deliverable, submit

START = datetime(2026, 11, 2, 7, tzinfo=UTC)
SLOT = datetime(2026, 11, 23, 6, tzinfo=UTC)  # Monday 09:00 in Istanbul, week 2026-W48
PERIOD = (SLOT - timedelta(days=7), SLOT)


def at(moment: datetime):
    """Freeze the clock at ``moment``."""
    return time_machine.travel(moment, tick=False)


def decide(approver, version, moment: datetime, outcome: str = "approve", **values) -> None:
    """Record an approver's decision through the service at ``moment`` and commit."""
    with at(moment):
        service.decide(approver, version, outcome=outcome, **values)
        db.session.commit()


def dispatch(project, moment: datetime = SLOT + timedelta(minutes=1)) -> Update:
    """Run the weekly dispatch as the scheduler would; return the stored weekly update."""
    with at(moment):
        dispatch_weekly(utcnow(), project_id=project.id)
    db.session.expire_all()
    return db.session.scalar(select(Update).where(Update.project_id == project.id, Update.kind == UpdateKind.WEEKLY))


def client_email(world) -> OutboxEmail:
    """Return the weekly email the client received."""
    return db.session.scalar(
        select(OutboxEmail).where(OutboxEmail.kind == "weekly", OutboxEmail.to_address == world.own_client.email)
    )


@pytest.fixture
def project(world):
    """The world's project, old enough to have its Monday 09:00 update."""
    world.project.created_at = datetime(2025, 1, 1, tzinfo=UTC)
    db.session.commit()
    return world.project


@pytest.fixture
def week(world, project):
    """A week of review: late work, a version waiting, an approval, a change request and rounds beyond the agreement."""
    m, client = world.manager, world.own_client
    with at(START):
        homepage = make_deliverable(m, project, "Homepage design", due_date=date(2026, 11, 16), included_rounds=2)
        logo = make_deliverable(m, project, "Logo", due_date=date(2026, 12, 1))
        brand = make_deliverable(m, project, "Brand book", due_date=date(2026, 11, 25))
        landing = make_deliverable(m, project, "Landing page", due_date=date(2027, 2, 1), included_rounds=0)
        first = submit(m, homepage)
        brand_v1 = submit(m, brand)
        landing_v1 = submit(m, landing)
    decide(client, landing_v1, datetime(2026, 11, 3, 9, tzinfo=UTC), "changes_requested", reason_category="new_request", text="Add a pricing table")
    with at(datetime(2026, 11, 4, 9, tzinfo=UTC)):
        submit(m, landing, impact="A round beyond the agreement: launch moves three days, billed as agreed")
    decide(client, first, datetime(2026, 11, 17, 9, tzinfo=UTC), "changes_requested", reason_category="quality", text="Colours are off-brand")
    decide(client, brand_v1, datetime(2026, 11, 19, 9, tzinfo=UTC))
    with at(datetime(2026, 11, 18, 10, tzinfo=UTC)):
        submit(m, logo)
    return {"homepage": homepage, "logo": logo, "brand": brand, "landing": landing}


def test_late_work_leads_then_reviews_waiting_decisions_and_due_dates(world, project, week):
    """The overdue deliverable and the rounds beyond the agreement come first, each saying what it means for the client."""
    update = dispatch(project)
    kinds = [(f["kind"], f["severity"]) for f in update.facts]
    assert kinds[:2] == [("deliverable_overdue", "bad"), ("deliverable_over_rounds", "bad")]
    overdue = update.facts[0]["params"]
    assert (overdue["title"], overdue["days_late"], overdue["waiting_on"]) == ("Homepage design", 7, "agency")

    body = client_email(world).text_body
    headings = ["OFF TRACK AND AT RISK", "WAITING FOR YOU", "DECIDED THIS WEEK", "COMING UP"]
    assert [body.index(h) for h in headings] == sorted(body.index(h) for h in headings)
    assert "“Homepage design” was due on November 16, 2026 and is 7 days late. It is our turn: you are waiting on us for the next version." in body
    assert "“Landing page” is past the revision rounds we agreed: 1 used, 0 included." in body
    assert "Impact on you: A round beyond the agreement: launch moves three days, billed as agreed" in body
    assert "Version 1 of “Logo” has waited 4 days for your review." in body
    assert f"Still to decide: {world.own_client.display_name}." in body
    assert f"{world.own_client.display_name} approved version 1 of “Brand book”." in body
    assert f"{world.own_client.display_name} asked for changes to version 1 of “Homepage design” (Quality):" in body
    assert "Colours are off-brand" in body
    assert "“Logo” is due on December 1, 2026, in 8 days. It waits for your review." in body
    assert "Add a pricing table" not in body  # decided before this week


def test_the_weekly_note_sets_due_dates_against_approvals_and_rounds(world, project, week):
    """Every deliverable: early or late against its due date, and the rounds used against those included."""
    dispatch(project)
    note = db.session.scalar(select(ExpectationNote).where(ExpectationNote.source == NoteSource.WEEKLY))
    lines = {f["params"]["title"]: f for f in note.facts if f["kind"] == "deliverable_schedule"}
    assert lines["Brand book"]["params"]["days_late"] == -6 and lines["Brand book"]["severity"] == "progress"
    assert lines["Homepage design"]["params"]["days_late"] == 7 and lines["Homepage design"]["severity"] == "bad"
    assert lines["Landing page"]["params"]["over_rounds"] and lines["Landing page"]["severity"] == "bad"
    assert lines["Logo"]["severity"] == "deadline"


def test_the_note_reads_in_the_log(web, world, project, week):
    """The client reads the deliverable lines of the weekly note in the expectation log."""
    dispatch(project)
    with at(SLOT + timedelta(hours=1)):
        web.login(world.own_client)
        page = web.text(f"/projects/{project.id}/expectations/")
    assert "“Brand book”: due on November 25, 2026, approved on November 19, 2026 — 6 days early." in page
    assert "“Homepage design”: due on November 16, 2026, not approved yet — 7 days late so far." in page
    assert "Revision rounds: 1 used of 0 included." in page


def test_a_week_without_deliverables_is_quiet(world, project):
    """No deliverables, nothing to say: the update says the week was quiet."""
    update = dispatch(project)
    assert update.facts == []
    assert "A quiet week" in client_email(world).text_body


@pytest.mark.parametrize("provider", [deliverable_weekly_facts, deliverable_lines])
def test_deliverable_providers_run_as_many_queries_for_50_as_for_5(world, project, count_queries, provider):
    """The weekly update and the note read deliverables in a constant number of queries."""
    m, client = world.manager, world.own_client

    def add(n: int, offset: int) -> None:
        for i in range(offset, offset + n):
            with at(START):
                d = make_deliverable(m, project, f"Piece {i}", due_date=date(2026, 11, 10) + timedelta(days=i % 30), included_rounds=0)
                version = submit(m, d, file=None, links="https://staging.example.com/")
            if i % 2:
                decide(client, version, datetime(2026, 11, 18, 9, tzinfo=UTC), "changes_requested", reason_category="other", text="Again")
                if i % 4 == 1:
                    with at(datetime(2026, 11, 19, 9, tzinfo=UTC)):
                        submit(m, d, file=None, links="https://staging.example.com/2", impact="Costs one more day")

    def count() -> tuple[int, int]:
        db.session.expire_all()
        with at(SLOT), count_queries() as queries:
            facts = provider(project, *PERIOD, SLOT)
        return queries.count, len(facts)

    add(5, 0)
    few, few_facts = count()
    add(45, 5)
    many, many_facts = count()
    assert many_facts > few_facts > 0
    assert many == few
