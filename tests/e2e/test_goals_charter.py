"""The goal charter story in a browser: propose, counter-propose, agree, confirm an assumption, check in, read the chart."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.goals import service
from portal.timeutil import project_today
from tests.e2e.pages import login_as
from tests.e2e.test_accessibility import blocking_violations, describe
from tests.integration.goals_support import agreed_goal

GOAL = "More online orders"
CHART = f"Expected and actual values of “{GOAL}”"


def test_manager_and_client_agree_a_goal_and_follow_it_on_the_chart(page: Page, new_context, live_server, world):
    """Both sides co-set a goal: the client counter-proposes, the manager agrees, and both see progress."""
    base = live_server.url
    target_date = (project_today(world.project) + timedelta(days=90)).isoformat()

    # The manager proposes a goal with a numeric target and one assumption.
    login_as(page, base, world.manager)
    page.goto(f"{base}/projects/{world.project.id}")
    goals = page.get_by_role("region", name="Goals")
    expect(goals.get_by_text("No goals yet")).to_be_visible()
    goals.get_by_role("link", name="Propose a goal").click()
    page.get_by_label("Title").fill(GOAL)
    page.get_by_label("Why it matters").fill("The new shop must pay for itself this year.")
    page.get_by_label("Metric", exact=True).fill("Online orders per month")
    page.get_by_label("Baseline", exact=True).fill("120")
    page.get_by_label("Target", exact=True).fill("200")
    page.get_by_label("Unit").select_option(label="Orders")
    page.get_by_label("Target date").fill(target_date)
    page.get_by_label("Assumptions").fill("Product photos arrive before the campaign starts")
    page.get_by_role("button", name="Propose the goal").click()
    expect(page.get_by_role("status").filter(has_text="Your proposal is sent.")).to_be_visible()
    expect(page.get_by_text("Waiting for the client’s signature.")).to_be_visible()

    # The client approver finds it on their home page and counter-proposes a lower target.
    client = new_context().new_page()
    login_as(client, base, world.own_client)
    waiting = client.get_by_role("region", name="Needs your attention")
    waiting.get_by_role("link", name=GOAL, exact=True).click()
    expect(client.get_by_role("button", name="Agree to revision 1")).to_be_visible()
    client.get_by_role("link", name="Counter-propose").click()
    expect(client.get_by_label("Target", exact=True)).to_have_value("200")
    client.get_by_label("Target", exact=True).fill("170")
    client.get_by_label("What changed and why").fill("200 is too ambitious before the photos are ready.")
    client.get_by_role("button", name="Send the counter-proposal").click()
    expect(client.get_by_role("status").filter(has_text="Revision 2 is proposed.")).to_be_visible()
    expect(client.get_by_text("Waiting for the agency’s signature.")).to_be_visible()

    # The manager reads the new terms and agrees.
    page.reload()
    expect(page.get_by_text("Waiting for the agency’s signature.")).to_be_visible()
    page.get_by_role("button", name="Agree to revision 2").click()
    expect(page.get_by_role("status").filter(has_text="Revision 2 is agreed: both sides signed it.")).to_be_visible()
    header_status = page.locator("[data-goal-status]")
    expect(header_status).to_contain_text("Agreed")
    signatures = page.get_by_role("list", name="Signatures on revision 2")
    expect(signatures).to_contain_text("Signed for the client by Ayşe Client")
    expect(signatures).to_contain_text("Signed for the agency by Can Manager")

    # The client sees the agreement too, and confirms the assumption.
    client.reload()
    expect(client.locator("[data-goal-status]")).to_contain_text("Agreed")
    expect(client.get_by_role("list", name="Signatures on revision 2")).to_contain_text("Signed for the agency by Can Manager")
    assumption = client.get_by_role("article", name="Product photos arrive before the campaign starts")
    expect(assumption).to_contain_text("Not confirmed yet")
    assumption.get_by_label("Confirm: this holds").check()
    assumption.get_by_role("button", name="Send the answer").click()
    expect(client.get_by_role("status").filter(has_text="Your answer is recorded.")).to_be_visible()
    expect(client.get_by_role("article", name="Product photos arrive before the campaign starts")).to_contain_text("Confirmed by Ayşe Client")

    # The manager records a check-in; both see the expected-vs-actual chart.
    page.reload()
    page.get_by_role("textbox", name="Actual value").fill("140")
    page.get_by_label("Note").last.fill("First campaign week")
    page.get_by_role("button", name="Record the check-in").click()
    expect(page.get_by_role("status").filter(has_text="The check-in is recorded.")).to_be_visible()
    for viewer in (page, client):
        viewer.reload()
        chart = viewer.get_by_role("img", name=CHART)
        expect(chart).to_be_visible()
        expect(viewer.locator("[data-chart-summary]")).to_contain_text("Actual on")
        expect(viewer.locator("[data-chart-summary]")).to_contain_text("140 orders")
        expect(viewer.locator("[data-figure='actual']")).to_contain_text("140 orders")
        expect(chart.locator("circle.chart-point")).to_have_count(1)
        expect(chart.locator("polyline.chart-expected")).to_have_count(1)


@pytest.mark.parametrize("who", ["own_client", "manager"])
def test_goal_page_with_its_chart_has_no_serious_accessibility_violation(page: Page, live_server, world, who):
    """Axe-core finds nothing serious on a goal page with assumptions, check-ins, chart and forms."""
    with live_server_request(live_server):
        goal = agreed_goal(world.manager, world.own_client, world.project)
        service.record_check_in(world.manager, goal, measured_on=project_today(world.project), value=Decimal(131))
        db.session.commit()
        goal_id = goal.id
    login_as(page, live_server.url, getattr(world, who))
    for path in (f"/goals/{goal_id}", f"/goals/{goal_id}/history", f"/projects/{world.project.id}/goals", f"/projects/{world.project.id}"):
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200
        violations = blocking_violations(page)
        assert not violations, f"axe-core found serious problems on {path}:\n{describe(violations)}"


@pytest.mark.browser_context_args(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
def test_goal_page_fits_a_phone_screen(page: Page, live_server, world):
    """On a phone the goal page and its chart do not scroll sideways."""
    from tests.e2e.pages import horizontal_overflow

    with live_server_request(live_server):
        goal = agreed_goal(world.manager, world.own_client, world.project)
        service.record_check_in(world.manager, goal, measured_on=project_today(world.project), value=Decimal(131))
        db.session.commit()
        goal_id = goal.id
    login_as(page, live_server.url, world.own_client)
    page.goto(f"{live_server.url}/goals/{goal_id}")
    expect(page.get_by_role("img", name=re.compile("Expected and actual values"))).to_be_visible()
    assert horizontal_overflow(page) == 0


def live_server_request(live_server):
    """Return a request context of the served app, to seed through the services."""
    from flask import current_app

    return current_app.test_request_context()
