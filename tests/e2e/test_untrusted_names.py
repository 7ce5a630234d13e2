"""Names are data, never markup: what a client or a person types as a name is shown literally."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from portal.models import Role
from tests.e2e.pages import login_as, record_dialogs

ORGANISATION = "<img src=x onerror=alert(1)>"
PERSON = "<script>alert(2)</script>"


def test_markup_in_names_is_shown_as_text_on_staff_pages(page: Page, live_server, make_client, make_user, make_project):
    """An organisation and a person named with HTML appear as literal text and run no script on staff pages."""
    organisation = make_client(ORGANISATION)
    person = make_user(Role.CLIENT, organisation, name=PERSON)
    project = make_project(organisation, members=[(person, True)], name="Brand refresh")
    admin = make_user(Role.ADMIN)
    dialogs = record_dialogs(page)
    login_as(page, live_server.url, admin)

    # Staff home: the project's client and the list of clients.
    projects = page.get_by_role("region", name=re.compile("^Projects"))
    expect(projects.get_by_role("link", name="Brand refresh")).to_contain_text(ORGANISATION)
    expect(page.get_by_role("region", name="Clients").get_by_role("link", name=ORGANISATION, exact=True)).to_be_visible()
    expect(page.locator("img[src='x']")).to_have_count(0)
    assert dialogs == [], "a name ran script on the staff home"

    # The client's page: its name as the heading, the person among its people.
    page.goto(f"{live_server.url}/clients/{organisation.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(ORGANISATION)
    expect(page.get_by_role("region", name="People")).to_contain_text(PERSON)
    expect(page.locator("img[src='x']")).to_have_count(0)
    expect(page.locator("main script")).to_have_count(0)
    assert dialogs == [], "a name ran script on the client page"

    # The project page: the client in the breadcrumb and header, the person among the members.
    page.goto(f"{live_server.url}/projects/{project.id}")
    expect(page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=ORGANISATION, exact=True)).to_be_visible()
    expect(page.get_by_role("region", name="Client members")).to_contain_text(PERSON)
    expect(page.locator("img[src='x']")).to_have_count(0)
    expect(page.locator("main script")).to_have_count(0)
    assert dialogs == [], "a name ran script on the project page"
