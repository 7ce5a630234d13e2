"""Waiting time split fairly (principle 10): on the deliverable page, the project overview, the weekly note and email.

The story, in UTC, of a project in Istanbul (November there starts at 21:00 UTC on 31 October):

- 29 Oct 07:00 the agency adds "Homepage design"; 6 Nov (Friday) it sends version 1;
- 9 Nov (Monday) the client asks for changes; 10 Nov version 2; 13 Nov the client approves;
- 15 Nov the agency asks for the logo files; 18 Nov the client uploads them; nobody has reviewed them yet.

The deliverable waited 8 + 1 = 9 days on the agency and 3 + 3 = 6 on the client (the weekend of
7–8 November counts). On 20 November the month so far is 5 d 10 h + 1 d + 2 d = 8 days on the
agency and 3 + 3 + 3 = 9 days on the client.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask_babel import force_locale
from sqlalchemy import select

from portal.assets import service as assets
from portal.deliverables import service as deliverables
from portal.extensions import db
from portal.models import ExpectationNote, NoteSource, OutboxEmail, ProjectMember, Role
from portal.timeutil import utcnow
from portal.updates.dispatch import dispatch_weekly
from portal.waiting import month_splits
from tests.integration.asset_helpers import PDF, store_file
from tests.integration.deliverables_support import make_deliverable, submit

SLOT = datetime(2026, 11, 23, 6, tzinfo=UTC)  # Monday 09:00 in Istanbul
VIEWED = datetime(2026, 11, 20, 7, tzinfo=UTC)


def at(month: int, day: int, hour: int = 7):
    """Freeze the clock at a moment of 2026, in UTC."""
    return time_machine.travel(datetime(2026, month, day, hour, tzinfo=UTC), tick=False)


@pytest.fixture
def story(world):
    """Play the story above through the services; return the deliverable."""
    m, client, project = world.manager, world.own_client, world.project
    project.created_at = datetime(2025, 1, 1, tzinfo=UTC)
    db.session.commit()
    with at(10, 29):
        homepage = make_deliverable(m, project, "Homepage design")
    with at(11, 6):
        first = submit(m, homepage)
    with at(11, 9):
        deliverables.decide(client, first, outcome="changes_requested", reason_category="quality", text="Colours are off-brand")
        db.session.commit()
    with at(11, 10):
        second = submit(m, homepage)
    with at(11, 13):
        deliverables.decide(client, second, outcome="approve")
        db.session.commit()
    with at(11, 15):
        logo = assets.create_request(m, project, title="Logo files", kinds=["documents"], due_date=None, required=True)
        db.session.commit()
    with at(11, 18):
        store_file(client, project, logo, PDF, "logo.pdf")
        db.session.commit()
    return homepage


def test_the_deliverable_page_shows_the_split_to_staff_and_to_the_client(web, world, story):
    """Staff read the client's days as the client's; the client reads them as theirs, the agency's as "on us"."""
    with time_machine.travel(VIEWED, tick=False):
        web.login(world.manager)
        assert "Waiting so far: 9 days on us, 6 days on the client." in web.text(f"/deliverables/{story.id}")
        web.logout()
        web.login(world.own_client)
        assert "Waiting so far: 9 days on us, 6 days on you." in web.text(f"/deliverables/{story.id}")


def test_the_deliverable_page_speaks_turkish(web, world, story):
    """A Turkish-speaking client reads the same days in Turkish."""
    world.own_client.language = "tr"
    db.session.commit()
    with time_machine.travel(VIEWED, tick=False):
        web.login(world.own_client)
        assert "Şimdiye kadarki bekleme: 9 gün bizde, 6 gün sizde." in web.text(f"/deliverables/{story.id}")


def test_the_overview_shows_this_months_totals_of_deliverables_and_requests(web, world, story):
    """The month starts in the project's zone: October's days are left out, the logo's wait on us is in."""
    with time_machine.travel(VIEWED, tick=False):
        web.login(world.own_client)
        assert "This month: 8 days waiting on us, 9 days on you." in web.text(f"/projects/{world.project.id}")
        web.logout()
        web.login(world.manager)
        assert "This month: 8 days waiting on us, 9 days on the client." in web.text(f"/projects/{world.project.id}")


