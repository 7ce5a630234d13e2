"""The pages people use: requesting, the client's checklist, reviewing; with constant queries per page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.assets import service
from portal.extensions import db
from portal.models import AssetRequest, AssetRequestStatus, Project, ProjectMember, Role
from portal.timeutil import project_today
from tests.integration.asset_helpers import png_bytes, store_file


@pytest.fixture
def manager_web(make_web, world):
    """The project's account manager, logged in."""
    browser = make_web()
    browser.login(world.manager)
    return browser


@pytest.fixture
def client_web(make_web, world):
    """The client member, logged in."""
    browser = make_web()
    browser.login(world.own_client)
    return browser


def request_form(**values) -> dict:
    """Return a filled-in request form."""
    return {"title": "Logo as a vector file", "instructions": "SVG or EPS", "kinds": ["images"], "due_date": "", "required": "y", **values}


def test_staff_request_files_and_the_client_finds_them_on_their_checklist(manager_web, client_web, world):
    """A request made on the form shows on the client's home ("What we need from you") and the project page."""
    in_five_days = project_today(world.project) + timedelta(days=5)
    response = manager_web.post(f"/projects/{world.project.id}/assets/requests/new", request_form(due_date=in_five_days.isoformat()))
    assert response.status_code == 302
    asset_request = db.session.scalars(select(AssetRequest)).one()
    assert response.headers["Location"] == f"/assets/requests/{asset_request.id}"
    assert asset_request.kinds == ["images"] and asset_request.required

    home = client_web.text("/")
    assert "Needs your attention" in home and "Logo as a vector file" in home and "Files requested" in home
    project_page = client_web.text(f"/projects/{world.project.id}")
    assert "What we need from you" in project_page and "Needed" in project_page
    request_page = client_web.text(f"/assets/requests/{asset_request.id}")
    assert 'type="file" name="files" multiple' in request_page and '<label for="request-files"' in request_page
    assert ">Accept<" not in request_page and "Return with note" not in request_page and "Cancel request" not in request_page


