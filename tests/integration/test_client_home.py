"""The client's home: a card per project, and "Needs your attention" across projects, oldest first, in constant queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from portal.assets import service as assets
from portal.extensions import db
from portal.models import AssetRequest, Project, ProjectMember, Role, Update, UpdateKind, UpdateStatus
from portal.timeutil import local_today, utcnow
from tests.integration.deliverables_support import make_deliverable, submit
from tests.integration.goals_support import propose


def logged_in(make_web, user):
    """Return a browser logged in as ``user``."""
    browser = make_web()
    browser.login(user)
    return browser


def attention(page: str) -> str:
    """Return the "Needs your attention" block of a page."""
    start = page.index('id="attention-heading"')
    return page[start : page.index("</section>", start)]


def weekly(project: Project, title: str = "Week 47") -> Update:
    """Publish a weekly update on ``project``."""
    update = Update(project=project, kind=UpdateKind.WEEKLY, status=UpdateStatus.PUBLISHED, title=title, body="All quiet.", published_at=utcnow())
    db.session.add(update)
    db.session.commit()
    return update


def test_every_kind_of_item_is_listed_oldest_first_with_a_link(make_web, world):
    """A request, a goal to sign, its assumption, a deliverable to review and a weekly update: each once, oldest first."""
    today = local_today(world.project.timezone)
    start = utcnow() - timedelta(days=10)
    with time_machine.travel(start, tick=False):
        request = assets.create_request(world.manager, world.project, title="Logo files", kinds=["images"], due_date=today + timedelta(days=1))
        db.session.commit()
    with time_machine.travel(start + timedelta(days=1), tick=False):
        goal = propose(world.manager, world.project, title="More online orders")
    with time_machine.travel(start + timedelta(days=2), tick=False):
        deliverable = make_deliverable(world.manager, world.project, title="Homepage design")
        submit(world.manager, deliverable)
    update = weekly(world.project)

    page = logged_in(make_web, world.own_client).text("/")
    block = attention(page)
    links = [
        f'href="/assets/requests/{request.id}"',
        f'href="/goals/{goal.id}"',  # the goal to sign
        f'href="/goals/{goal.id}#assumptions"',  # its assumption, proposed with it
        f'href="/deliverables/{deliverable.id}"',
        f'href="/projects/{world.project.id}/updates/{update.id}#ack-{update.id}"',
    ]
    positions = [block.index(link) for link in links]
    assert positions == sorted(positions), positions
    assert "Homepage design, version 1" in block and "You can decide" in block
    assert re.search(r"Waiting for <time datetime=\"[^\"]+\" title=\"[^\"]+\">1 week</time>", block)  # exact time on hover
    # The feature panels the list replaces are gone: nothing shows twice.
    assert "What we need from you" not in page and "Goals waiting for your signature" not in page
    assert page.count(f'href="/deliverables/{deliverable.id}"') == 1


def test_readers_see_who_must_decide(make_web, world, make_user):
    """A member who is not an approver sees the item and the approver's name."""
    reader = make_user(Role.CLIENT, world.own_org, name="Reader Rana")
    db.session.add(ProjectMember(project=world.project, user=reader, is_approver=False))
    db.session.commit()
    deliverable = make_deliverable(world.manager, world.project, title="Homepage design")
    submit(world.manager, deliverable)
    block = attention(logged_in(make_web, reader).text("/"))
    assert "Homepage design" in block and "An approver decides: Ayşe Client" in block and "You can decide" not in block


def test_resolved_items_leave_the_list(make_web, world):
    """Approving, uploading and acknowledging take items off the list; the empty state says what comes next."""
    deliverable = make_deliverable(world.manager, world.project, title="Homepage design")
    submit(world.manager, deliverable)
    update = weekly(world.project)
    client = logged_in(make_web, world.own_client)
    assert "Homepage design" in attention(client.text("/"))
    assert client.post(f"/deliverables/{deliverable.id}/versions/1/approve", {}).status_code in (200, 302, 303)
    assert client.post(f"/projects/{world.project.id}/updates/{update.id}/acknowledge", {"choice": "accurate"}).status_code in (200, 302, 303)
    block = attention(client.text("/"))
    assert "Homepage design" not in block and "Week 47" not in block
    assert "Nothing needs you right now" in block and "it appears here" in block