def test_the_weekly_email_and_note_say_the_months_split_in_each_language(world, make_user, story):
    """At Monday's slot the logo has waited on us since Thursday: 11 days on us, 9 on you, in English and in Turkish."""
    world.own_client.language = "tr"
    english = make_user(Role.CLIENT, world.own_org, name="Tom Reader", email="reader@example.com", language="en")
    db.session.add(ProjectMember(project=world.project, user=english, is_approver=False))
    db.session.commit()
    with time_machine.travel(SLOT + timedelta(minutes=1), tick=False):
        dispatch_weekly(utcnow(), project_id=world.project.id)
    emails = {e.to_address: e for e in db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "weekly"))}
    assert "This month: 11 days waiting on us, 9 days on you." in emails["reader@example.com"].text_body
    assert "This month: 11 days waiting on us, 9 days on you." in emails["reader@example.com"].html_body
    assert "Bu ay: 11 gün bizde, 9 gün sizde bekledi." in emails[world.own_client.email].text_body
    note = db.session.scalar(select(ExpectationNote).where(ExpectationNote.project_id == world.project.id, ExpectationNote.source == NoteSource.WEEKLY))
    [line] = [f for f in note.facts if f["kind"] == "waiting_month"]
    assert line["params"] == {"agency_days": 11, "client_days": 9, "month": "2026-11"}


def test_one_day_is_singular(app):
    """Plural forms come from the catalogue: 1 day, 2 days; 1 gün, 2 gün."""
    macros = app.jinja_env.get_template("_waiting.html").module
    with app.test_request_context():
        assert str(macros.this_month(1, 2)) == "This month: 1 day waiting on us, 2 days on you."
        with force_locale("tr"):
            assert str(macros.so_far(1, 2, staff=True)) == "Şimdiye kadarki bekleme: 1 gün bizde, 2 gün müşteride."


def test_nothing_is_said_in_a_month_when_nothing_waited_a_day(world):
    """A project without deliverables or requests has no waiting to report."""
    with time_machine.travel(SLOT + timedelta(minutes=1), tick=False):
        assert month_splits([world.project], utcnow())[world.project.id].is_empty
        dispatch_weekly(utcnow(), project_id=world.project.id)
    note = db.session.scalar(select(ExpectationNote).where(ExpectationNote.project_id == world.project.id))
    assert note is None or all(f["kind"] != "waiting_month" for f in note.facts)


def seed(world, names: range) -> None:
    """Give the project a deliverable in review and a request with files per name, all on 2 November."""
    with at(11, 2):
        for n in names:
            submit(world.manager, make_deliverable(world.manager, world.project, f"Page {n}"))
            item = assets.create_request(world.manager, world.project, title=f"Files {n}", kinds=["documents"], due_date=None, required=True)
            db.session.commit()
            store_file(world.own_client, world.project, item, PDF, "file.pdf")
            db.session.commit()


def queries_for(web, world, count_queries, count: int) -> tuple[int, int]:
    """Return the queries of the month's split and of the overview page, checking the split of ``count`` items of each kind."""
    assert world.project.timezone  # loaded before counting: the caller has its projects
    with time_machine.travel(VIEWED, tick=False):
        with count_queries() as split_queries:
            waited = month_splits([world.project], utcnow())[world.project.id]
        # 2 → 20 November: the deliverables wait on the client, the uploaded files on us.
        assert (waited.agency_days, waited.client_days) == (18 * count, 18 * count)
        web.login(world.manager)
        page = web.text(f"/projects/{world.project.id}")
        assert f"This month: {18 * count} days waiting on us, {18 * count} days on the client." in page
        with count_queries() as page_queries:
            web.text(f"/projects/{world.project.id}")
        web.logout()
    return split_queries.count, page_queries.count


def test_the_split_and_the_overview_run_the_same_queries_for_2_or_20_items(web, world, count_queries):
    """Loading the month's split, and the overview showing it, cost the same whatever the number of items."""
    seed(world, range(2))
    few = queries_for(web, world, count_queries, 2)
    seed(world, range(2, 20))
    many = queries_for(web, world, count_queries, 20)
    assert few == many
    assert few[0] == 3, few  # deliverables with their versions and reopenings (one union); requests; first uploads and reviews (one union)
