"""Back after sending a create form, and send it again: nothing is created twice, the user lands on the first result."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Goal, Update, UpdateKind
from portal.timeutil import project_today
from tests.e2e.pages import login_as


def test_back_and_propose_again_keeps_one_goal(page: Page, live_server, world):
    """The client proposes a goal, presses Back, and presses "Propose the goal" again: still one goal, and they are told."""
    base = live_server.url
    login_as(page, base, world.own_client)
    page.goto(f"{base}/projects/{world.project.id}/goals/new")
    page.get_by_label("Title").fill("More online orders")
    page.get_by_label("Metric", exact=True).fill("Online orders per month")
    page.get_by_label("Baseline", exact=True).fill("120")
    page.get_by_label("Target", exact=True).fill("200")
    page.get_by_label("Unit").select_option(label="Orders")
    page.get_by_label("Target date").fill((project_today(world.project) + timedelta(days=90)).isoformat())
    page.get_by_role("button", name="Propose the goal").click()
    expect(page.get_by_role("status").filter(has_text="Your proposal is sent.")).to_be_visible()
    goal_url = page.url

    page.go_back()
    expect(page.get_by_label("Title")).to_have_value("More online orders")
    page.get_by_role("button", name="Propose the goal").click()
    expect(page.get_by_role("status").filter(has_text="This was already sent, so nothing was added again.")).to_be_visible()
    assert page.url == goal_url
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Goal)) == 1


def test_opening_the_form_again_proposes_a_second_goal(page: Page, live_server, world):
    """A second goal on purpose (the form opened again from its link) is a second goal."""
    base = live_server.url
    login_as(page, base, world.own_client)
    for title in ("More online orders", "Fewer returns"):
        page.goto(f"{base}/projects/{world.project.id}")
        page.get_by_role("region", name="Goals").get_by_role("link", name="Propose a goal").click()
        page.get_by_label("Title").fill(title)
        page.get_by_label("Metric", exact=True).fill("Orders per month")
        page.get_by_label("Baseline", exact=True).fill("120")
        page.get_by_label("Target", exact=True).fill("200")
        page.get_by_label("Unit").select_option(label="Orders")
        page.get_by_label("Target date").fill((project_today(world.project) + timedelta(days=90)).isoformat())
        page.get_by_role("button", name="Propose the goal").click()
        expect(page.get_by_role("status").filter(has_text="Your proposal is sent.")).to_be_visible()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Goal)) == 2


def test_back_on_the_update_form_publishes_once_and_an_edit_is_a_new_update(page: Page, live_server, world):
    """The update form's buttons are named "action": Back and Publish again is still one update; Back, a new title and Publish is a second."""
    base = live_server.url
    login_as(page, base, world.manager)
    page.goto(f"{base}/projects/{world.project.id}/updates/new")
    page.get_by_label("Title").fill("Sprint 4")
    page.get_by_label("What happened").fill("Search is live.")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status").filter(has_text="The update is published.")).to_be_visible()

    page.go_back()
    expect(page.get_by_label("Title")).to_have_value("Sprint 4")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status").filter(has_text="This was already sent, so nothing was added again.")).to_be_visible()
    db.session.expire_all()
    assert db.session.scalars(select(Update.title).where(Update.kind == UpdateKind.MANUAL)).all() == ["Sprint 4"]

    page.go_back()
    page.get_by_label("Title").fill("Sprint 4, corrected")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status").filter(has_text="The update is published.")).to_be_visible()
    db.session.expire_all()
    titles = db.session.scalars(select(Update.title).where(Update.kind == UpdateKind.MANUAL).order_by(Update.id)).all()
    assert titles == ["Sprint 4", "Sprint 4, corrected"]