def test_a_bad_request_form_keeps_what_was_typed(manager_web, world):
    """Missing kinds and a past date: 422 with each message on its field, the typed title kept."""
    response = manager_web.post(
        f"/projects/{world.project.id}/assets/requests/new",
        request_form(title="Photos of the shop", kinds=[], due_date=(project_today(world.project) - timedelta(days=1)).isoformat()),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose at least one kind of file." in page and 'value="Photos of the shop"' in page
    yesterday = project_today(world.project) - timedelta(days=1)
    response = manager_web.post(f"/projects/{world.project.id}/assets/requests/new", request_form(due_date=yesterday.isoformat()))
    assert response.status_code == 422 and "The due date cannot be in the past." in response.get_data(as_text=True)
    assert db.session.scalar(select(AssetRequest)) is None


def test_editing_and_cancelling_on_the_pages(manager_web, world):
    """Staff edit an open request, then cancel it; the cancelled request leaves the checklist."""
    asset_request = service.create_request(world.manager, world.project, title="Logo", kinds=["images"])
    db.session.commit()
    edit = manager_web.text(f"/assets/requests/{asset_request.id}/edit")
    assert 'value="Logo"' in edit and 'value="images" id="kind-images" aria-describedby="kind-images-help" checked' in edit
    response = manager_web.post(f"/assets/requests/{asset_request.id}/edit", request_form(title="Logo (SVG)", kinds=["images", "documents"]))
    assert response.status_code == 302
    assert db.session.get(AssetRequest, asset_request.id).kinds == ["images", "documents"]
    page = manager_web.text(f"/assets/requests/{asset_request.id}")
    assert "data-confirm=" in page  # cancelling asks first
    assert manager_web.post(f"/assets/requests/{asset_request.id}/cancel").status_code == 302
    assert db.session.get(AssetRequest, asset_request.id).status is AssetRequestStatus.CANCELLED
    assert "Nothing requested yet" in manager_web.text(f"/projects/{world.project.id}")
    assert manager_web.post(f"/assets/requests/{asset_request.id}/cancel").status_code == 409


def test_reviewing_on_the_page(manager_web, client_web, world):
    """Return needs a note (422, typed text kept); accept closes it; a second accept is a 409, not a 500."""
    asset_request = service.create_request(world.manager, world.project, title="Logo", kinds=["images"])
    store_file(world.own_client, world.project, asset_request, png_bytes(), "logo.png")
    db.session.commit()
    staff_home = manager_web.text("/")
    assert "Files waiting for your review" in staff_home and "Logo" in staff_home

    empty = manager_web.post(f"/assets/requests/{asset_request.id}/return", {"note": "  "})
    assert empty.status_code == 422 and "Tell the client what to change" in empty.get_data(as_text=True)
    returned = manager_web.post(f"/assets/requests/{asset_request.id}/return", {"note": "The logo must be a vector file"})
    assert returned.status_code == 302
    client_page = client_web.text(f"/assets/requests/{asset_request.id}")
    assert "The logo must be a vector file" in client_page and "Upload version 2" in client_page
    assert "Returned with a note" in client_web.text("/")

    store_file(world.own_client, world.project, db.session.get(AssetRequest, asset_request.id), png_bytes(), "logo.svg.png")
    db.session.commit()
    assert manager_web.post(f"/assets/requests/{asset_request.id}/accept").status_code == 302
    twice = manager_web.post(f"/assets/requests/{asset_request.id}/accept")
    assert twice.status_code == 409 and "This request was already accepted." in twice.get_data(as_text=True)
    project_page = client_web.text(f"/projects/{world.project.id}")
    assert "1 of 1 provided" in project_page and "Done" in project_page
    assert "What we need from you" not in client_web.text("/")  # nothing outstanding: the home panel steps aside


def test_outstanding_requests_are_on_the_home_with_their_due_dates(client_web, world):
    """The client's "Needs your attention" lists what is still needed (oldest first), saying which is overdue."""
    today = project_today(world.project)
    for title, days in (("Texts", 5), ("Photos", -2), ("Logo", 1)):
        due = today + timedelta(days=days)
        service.create_request(world.manager, world.project, title=title, kinds=["any"], due_date=due, today=today - timedelta(days=10))
    db.session.commit()
    home = client_web.text("/")
    block = home[home.index("Needs your attention") :]
    assert "Texts" in block and "Photos" in block and "Logo" in block
    assert block.count("Overdue: was due") == 1


def test_empty_states_say_what_to_do(manager_web, client_web, world):
    """With nothing requested, staff are invited to ask and the client is told nothing is needed."""
    assert "Ask the client for what you need" in manager_web.text(f"/projects/{world.project.id}/assets")
    page = client_web.text(f"/projects/{world.project.id}/assets")
    assert "Nothing is needed from you right now" in page and "No shared files yet" in page


def _requests(project: Project, count: int) -> None:
    today = project_today(project)
    for n in range(count):
        asset_request = service.create_request(project.manager, project, title=f"Item {n}", kinds=["images"], due_date=today + timedelta(days=n % 5))
        if n % 3 == 0:
            store_file(project.members[0].user, project, asset_request, png_bytes(8, 8), f"item-{n}.png")
    db.session.commit()


@pytest.mark.parametrize("url", ["/", "/projects/{project}", "/projects/{project}/assets"])
def test_pages_run_the_same_queries_for_5_and_50_requests(make_web, make_project, make_client, make_user, count_queries, url):
    """The checklist blocks and the files page do not query per request."""
    counts = []
    for size in (5, 50):
        org = make_client(f"Org {size}")
        person = make_user(Role.CLIENT, org)
        project = make_project(org, members=[(person, True)], name=f"Project {size}")
        _requests(project, size)
        browser = make_web()
        browser.login(person)
        with count_queries() as q:
            assert browser.get(url.format(project=project.id)).status_code == 200
        counts.append(q.count)
        db.session.execute(ProjectMember.__table__.delete().where(ProjectMember.user_id == person.id))
        db.session.commit()
    assert counts[0] == counts[1], counts


def test_staff_home_panel_queries_do_not_grow(make_web, world, make_client, make_user, make_project, count_queries):
    """The manager's "waiting for your review" panel is one query, however many submissions wait."""
    counts = []
    for size in (5, 50):
        manager = make_user(Role.MANAGER)
        org = make_client(f"Org {size}")
        person = make_user(Role.CLIENT, org)
        project = make_project(org, manager, [(person, True)], name=f"Reviewed {size}")
        _requests(project, size)
        browser = make_web()
        browser.login(manager)
        with count_queries() as q:
            page = browser.text("/")
        assert "Files waiting for your review" in page
        counts.append(q.count)
    assert counts[0] == counts[1], counts
