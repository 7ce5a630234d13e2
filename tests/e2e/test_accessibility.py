"""Accessibility: axe-core finds no serious problem on the main pages, and they work on a phone."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.pages import horizontal_overflow, login_as

BLOCKING_IMPACTS = {"serious", "critical"}

_axe = Axe()


def blocking_violations(page: Page) -> list[dict]:
    """Run axe-core on the page and return its serious and critical violations."""
    results = _axe.run(page)
    return [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> str:
    """Say what axe found, with the first offending element of each rule, so a failure is actionable."""
    lines = []
    for violation in violations:
        node = violation["nodes"][0]
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}\n"
            f"    at {', '.join(map(str, node['target']))}: {node['html']}\n"
            f"    {node.get('failureSummary', '')}"
        )
    return "\n".join(lines)


# (who is logged in: an attribute of `world`, or None for a visitor; the page, from `world`)
MAIN_PAGES = {
    "login": (None, lambda world: "/login"),
    "client-home": ("own_client", lambda world: "/"),
    "manager-home": ("manager", lambda world: "/"),
    "project-as-client": ("own_client", lambda world: f"/projects/{world.project.id}"),
    "admin-people": ("admin", lambda world: "/admin/users"),
    "client-profile-as-admin": ("admin", lambda world: f"/clients/{world.own_org.id}"),
}


@pytest.mark.parametrize(("who", "path"), MAIN_PAGES.values(), ids=MAIN_PAGES.keys())
def test_main_page_has_no_serious_accessibility_violation(page: Page, live_server, world, who, path):
    """Axe-core reports no serious or critical violation on a main page."""
    if who is not None:
        login_as(page, live_server.url, getattr(world, who))
    response = page.goto(live_server.url + path(world))
    assert response is not None and response.status == 200
    violations = blocking_violations(page)
    assert not violations, f"axe-core found serious problems on {path(world)}:\n{describe(violations)}"


@pytest.mark.browser_context_args(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
def test_login_and_client_home_fit_a_phone_screen(page: Page, live_server, world):
    """On a phone, the login page and the client's home do not scroll sideways and the menu opens."""
    page.goto(f"{live_server.url}/login")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert horizontal_overflow(page) == 0, "the login page scrolls sideways on a phone"

    login_as(page, live_server.url, world.own_client)
    expect(page.get_by_role("link", name="E-commerce relaunch")).to_be_visible()
    assert horizontal_overflow(page) == 0, "the client's home scrolls sideways on a phone"

    menu = page.get_by_role("button", name="Menu")
    home_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Home", exact=True)
    expect(home_link).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(home_link).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
