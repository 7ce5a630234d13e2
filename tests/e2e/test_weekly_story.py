"""The weekly update's story: a manager posts an update, the weekly run goes out, the client answers with a concern."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxEmail, Update, UpdateKind
from tests.e2e.pages import horizontal_overflow, login_as, logout
from tests.e2e.test_accessibility import blocking_violations, describe

BLOCKER = "The payment provider has not approved our merchant account yet."
CONCERN = "Our spring campaign depends on checkout: can we still launch on 20 March?"


def post_update(page: Page, base: str, project_id: int) -> None:
    """Post a progress update with a blocker through the form, as the manager."""
    page.goto(f"{base}/projects/{project_id}")
    page.get_by_role("link", name="Post an update").first.click()
    page.get_by_label("Title").fill("Checkout, week 10")
    page.get_by_label("What happened").fill("The new checkout runs on **staging**.")
    page.get_by_label("Blockers").fill(BLOCKER)
    page.get_by_label("What we need from you").fill("Your final shipping prices.")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status").filter(has_text="The update is published.")).to_be_visible()


def test_manager_update_goes_out_weekly_and_the_client_raises_a_concern(page: Page, new_context, live_server, world, runner):
    """Manager posts; the CLI sends the weekly update; the client reads bad news first and raises a concern the manager sees."""
    base = live_server.url
    project = world.project

    # The account manager posts an update with a blocker.
    login_as(page, base, world.manager)
    post_update(page, base, project.id)
    expect(page.get_by_role("region", name="Progress updates").get_by_role("article").first).to_contain_text(BLOCKER)

    # The weekly dispatch is run by hand, with the CLI, against the same database.
    result = runner.invoke(args=["portal", "send-weekly", "--project", str(project.id), "--now"])
    assert result.exit_code == 0, result.output
    assert "1 weekly updates sent" in result.output
    db.session.expire_all()
    weekly = db.session.scalar(select(Update).where(Update.project_id == project.id, Update.kind == UpdateKind.WEEKLY))
    db.session.rollback()
    assert weekly is not None

    # The client logs in, opens the weekly update from the feed, and finds the bad news first.
    client = new_context().new_page()
    login_as(client, base, world.own_client)
    client.get_by_role("link", name="E-commerce relaunch").click()
    feed = client.get_by_role("region", name="Progress updates")
    feed.get_by_role("link", name=re.compile(r"^Weekly update, week of")).click()
    expect(client.get_by_role("heading", level=1)).to_contain_text("Weekly update, week of")
    body = client.locator(".weekly-body")
    expect(body.get_by_role("heading").first).to_have_text("Off track and at risk")
    expect(client.get_by_role("region", name="Off track and at risk")).to_contain_text(BLOCKER)
    expect(client.get_by_role("region", name="What we need from you")).to_contain_text("Your final shipping prices.")

    # A concern needs a sentence: sending it empty is refused, and what follows is kept.
    client.get_by_text("I have a concern", exact=True).click()
    client.get_by_role("button", name="Send my concern").click()
    expect(client.get_by_text("Tell us in a sentence what is wrong, so we can act on it.")).to_be_visible()
    client.get_by_label("What concerns you?").fill(CONCERN)
    client.get_by_role("button", name="Send my concern").click()
    expect(client.get_by_role("status").filter(has_text="your account manager is told")).to_be_visible()
    expect(client.get_by_text("Your answer:")).to_be_visible()

    # The manager is emailed, and sees the concern on the update, with the client's name.
    db.session.expire_all()
    emails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "update_ack")).all()
    db.session.rollback()
    assert [e.to_address for e in emails] == [world.manager.email]
    page.goto(f"{base}/projects/{project.id}/updates/{weekly.id}")
    answers = page.locator(f"#acknowledgements-{weekly.id}")
    expect(answers).to_contain_text("Ayşe Client")
    expect(answers).to_contain_text("I have a concern")
    expect(answers).to_contain_text(CONCERN)
    logout(page)


@pytest.mark.browser_context_args(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
def test_update_pages_are_accessible_and_fit_a_phone(page: Page, live_server, world, runner):
    """Axe finds no serious problem on the feed, an update and the expectation log; nothing scrolls sideways on a phone."""
    from portal.expectations import service as expectations_service
    from portal.updates import service

    service.save_update(world.manager, world.project, {"title": "Sprint", "body": "Text", "blockers": "A blocker", "needs": "Logo"}, publish=True)
    expectations_service.create_note(
        world.manager, world.project,
        {"expected": "Live by May", "reality": "Live in June", "assessment": "worse", "impact": "Later campaign", "visibility": "shared"},
    )
    db.session.commit()
    runner.invoke(args=["portal", "send-weekly", "--project", str(world.project.id), "--now"])
    db.session.expire_all()
    weekly = db.session.scalar(select(Update).where(Update.kind == UpdateKind.WEEKLY))
    db.session.rollback()
    login_as(page, live_server.url, world.own_client)
    for path in (
        f"/projects/{world.project.id}",
        f"/projects/{world.project.id}/updates/{weekly.id}",
        f"/projects/{world.project.id}/expectations/",
    ):
        page.goto(live_server.url + path)
        violations = blocking_violations(page)
        assert not violations, f"axe-core found serious problems on {path}:\n{describe(violations)}"
        assert horizontal_overflow(page) == 0, f"{path} scrolls sideways on a phone"
