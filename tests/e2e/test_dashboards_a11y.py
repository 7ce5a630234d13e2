"""The client's home and the project overview in a browser: axe-core finds nothing serious, a phone needs no sideways scroll."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import horizontal_overflow, login_as
from tests.e2e.test_accessibility import blocking_violations, describe


@pytest.mark.parametrize("path", ["/", "/projects/{project}", "/projects/{project}?kind=goals"])
def test_dashboards_have_no_serious_accessibility_violation(page: Page, live_server, busy_world, path):
    """Axe-core reports no serious or critical violation on the client's home and the project overview."""
    login_as(page, live_server.url, busy_world.own_client)
    response = page.goto(live_server.url + path.format(project=busy_world.project.id))
    assert response is not None and response.status == 200
    violations = blocking_violations(page)
    assert not violations, f"axe-core found serious problems on {path}:\n{describe(violations)}"


@pytest.mark.browser_context_args(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
def test_client_resolves_an_item_and_the_list_shrinks_on_a_phone(page: Page, live_server, busy_world):
    """On a 375 px phone: the list shows the review, the goal and the overdue request; approving takes the review off."""
    base = live_server.url
    login_as(page, base, busy_world.own_client)
    needs = page.get_by_role("region", name="Needs your attention")
    items = needs.get_by_role("listitem")
    expect(items).to_have_count(5)  # request, goal, its assumption, deliverable, weekly update
    expect(needs).to_contain_text("Homepage design")
    expect(needs).to_contain_text("More online orders")
    expect(needs).to_contain_text("Overdue")
    assert horizontal_overflow(page) == 0, "the client's home scrolls sideways on a phone"

    needs.get_by_role("link", name="Homepage design, version 1").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Approve version 1").click()
    expect(page.get_by_role("status").filter(has_text="your approval of version 1 is recorded")).to_be_visible()

    page.goto(f"{base}/")
    expect(needs.get_by_role("listitem")).to_have_count(4)
    expect(needs).not_to_contain_text("Homepage design")

    page.goto(f"{base}/projects/{busy_world.project.id}")
    expect(page.get_by_role("heading", name="Health")).to_be_visible()
    assert horizontal_overflow(page) == 0, "the project overview scrolls sideways on a phone"
