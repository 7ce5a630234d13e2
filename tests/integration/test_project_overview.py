"""The project overview: health first, the features' blocks, and an activity timeline filterable by kind."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal import activity
from portal.assets import service as assets
from portal.expectations import service as expectations
from portal.extensions import db
from portal.models import Role, Update, UpdateStatus
from portal.timeutil import local_today, utcnow
from tests.integration.deliverables_support import make_deliverable, submit
from tests.integration.goals_support import propose


def logged_in(make_web, user):
    """Return a browser logged in as ``user``."""
    browser = make_web()
    browser.login(user)
    return browser


def timeline(page: str) -> str:
    """Return the activity block of the overview."""
    start = page.index('id="activity"')
    return page[start : page.index("</section>", start)]


def test_overview_shows_health_then_every_block(make_web, world):
    """Health with its reasons in words, goals, deliverables, requests, updates, expectations and activity."""
    today = local_today(world.project.timezone)
    make_deliverable(world.manager, world.project, title="Homepage design", due_date=today + timedelta(days=3))
    db.session.execute(
        db.metadata.tables["deliverables"].update().values(due_date=today - timedelta(days=2))
    )
    db.session.commit()
    page = logged_in(make_web, world.own_client).text(f"/projects/{world.project.id}")
    assert page.index('id="health-heading"') < page.index("Homepage design")
    assert "At risk" in page and "1 item is overdue, the oldest by 2 days" in page
    for heading in ("Goals", "Deliverables", "Activity"):
        assert heading in page
    assert 'id="activity"' in page


def test_clients_never_see_internal_events_or_notes(make_web, world):
    """An internal event and an internal expectation note are on the staff overview only."""
    activity.record(world.manager, "project.updated", world.project, project=world.project, data={"title": "Secret margin"}, internal=True)
    for reality, visibility in (("Internal worry", "internal"), ("Shared reality", "shared")):
        note = {"expected": "Launch in May", "reality": reality, "visibility": visibility, "assessment": "as_expected"}
        expectations.create_note(world.manager, world.project, note)
    db.session.commit()
    client_page = logged_in(make_web, world.own_client).text(f"/projects/{world.project.id}")
    assert "Secret margin" not in client_page and "Internal worry" not in client_page and "Shared reality" in client_page
    assert "Staff only" not in timeline(client_page)
    staff_page = logged_in(make_web, world.manager).text(f"/projects/{world.project.id}")
    assert "Secret margin" in timeline(staff_page) and "Internal worry" in staff_page


def test_timeline_filters_by_kind_and_pages_older(make_web, world):
    """?kind=goals keeps goal events; "Older activity" leads to the next page; links work without JavaScript."""
    propose(world.manager, world.project, title="More online orders")
    deliverable = make_deliverable(world.manager, world.project, title="Homepage design")
    submit(world.manager, deliverable)
    client = logged_in(make_web, world.own_client)
    goals_only = timeline(client.text(f"/projects/{world.project.id}?kind=goals"))
    assert 'data-verb="goal.proposed"' in goals_only and "deliverable." not in goals_only
    assert 'aria-current="page"' in goals_only
    deliverables_only = timeline(client.text(f"/projects/{world.project.id}?kind=deliverables"))
    assert 'data-verb="deliverable.version_submitted"' in deliverables_only and "goal." not in deliverables_only

    for n in range(25):
        activity.record(world.manager, "deliverable.commented", deliverable, project=world.project, data={"title": f"Comment {n:02d}"})
    db.session.commit()
    first = timeline(client.text(f"/projects/{world.project.id}?kind=deliverables"))
    assert "Comment 24" in first and "Comment 04" not in first and "Older activity" in first
    older = first[first.index("Older activity") - 300 :]
    href = older[older.index('href="') + 6 : older.index('"', older.index('href="') + 6)].replace("&amp;", "&")
    second = timeline(client.text(href))
    assert "Comment 04" in second and "Comment 24" not in second and "Older activity" not in second


@pytest.mark.parametrize("query", ["?kind=nonsense", "?kind=", "?before=abc", "?before=-5", "?before=99999999999999999999", "?kind=goals&before=0"])
def test_bad_filter_values_show_the_page(make_web, world, query):
    """Unknown kinds and broken cursors are ignored, never a 500."""
    assert logged_in(make_web, world.own_client).get(f"/projects/{world.project.id}{query}").status_code == 200


def test_another_clients_project_is_404(make_web, world):
    """Another organisation's project, with or without a filter, is not found."""
    client = logged_in(make_web, world.own_client)
    assert client.get(f"/projects/{world.other_project.id}").status_code == 404
    assert client.get(f"/projects/{world.other_project.id}?kind=goals").status_code == 404


def test_overview_queries_do_not_grow_with_items(make_web, make_client, make_user, make_project, count_queries):
    """5 or 50 goals, deliverables, requests, updates and events: the same number of queries, for client and staff."""
    counts = []
    for n in (5, 50):
        org = make_client(f"Org {n}")
        person = make_user(Role.CLIENT, org)
        manager = make_user(Role.MANAGER)
        project = make_project(org, manager, [(person, True)], name=f"Project {n}")
        for i in range(n):
            assets.create_request(manager, project, title=f"Files {i}", kinds=["images"])
            db.session.commit()
            propose(manager, project, title=f"Goal {i}")
            submit(manager, make_deliverable(manager, project, title=f"Deliverable {i}"))
            db.session.add(Update(project=project, status=UpdateStatus.PUBLISHED, title=f"Update {i}", body="x", published_at=utcnow()))
        db.session.commit()
        for user in (person, manager):
            browser = logged_in(make_web, user)
            browser.text(f"/projects/{project.id}")  # warm up
            with count_queries() as q:
                browser.text(f"/projects/{project.id}?kind=goals")
            counts.append((user.role, q.count))
    assert counts[:2] == counts[2:], counts
    # Where the page stands (issue 12 aims at 12): more is a regression.
    # +2 since: the incidents block, and health's reading of the incidents recovered from (issue 13).
    ceiling = {Role.CLIENT: 24, Role.MANAGER: 27}
    assert all(count <= ceiling[role] for role, count in counts), counts