def test_a_request_to_close_a_goal_waits_for_the_client_until_answered(make_web, world):
    """The agency proposes to record a goal as missed: the client is asked to confirm; answering clears it."""
    from portal.goals import service as goals
    from portal.models import CloseOutcome
    from tests.integration.goals_support import agreed_goal

    goal = agreed_goal(world.manager, world.own_client, world.project, title="Spring leads", assumptions=[])
    closure = goals.close_goal(world.manager, goal, outcome=CloseOutcome.MISSED, reason="Budget cut", impact="Fewer leads in spring")
    db.session.commit()
    client = logged_in(make_web, world.own_client)
    block = attention(client.text("/"))
    assert "Close “Spring leads” as missed?" in block and f'href="/goals/{goal.id}"' in block and "You can decide" in block
    goals.answer_closure(world.own_client, closure, accept=True)
    db.session.commit()
    assert "Spring leads" not in attention(client.text("/"))


def test_returned_requests_and_overdue_dates_are_said(make_web, world):
    """A returned request says so; an overdue one says it was due."""
    request = assets.create_request(world.manager, world.project, title="Shop photos", kinds=["images"])
    db.session.commit()
    db.session.execute(
        AssetRequest.__table__.update()
        .where(AssetRequest.id == request.id)
        .values(due_date=local_today(world.project.timezone) - timedelta(days=3), status="returned")
    )
    db.session.commit()
    block = attention(logged_in(make_web, world.own_client).text("/"))
    assert "Returned with a note" in block and "Overdue: was due" in block


def test_another_organisations_items_never_show(make_web, world):
    """Items of another client's project are not on this client's home."""
    other = make_deliverable(world.other_manager, world.other_project, title="Catalogue cover")
    submit(world.other_manager, other)
    assets.create_request(world.other_manager, world.other_project, title="Northwind logo", kinds=["images"])
    db.session.commit()
    page = logged_in(make_web, world.own_client).text("/")
    assert "Catalogue cover" not in page and "Northwind logo" not in page and "Spring catalogue" not in page


def test_project_card_shows_health_goals_latest_update_and_next_deadline(make_web, world):
    """The card: health with its reason in words, goal progress, the latest update and the next deadline."""
    today = local_today(world.project.timezone)
    make_deliverable(world.manager, world.project, title="Launch checklist", due_date=today + timedelta(days=4))
    weekly(world.project, title="Week 47 summary")
    page = logged_in(make_web, world.own_client).text("/")
    cards = page[page.index('id="projects-heading"') :]
    assert "E-commerce relaunch" in cards
    assert "On track" in cards and "Nothing is late or behind plan" in cards
    assert "No agreed goals yet" in cards
    assert "Week 47 summary" in cards and "Launch checklist" in cards


def test_a_silent_project_says_why_it_is_at_risk(make_web, world):
    """Ten days without an update: at risk, "No update for 10 days" in words beside the badge."""
    db.session.add(Update(project=world.project, status=UpdateStatus.PUBLISHED, title="Old news", body="x", published_at=utcnow() - timedelta(days=10)))
    db.session.commit()
    page = logged_in(make_web, world.own_client).text("/")
    assert "At risk" in page and "No update for 10 days" in page


def test_turkish_home_renders(make_web, world):
    """The page renders in Turkish too (the lead translates the new strings)."""
    world.own_client.language = "tr"
    db.session.commit()
    assert logged_in(make_web, world.own_client).get("/").status_code == 200


@pytest.mark.parametrize("size", [5])
def test_home_queries_do_not_grow_with_projects_and_items(make_web, make_client, make_user, make_project, count_queries, size):
    """5 or 50 projects, each with a request, a goal to sign, a deliverable to review and a weekly update: same queries."""
    counts = []
    for n in (size, size * 10):
        org = make_client(f"Org {n}")
        person = make_user(Role.CLIENT, org)
        manager = make_user(Role.MANAGER)
        for i in range(n):
            project = make_project(org, manager, [(person, True)], name=f"Project {n}-{i}")
            assets.create_request(manager, project, title=f"Files {i}", kinds=["images"])
            db.session.commit()
            propose(manager, project, title=f"Goal {i}")
            submit(manager, make_deliverable(manager, project, title=f"Deliverable {i}"))
            weekly(project, title=f"Week {i}")
        browser = logged_in(make_web, person)
        browser.text("/")  # warm up: sessions, caches
        with count_queries() as q:
            page = browser.text("/")
        assert page.count('class="py-2 border-bottom attention-item"') == 5 * n
        counts.append(q.count)
    assert counts[0] == counts[1], counts
