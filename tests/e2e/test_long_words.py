"""Long unbroken words and pasted URLs wrap: on a phone no page scrolls sideways, and labels never split mid-word."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.updates import service as updates
from tests.e2e.pages import horizontal_overflow, login_as, switch_language
from tests.integration.deliverables_support import make_deliverable, submit
from tests.integration.goals_support import agreed_goal

WORD = "Supercalifragilistic" * 10  # 200 characters, no place to break
URL = "https://example.com/" + "/".join(["campaign-landing-page-with-tracking"] * 6) + "?utm_source=newsletter&utm_medium=email&utm_campaign=" + "x" * 80
PHONE = {"width": 375, "height": 800}


@pytest.fixture
def wordy_world(world):
    """The project, a goal, a deliverable and a published update all carry a 200-character word and a long URL."""
    world.project.name = WORD[:150]  # a project name holds at most 160 characters
    world.project.description = f"{WORD} {URL}"
    world.own_org.name = WORD[:150]
    world.own_org.sensitivities = f"{WORD} {URL}"
    db.session.commit()
    agreed_goal(world.manager, world.own_client, world.project, title=WORD, metric_name=WORD[:100])
    submit(world.manager, make_deliverable(world.manager, world.project, title=WORD[:150]))
    update = updates.save_update(
        world.manager,
        world.project,
        {"title": WORD, "body": f"{WORD}\n\nSee {URL} and <{URL}>.", "needs": f"{WORD} {URL}"},
        publish=True,
    )
    db.session.commit()
    world.update = update
    return world


def assert_fits(page: Page, where: str) -> None:
    """The page is no wider than the phone's screen."""
    page.wait_for_load_state("load")
    overflow = horizontal_overflow(page)
    assert overflow == 0, f"{where} is {overflow} px wider than the 375 px screen"


@pytest.mark.parametrize("viewer", ["manager", "own_client"])
def test_long_words_and_urls_wrap_on_a_phone(page: Page, live_server, wordy_world, viewer):
    """The project page, the update page and home fit a 375 px screen, for staff and for the client."""
    page.set_viewport_size(PHONE)
    base = live_server.url
    login_as(page, base, getattr(wordy_world, viewer))
    assert_fits(page, "home")
    page.goto(f"{base}/projects/{wordy_world.project.id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(WORD[:40])
    assert_fits(page, "the project page")
    page.goto(f"{base}/projects/{wordy_world.project.id}/updates/{wordy_world.update.id}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_fits(page, "the update page")


SPLIT_WORDS = """(root) => {
  // Every word of the element's text that the browser laid out on more than one line.
  const split = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (lines.size > 1) split.push(match[0]);
    }
  }
  return split;
}"""


@pytest.mark.parametrize("language", ["English", "Türkçe"])
@pytest.mark.parametrize("width", [992, 1100, 1280])
def test_labels_of_the_project_sidebar_never_split_a_word(page: Page, live_server, world, width, language):
    """"Sensitivities", "Karar vericiler"… sit whole on their line beside or above their value, at every desktop width."""
    world.own_org.decision_makers = "Ayşe Kaya — co-founder, has the last word"
    world.own_org.sensitivities = "Deadlines, after a delay with their previous agency."
    db.session.commit()
    page.set_viewport_size({"width": width, "height": 900})
    login_as(page, live_server.url, world.manager)
    page.goto(f"{live_server.url}/projects/{world.project.id}")
    switch_language(page, language)
    for heading in ("about-heading", "kyc-heading"):
        labels = page.locator(f"section[aria-labelledby='{heading}'] dt")
        expect(labels.first).to_be_visible()
        split = [word for i in range(labels.count()) for word in labels.nth(i).evaluate(SPLIT_WORDS)]
        assert split == [], f"{heading}: labels split mid-word at {width} px in {language}: {split}"
