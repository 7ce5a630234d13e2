"""The calendar address in the browser: made on the account page, copied with one click, read by a calendar app."""

from __future__ import annotations

import urllib.request

from icalendar import Calendar
from playwright.sync_api import Page, expect

from tests.e2e.pages import login_as


def test_make_copy_and_read_the_calendar_address(page: Page, live_server, world):
    """The manager makes the address, copies it, and the copied address serves their deadlines; "Stop" ends it."""
    base = live_server.url
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    login_as(page, base, world.manager)
    page.goto(f"{base}/account/")
    page.get_by_role("button", name="Make my calendar address").click()
    address = page.get_by_label("Calendar address")
    assert address.input_value().startswith(f"{base}/calendar/") and address.input_value().endswith(".ics")
    copy = page.get_by_role("button", name="Copy")
    copy.click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == address.input_value()
    with urllib.request.urlopen(copied) as response:  # the live server of this test
        calendar = Calendar.from_ical(response.read())
    assert any(str(e["summary"]).startswith("Weekly update:") for e in calendar.walk("VEVENT"))

    page.goto(f"{base}/account/")
    expect(page.get_by_text("Your calendar address works.")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Stop the address").click()
    expect(page.get_by_role("status").filter(has_text="The calendar address no longer works.")).to_be_visible()
