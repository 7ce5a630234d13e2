"""Posting a progress update with files shows a progress bar, then goes on exactly as the form would without it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Route, expect

from tests.e2e.pages import login_as
from tests.e2e.test_accessibility import blocking_violations, describe

# Records, in sessionStorage (it outlives the page the form becomes), what the enhanced form showed
# while it was sending: whether the bar appeared, how far it went, and what the live region said.
WATCH_PROGRESS = """() => {
  sessionStorage.setItem("progress", JSON.stringify({shown: false, max: -1, said: []}));
  const form = document.querySelector("form[data-upload-progress]");
  const bar = form.querySelector("[role=progressbar]");
  const live = form.querySelector("[role=status]");
  new MutationObserver((records) => {
    const seen = JSON.parse(sessionStorage.getItem("progress"));
    for (const record of records) {
      if (record.target.contains(bar) && record.attributeName === "hidden" && !record.target.hidden) seen.shown = true;
      if (record.target === bar) seen.max = Math.max(seen.max, Number(bar.getAttribute("aria-valuenow")));
      if (live.contains(record.target) && live.textContent) seen.said.push(live.textContent);
    }
    sessionStorage.setItem("progress", JSON.stringify(seen));
  }).observe(form, {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["hidden", "aria-valuenow"]});
}"""


def wait_for_enhancement(page: Page) -> None:
    """Wait until the form's script has run (the heading shows before it; a click then would post without it)."""
    page.wait_for_function("() => document.querySelector('form[data-upload-progress] [role=progressbar]') !== null")


def watch_progress(page: Page) -> None:
    """Start recording what the upload form shows while it sends."""
    wait_for_enhancement(page)
    page.evaluate(WATCH_PROGRESS)


def progress_seen(page: Page) -> dict[str, Any]:
    """Return what the upload form showed while it sent."""
    return page.evaluate("() => JSON.parse(sessionStorage.getItem('progress'))")


def pdf_file(tmp_path: Path, name: str, megabytes: int) -> Path:
    """Write a PDF-looking file of about ``megabytes`` MB."""
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4\n" + b"0" * (megabytes * 1024 * 1024))
    return path


def open_new_update(page: Page, base: str, project_id: int) -> None:
    """Open the form to post an update, as the manager, from the project page."""
    page.goto(f"{base}/projects/{project_id}")
    page.get_by_role("link", name="Post an update").first.click()
    expect(page.get_by_role("heading", name="Post an update")).to_be_visible()


def test_manager_saves_a_draft_with_a_file_then_publishes_it_with_a_large_one(page: Page, live_server, world, tmp_path):
    """Both buttons send the form with a progress bar; the draft and then the update land where they would without JS."""
    base = live_server.url
    login_as(page, base, world.manager)
    open_new_update(page, base, world.project.id)
    watch_progress(page)
    page.get_by_label("Title").fill("Checkout, week 10")
    page.get_by_label("What happened").fill("The new checkout runs on **staging**.")
    page.get_by_label("Attach files").set_input_files(str(pdf_file(tmp_path, "shipping-prices.pdf", 1)))
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_role("status").filter(has_text="The draft is saved.")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/projects/{world.project.id}/updates/\d+/edit$"))
    expect(page.get_by_role("region", name="Files on this draft").get_by_role("link", name="shipping-prices.pdf")).to_be_visible()
    assert progress_seen(page)["shown"], "the progress bar never appeared"

    watch_progress(page)
    page.get_by_label("Attach files").set_input_files(str(pdf_file(tmp_path, "checkout-flow.pdf", 3)))
    page.get_by_role("button", name="Publish").click()

    expect(page.get_by_role("status").filter(has_text="The update is published.")).to_be_visible()
    expect(page).to_have_url(f"{base}/projects/{world.project.id}")
    update = page.locator("article.update-card").filter(has_text="Checkout, week 10")
    expect(update.get_by_role("link", name="checkout-flow.pdf")).to_be_visible()
    expect(update.get_by_role("link", name="shipping-prices.pdf")).to_be_visible()
    seen = progress_seen(page)
    assert seen["shown"], "the progress bar never appeared"
    assert seen["max"] == 100, f"the bar stopped at {seen['max']}%"
    assert "Uploading: 0%" in seen["said"], f"the live region said {seen['said']}"
    assert "Files sent. Saving the update…" in seen["said"], f"the live region said {seen['said']}"


def test_a_refused_file_shows_the_servers_message_and_keeps_the_typed_text(page: Page, live_server, world, tmp_path):
    """A .png that is really text comes back as the form with the server's error and the title as typed."""
    base = live_server.url
    fake = tmp_path / "screenshot.png"
    fake.write_text("not an image, only text\n" * 200)
    login_as(page, base, world.manager)
    open_new_update(page, base, world.project.id)
    watch_progress(page)
    page.get_by_label("Title").fill("Checkout, week 11")
    page.get_by_label("Attach files").set_input_files(str(fake))
    page.get_by_role("button", name="Publish").click()

    expect(page.get_by_role("alert").filter(has_text="screenshot.png is not really a .png file")).to_be_visible()
    expect(page.get_by_text("Nothing was saved, and no file was kept: choose the files again.")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Checkout, week 11")
    expect(page.get_by_role("button", name="Publish")).to_be_enabled()
    expect(page).to_have_url(f"{base}/projects/{world.project.id}/updates/new")
    assert progress_seen(page)["shown"], "the form was not sent by the script"


def test_a_lost_connection_says_so_and_keeps_the_form_as_typed(page: Page, live_server, world, tmp_path):
    """While sending, the bar shows and the buttons wait (no serious axe finding); a lost connection re-opens the form."""
    base = live_server.url
    login_as(page, base, world.manager)
    open_new_update(page, base, world.project.id)
    while_sending: dict[str, Any] = {}

    def cut_the_connection(route: Route) -> None:
        """Look at the page while the post is on its way, then drop it."""
        if route.request.method != "POST":
            route.continue_()
            return
        try:
            expect(page.get_by_role("progressbar", name="Upload progress")).to_be_visible()
            expect(page.get_by_role("button", name="Publish")).to_be_disabled()
            expect(page.get_by_role("button", name="Save draft")).to_be_disabled()
            while_sending["violations"] = blocking_violations(page)
        except Exception as error:  # noqa: BLE001 - raised again in the test, after the route is released
            while_sending["error"] = error
        finally:
            route.abort("connectionreset")

    page.route(re.compile(r"/updates/new$"), cut_the_connection)
    wait_for_enhancement(page)
    page.get_by_label("Title").fill("Checkout, week 12")
    page.get_by_label("Attach files").set_input_files(str(pdf_file(tmp_path, "report.pdf", 1)))
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_role("alert").filter(has_text="The connection was lost. Try again.")).to_be_visible()
    if "error" in while_sending:
        raise while_sending["error"]
    assert not while_sending["violations"], f"axe-core found serious problems while sending:\n{describe(while_sending['violations'])}"
    expect(page.get_by_role("progressbar", name="Upload progress")).to_be_hidden()
    expect(page.get_by_role("button", name="Save draft")).to_be_enabled()
    expect(page.get_by_label("Title")).to_have_value("Checkout, week 12")
    assert page.get_by_label("Attach files").evaluate("input => input.files.length") == 1
