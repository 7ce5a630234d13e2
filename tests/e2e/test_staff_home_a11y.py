"""The manager's home with a full attention queue: axe-core finds no serious problem, on a desktop and a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import horizontal_overflow, login_as
from tests.e2e.test_accessibility import blocking_violations, describe
from tests.integration.test_staff_home import HEADINGS, seed_queue


@pytest.fixture
def busy_queue(world, make_project):
    """Give the manager one item of every kind (and a quiet project)."""
    quiet = make_project(world.own_org, world.manager, name="Quiet loyalty app")
    return seed_queue(world.project, world.own_client, "A", quiet=quiet)


def test_manager_home_with_every_kind_has_no_serious_violation(page: Page, live_server, world, busy_queue):
    """Every group of the queue is a named region with its items, and axe-core finds nothing serious."""
    login_as(page, live_server.url, world.manager)
    page.goto(live_server.url + "/")
    for heading in HEADINGS:
        expect(page.get_by_role("region", name=heading)).to_be_visible()
    decisions = page.get_by_role("region", name="Waiting for the client’s decision")
    expect(decisions.get_by_role("link", name=busy_queue.decision)).to_be_visible()
    expect(decisions.locator("time[title]").first).to_be_visible()  # relative age, exact time on hover
    violations = blocking_violations(page)
    assert not violations, f"axe-core found serious problems on the manager's home:\n{describe(violations)}"


@pytest.mark.browser_context_args(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
def test_manager_home_fits_a_phone(page: Page, live_server, world, busy_queue):
    """On a phone the queue stacks and the page does not scroll sideways."""
    login_as(page, live_server.url, world.manager)
    page.goto(live_server.url + "/")
    expect(page.get_by_role("region", name="Concerns raised by clients")).to_be_visible()
    assert not horizontal_overflow(page)
    violations = blocking_violations(page)
    assert not violations, f"axe-core found serious problems on the manager's home on a phone:\n{describe(violations)}"
