"""The incident story: a manager opens a shared incident with a plan, the weekly update leads with it, the client accepts and sees steps tick off."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxEmail
from portal.timeutil import utcnow, zone_named
from tests.e2e.pages import login_as
from tests.e2e.test_accessibility import blocking_violations, describe

TITLE = "The shop was down for three hours"
IMPACT = "About 40 orders were lost on the first day of the sale."
STEPS = ("Restore the payment service", "Send the list of lost orders", "Refund every affected customer")


def add_step(page: Page, title: str, day: str, owner: str) -> None:
    """Add a step to the plan through the form on the incident page."""
    page.get_by_label("Step").fill(title)
    page.get_by_label("Date").fill(day)
    page.get_by_label("Who does it").select_option(label=owner)
    page.get_by_role("button", name="Add the step").click()
    expect(page.get_by_role("status").filter(has_text="The step is added to the plan.")).to_be_visible()


def mark_done(page: Page, title: str) -> None:
    """Mark one step of the plan done, as the manager."""
    page.locator(".incident-steps li", has_text=title).get_by_role("button", name="Mark done").click()
    expect(page.get_by_role("status").filter(has_text="The step is marked done and the client has been told.")).to_be_visible()


def test_a_shared_incident_leads_the_weekly_update_and_the_client_follows_its_plan(page: Page, new_context, live_server, world, runner):
    """Open, plan, weekly update (preview and email) led by it, the client accepts, steps tick off; axe is content."""
    base = live_server.url
    project = world.project
    local_now = utcnow().astimezone(zone_named(world.manager.timezone))
    detected = (local_now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    days = [(local_now.date() + timedelta(days=n)).isoformat() for n in (1, 2, 4)]

    # The manager opens a shared incident from the project page; the impact is required.
    login_as(page, base, world.manager)
    page.goto(f"{base}/projects/{project.id}")
    page.get_by_role("link", name="Open an incident").click()
    page.get_by_label("What happened").fill(TITLE)
    page.get_by_label("Detected at").fill(detected)
    page.get_by_label("Who is affected").fill("Every customer paying by card")
    page.get_by_role("button", name="Open the incident").click()
    expect(page.get_by_text("Say how this affects the client: it is what they read first.")).to_be_visible()
    expect(page.get_by_label("What happened")).to_have_value(TITLE)
    page.get_by_label("Impact on the client").fill(IMPACT)
    page.get_by_role("button", name="Open the incident").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)

    # A plan of three dated steps, one of them the client's.
    add_step(page, STEPS[0], days[0], world.manager.name)
    add_step(page, STEPS[1], days[1], "The client")
    add_step(page, STEPS[2], days[2], world.manager.name)
    expect(page.locator("#plan-progress")).to_have_text("0 of 3 steps done")
    incident_url = page.url.split("#")[0]

    # The coming weekly update leads with it.
    page.goto(f"{base}/projects/{project.id}/weekly")
    body = page.locator(".weekly-body")
    expect(body.get_by_role("heading").first).to_have_text("Off track and at risk")
    expect(body.locator("li.fact").first).to_contain_text(f"Incident: {TITLE}.")
    expect(body.locator("li.fact").first).to_contain_text("Recovery plan: 0 of 3 steps done.")
    expect(body.locator("li.fact").first).to_contain_text(f"Next: “{STEPS[0]}”")

    # The weekly update goes out; the client's email leads with the incident too.
    result = runner.invoke(args=["portal", "send-weekly", "--project", str(project.id), "--now"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "weekly", OutboxEmail.to_address == world.own_client.email))
    db.session.rollback()
    assert email is not None
    text = email.text_body
    assert "OFF TRACK AND AT RISK" in text
    first_fact = text[text.index("OFF TRACK AND AT RISK") :].split("\n- ", 1)[1]
    assert first_fact.startswith(f"Incident: {TITLE}.") and "0 of 3 steps done" in first_fact
    assert f"Impact on you: {IMPACT}" in text

    # The client opens the incident and accepts the plan.
    client = new_context().new_page()
    login_as(client, base, world.own_client)
    client.goto(incident_url)
    expect(client.get_by_role("button", name="Mark done")).to_have_count(0)
    client.get_by_role("button", name="Accept the plan").click()
    expect(client.get_by_role("status").filter(has_text="your acceptance of the plan is recorded")).to_be_visible()
    expect(client.locator("#plan-acceptance")).to_contain_text("Accepted by Ayşe Client")
    expect(client.get_by_role("button", name="Accept the plan")).to_have_count(0)

    # The manager marks steps done; the client sees them tick off.
    page.goto(incident_url)
    mark_done(page, STEPS[0])
    client.reload()
    expect(client.locator("#plan-progress")).to_have_text("1 of 3 steps done")
    expect(client.locator(".incident-steps li", has_text=STEPS[0])).to_contain_text("Done")
    page.goto(incident_url)
    mark_done(page, STEPS[1])
    client.reload()
    expect(client.locator("#plan-progress")).to_have_text("2 of 3 steps done")
    expect(client.get_by_text(f"Next: “{STEPS[2]}”")).to_be_visible()
    db.session.expire_all()
    told = db.session.scalars(select(OutboxEmail.to_address).where(OutboxEmail.kind == "incident_step_done")).all()
    db.session.rollback()
    assert told == [world.own_client.email, world.own_client.email]

    # Axe finds nothing serious on the incident page, for the client and for the manager.
    for who, tab in (("client", client), ("manager", page)):
        tab.goto(incident_url)
        violations = blocking_violations(tab)
        assert not violations, f"axe-core found serious problems on the incident page as the {who}:\n{describe(violations)}"
