"""Calendar feeds: a private, revocable ICS address of the deadlines a person can see, in their language."""

from __future__ import annotations

import re
from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import select

from portal.assets import service as assets
from portal.extensions import db
from portal.models import CalendarFeed
from portal.timeutil import project_today
from tests.integration.deliverables_support import make_deliverable
from tests.integration.goals_support import agreed_goal

ADDRESS = re.compile(r'id="calendar-address"[^>]*value="([^"]+)"')


def make_address(make_web, user) -> tuple[object, str]:
    """Log ``user`` in, make their calendar address on the account page, and return (browser, the address's path)."""
    browser = make_web()
    browser.login(user)
    response = browser.post("/account/calendar")
    assert response.status_code == 201
    found = ADDRESS.search(response.get_data(as_text=True))
    assert found, "the new address is not shown"
    return browser, "/" + found.group(1).split("/", 3)[3]


def deadlines(world):
    """Give the world's project, and the other organisation's, one deadline of each kind."""
    today = project_today(world.project)
    made = {}
    for project, approver, tag in ((world.project, world.own_client, "ours"), (world.other_project, world.other_client, "theirs")):
        manager = project.manager
        make_deliverable(manager, project, title=f"Homepage {tag}", due_date=today + timedelta(days=10))
        assets.create_request(manager, project, title=f"Logo files {tag}", kinds=["images"], due_date=today + timedelta(days=5))
        db.session.commit()
        agreed_goal(manager, approver, project, title=f"More sign-ups {tag}")
        made[tag] = project
    return made


def parsed(response) -> Calendar:
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.get_data())


def test_the_feed_lists_what_the_person_can_see_and_parses_back(make_web, world):
    """RFC 5545 as icalendar reads it: the client's deliverable, files, goal and weekly slot, nothing of the other organisation."""
    deadlines(world)
    _, path = make_address(make_web, world.own_client)
    calendar = parsed(make_web().get(path))  # no login: the address is the key
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert {"Due: Homepage ours", "Files due: Logo files ours", "Goal target date: More sign-ups ours"} <= set(events)
    assert f"Weekly update: {world.project.name}" in events
    assert not any("theirs" in summary for summary in events)
    due = events["Due: Homepage ours"]
    assert due.decoded("dtstart") == project_today(world.project) + timedelta(days=10)
    assert all(e.get("uid") and e.get("dtstamp") for e in events.values())
    weekly = events[f"Weekly update: {world.project.name}"]
    assert weekly["rrule"]["FREQ"] == ["WEEKLY"]
    assert weekly["dtstart"].params["TZID"] == world.project.timezone
    assert any(str(zone["tzid"]) == world.project.timezone for zone in calendar.walk("VTIMEZONE"))


def test_the_feed_speaks_the_persons_language(make_web, world):
    """A Turkish-speaking person's calendar reads in Turkish."""
    deadlines(world)
    world.own_client.language = "tr"
    db.session.commit()
    _, path = make_address(make_web, world.own_client)
    calendar = parsed(make_web().get(path))
    summaries = [str(e["summary"]) for e in calendar.walk("VEVENT")]
    assert "Due: Homepage ours" not in summaries
    assert any("Homepage ours" in s for s in summaries)
    assert str(calendar["x-wr-calname"]) != "Rapport deadlines"


def test_the_address_is_kept_only_as_a_hash_and_shown_once(make_web, world):
    """The database holds the SHA-256 only; the account page afterwards says the address works, without it."""
    browser, path = make_address(make_web, world.own_client)
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    assert len(token) >= 40
    stored = db.session.scalars(select(CalendarFeed.token_hash)).all()
    assert stored and token not in stored
    page = browser.text("/account/")
    assert token not in page and "Your calendar address works." in page


def test_a_new_address_stops_the_old_one_and_stopping_ends_both(make_web, world):
    """Make a new address: the old one is a 404 at once; stop it: the new one too. A forged one never worked."""
    browser, first = make_address(make_web, world.manager)
    assert make_web().get(first).status_code == 200
    second = "/" + ADDRESS.search(browser.post("/account/calendar").get_data(as_text=True)).group(1).split("/", 3)[3]
    assert make_web().get(first).status_code == 404
    assert make_web().get(second).status_code == 200
    stopped = browser.post("/account/calendar/revoke")
    assert stopped.status_code == 302
    assert "The calendar address no longer works." in browser.text(stopped.headers["Location"])
    assert make_web().get(second).status_code == 404
    assert make_web().get("/calendar/" + "x" * 43 + ".ics").status_code == 404
    assert make_web().get("/calendar/" + "x" * 500 + ".ics").status_code == 404


def test_a_deactivated_person_s_address_stops(make_web, world):
    """Someone whose account was deactivated gets nothing from their old address."""
    _, path = make_address(make_web, world.own_client)
    world.own_client.active = False
    db.session.commit()
    assert make_web().get(path).status_code == 404


def test_making_an_address_needs_the_form_token_and_a_login(make_web, world):
    """A cross-site post cannot make or stop someone's address; a visitor is sent to log in."""
    browser = make_web()
    browser.login(world.own_client)
    assert browser.post("/account/calendar", csrf=False).status_code == 400
    assert browser.post("/account/calendar/revoke", csrf=False).status_code == 400
    assert db.session.scalar(select(CalendarFeed.id)) is None
    assert make_web().post("/account/calendar").status_code in (302, 401)


def test_the_feed_runs_the_same_queries_for_few_or_many_deadlines(make_web, world, count_queries):
    """Five queries or so whatever the number of projects' deadlines: the feed does not grow with them."""
    _, path = make_address(make_web, world.manager)
    counts = []
    for batch in range(2):
        for i in range(1 + batch * 8):
            make_deliverable(world.manager, world.project, title=f"D{batch}-{i}", due_date=project_today(world.project) + timedelta(days=i + 1))
        visitor = make_web()
        visitor.get(path)
        with count_queries() as q:
            assert visitor.get(path).status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1], counts
