"""Asset requests in the weekly update and the weekly expectation note: overdue first, then what we need.

Requests, uploads and reviews go through the asset service with the clock controlled; the
weekly dispatch composes the update, and the tests read what the client reads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.assets import service
from portal.assets.weekly import asset_facts, asset_lines
from portal.extensions import db
from portal.models import ExpectationNote, NoteSource, OutboxEmail, Update, UpdateKind
from portal.timeutil import utcnow
from portal.updates.dispatch import dispatch_weekly
from tests.integration.asset_helpers import PDF, store_file

START = datetime(2026, 11, 2, 7, tzinfo=UTC)
SLOT = datetime(2026, 11, 23, 6, tzinfo=UTC)  # Monday 09:00 in Istanbul, week 2026-W48
PERIOD = (SLOT - timedelta(days=7), SLOT)


def at(moment: datetime):
    """Freeze the clock at ``moment``."""
    return time_machine.travel(moment, tick=False)


def day(month: int, d: int, hour: int = 9) -> datetime:
    """Return a moment of 2026 in UTC."""
    return datetime(2026, month, d, hour, tzinfo=UTC)


def request(world, title: str, due: date | None, required: bool = True):
    """Ask the client for something at START and commit."""
    with at(START):
        item = service.create_request(world.manager, world.project, title=title, kinds=["documents"], due_date=due, required=required)
        db.session.commit()
    return item


def upload(world, item, moment: datetime) -> None:
    """The client uploads a PDF for ``item`` at ``moment``."""
    with at(moment):
        store_file(world.own_client, world.project, item, PDF, "file.pdf")
        db.session.commit()


def review(world, item, moment: datetime, note: str = "") -> None:
    """Staff accept ``item`` (or return it with ``note``) at ``moment``."""
    with at(moment):
        if note:
            service.return_with_note(world.manager, item, note)
        else:
            service.accept(world.manager, item)
        db.session.commit()


def dispatch(project) -> Update:
    """Run the weekly dispatch as the scheduler would; return the stored weekly update."""
    with at(SLOT + timedelta(minutes=1)):
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
def requests(world, project):
    """An overdue logo, photos still needed, fonts returned once then accepted, team photos returned, texts just sent."""
    logo = request(world, "Logo as a vector file", date(2026, 11, 13))
    photos = request(world, "Product photos", date(2026, 11, 30), required=False)
    fonts = request(world, "Brand fonts", date(2026, 11, 20))
    team = request(world, "Team photos", date(2026, 12, 10))
    texts = request(world, "About us text", date(2026, 11, 28))
    upload(world, fonts, day(11, 10))
    review(world, fonts, day(11, 11), note="We need OTF files, not screenshots")
    upload(world, fonts, day(11, 12))
    review(world, fonts, day(11, 17))
    upload(world, team, day(11, 4))
    review(world, team, day(11, 5), note="Too dark to print")
    upload(world, texts, day(11, 19))
    return {"logo": logo, "photos": photos, "fonts": fonts, "team": team, "texts": texts}


def test_the_overdue_request_leads_and_the_rest_is_what_we_need(world, project, requests):
    """The overdue logo comes first with its impact; open and returned requests are listed as what we need."""
    update = dispatch(project)
    assert (update.facts[0]["kind"], update.facts[0]["severity"]) == ("asset_overdue", "bad")
    assert update.facts[0]["params"]["days"] == 10

    body = client_email(world).text_body
    headings = ["OFF TRACK AND AT RISK", "PROGRESS", "WHAT WE NEED FROM YOU"]
    assert [body.index(h) for h in headings] == sorted(body.index(h) for h in headings)
    assert (
        "“Logo as a vector file” was due from you on November 13, 2026 and is 10 days overdue. "
        "We need it to go on: the work that uses it is on hold until it arrives."
    ) in body
    need = body[body.index("WHAT WE NEED FROM YOU"):]
    assert "“Product photos”, due on November 30, 2026, in 7 days." in need
    assert "“Team photos”, due on December 10, 2026, in 17 days. We returned your last upload: please send a new version." in need
    assert "Our note on your last upload: Too dark to print" in need
    assert "“Logo as a vector file”" not in need  # already at the top, not repeated
    progress = body[body.index("PROGRESS"):body.index("WHAT WE NEED FROM YOU")]
    assert "You sent “About us text”: thank you. We are reviewing it." in progress
    assert "We accepted “Brand fonts”." in progress


def test_the_weekly_note_splits_waiting_between_client_and_agency(world, project, requests):
    """Due against received, and the days each side held the request: the fonts waited 9 days on the client, 6 on us."""
    dispatch(project)
    note = db.session.scalar(select(ExpectationNote).where(ExpectationNote.source == NoteSource.WEEKLY))
    lines = {f["params"]["title"]: f for f in note.facts if f["kind"] == "asset_schedule"}
    fonts = lines["Brand fonts"]["params"]
    # Requested 2 Nov 07:00, sent 10 Nov 09:00, returned 11 Nov, sent again 12 Nov, accepted 17 Nov (all 09:00 UTC).
    assert (fonts["received_on"], fonts["days_late"]) == ("2026-11-12", -8)
    assert (fonts["client_days"], fonts["agency_days"]) == (9.1, 6.0)
    logo = lines["Logo as a vector file"]
    assert logo["severity"] == "bad" and logo["params"]["days_late"] == 10 and logo["params"]["agency_days"] == 0
    texts = lines["About us text"]["params"]
    # Waiting on us since it arrived on 19 November: up to the dispatch at 23 November 06:01.
    assert texts["received_on"] == "2026-11-19" and texts["agency_days"] == 3.9


def test_the_note_reads_in_the_log(web, world, project, requests):
    """The client reads, per request, when it arrived and how long each side held it."""
    dispatch(project)
    with at(SLOT + timedelta(hours=1)):
        web.login(world.own_client)
        page = web.text(f"/projects/{project.id}/expectations/")
    assert "“Brand fonts”: due on November 20, 2026, received on November 12, 2026 — 8 days early." in page
    assert "Time waiting on you: 9.1 days; waiting on us: 6 days." in page


def test_a_week_without_requests_is_quiet(world, project):
    """No requests, nothing to say: the update says the week was quiet."""
    assert dispatch(project).facts == []
    assert "A quiet week" in client_email(world).text_body


@pytest.mark.parametrize("provider", [asset_facts, asset_lines])
def test_asset_providers_run_as_many_queries_for_50_requests_as_for_5(world, project, count_queries, provider):
    """The weekly update and the note read requests in a constant number of queries."""

    def add(n: int, offset: int) -> None:
        for i in range(offset, offset + n):
            item = request(world, f"Item {i}", date(2026, 11, 5) + timedelta(days=i % 30))
            if i % 3 == 1:
                upload(world, item, day(11, 10))
                review(world, item, day(11, 11), note="Again, please")
            elif i % 3 == 2:
                upload(world, item, day(11, 18))

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
