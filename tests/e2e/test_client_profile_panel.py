"""The client's profile beside the update form: a few lines on a phone, the rest a keypress away, nothing for axe to flag."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.models import ClientDecisionMaker, PreferredChannel, Role
from tests.e2e.pages import horizontal_overflow, login_as

LONG = "Supercalifragilistic" * 10  # 200 characters, no place to break
SENSITIVE = f"Deadlines, after a delay with their previous agency. {LONG} " + "Ask before any launch date moves. " * 6
PHONE = {"width": 375, "height": 800}


@pytest.fixture
def profiled(world, make_user):
    """The own organisation with a long profile and a decision maker with an account and a long email."""
    org = world.own_org
    org.sensitivities = SENSITIVE
    org.decision_makers = "Hakan Bey — finance, no account\nLeyla Hanım — marketing"
    org.preferred_channel = PreferredChannel.MEETING
    decider = make_user(Role.CLIENT, org, name="Mehmet Decider", email=f"mehmet.{'x' * 60}@anadolu.example")
    db.session.add(ClientDecisionMaker(client_id=org.id, user_id=decider.id))
    db.session.commit()
    return world


@pytest.mark.parametrize("language", ["en", "tr"])
def test_the_profile_panel_fits_a_phone_and_opens_in_full(page: Page, live_server, profiled, language):
    """At 375 px the panel is a few lines beside the update form; its full profile opens from the keyboard and still fits."""
    profiled.manager.language = language  # the interface switches to it after login
    db.session.commit()
    page.set_viewport_size(PHONE)
    login_as(page, live_server.url, profiled.manager)
    page.goto(f"{live_server.url}/projects/{profiled.project.id}/updates/new")
    panel = page.locator("[data-client-profile]")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", level=2)).to_be_visible()
    expect(panel.get_by_text("Mehmet Decider").first).to_be_visible()
    assert horizontal_overflow(page) == 0
    collapsed = panel.bounding_box()
    assert collapsed is not None and collapsed["height"] < 360, f"the collapsed panel is {collapsed} tall"

    summary = panel.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(panel.locator("details")).to_have_attribute("open", "")
    expect(panel.get_by_text(re.compile("Ask before any launch date moves"))).to_be_visible()
    expect(panel.get_by_text(re.compile(r"mehmet\.x+@anadolu\.example"))).to_be_visible()
    assert horizontal_overflow(page) == 0

    violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in {"serious", "critical"}]
    assert not violations, [(v["id"], v["nodes"][0]["html"]) for v in violations]
