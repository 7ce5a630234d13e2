"""Issue #7's story: what needs attention shows on both homes, and resolving it takes it off both."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.pages import login_as, logout


def queue_group(page: Page, heading: str):
    """Return a group of the manager's attention queue by its heading (the count follows the words)."""
    return page.get_by_role("region", name=re.compile("^" + re.escape(heading)))


def test_the_client_resolves_a_review_and_both_homes_shrink(page: Page, live_server, busy_world):
    """One deliverable to review, one goal to sign, one overdue request: both sides see them; approving removes one."""
    base, world = live_server.url, busy_world

    login_as(page, base, world.manager)
    expect(queue_group(page, "Overdue asset requests")).to_contain_text("Logo files")
    expect(queue_group(page, "Goals awaiting agreement")).to_contain_text("More online orders")
    expect(queue_group(page, "Goals awaiting agreement")).to_contain_text("Waiting for the client’s signature")
    expect(queue_group(page, "Waiting for the client’s decision")).to_contain_text("Homepage design")
    logout(page)

    login_as(page, base, world.own_client)
    needs = page.get_by_role("region", name="Needs your attention")
    expect(needs).to_contain_text("Homepage design")
    expect(needs).to_contain_text("More online orders")
    expect(needs).to_contain_text("Logo files")
    before = needs.get_by_role("listitem").count()
    texts = needs.get_by_role("listitem").all_inner_texts()
    assert texts.index(next(t for t in texts if "Logo files" in t)) < texts.index(next(t for t in texts if "Homepage design" in t)), (
        "oldest first: the request overdue for two days comes before the review sent today"
    )

    needs.get_by_role("link", name="Homepage design, version 1").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Approve version 1").click()
    expect(page.get_by_role("status").filter(has_text="your approval of version 1 is recorded")).to_be_visible()
    page.goto(f"{base}/")
    expect(needs.get_by_role("listitem")).to_have_count(before - 1)
    expect(needs).not_to_contain_text("Homepage design")
    expect(needs).to_contain_text("More online orders")
    logout(page)

    login_as(page, base, world.manager)
    expect(queue_group(page, "Overdue asset requests")).to_contain_text("Logo files")
    expect(queue_group(page, "Goals awaiting agreement")).to_contain_text("More online orders")
    expect(queue_group(page, "Waiting for the client’s decision")).to_have_count(0)
