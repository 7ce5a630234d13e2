"""Two-factor sign-in in the browser: a manager enrols from the account page, then logs in with password and code."""

from __future__ import annotations

import time

import pyotp
from playwright.sync_api import Page, expect

from tests.e2e.pages import login_as, logout
from tests.e2e.test_accessibility import blocking_violations, describe
from tests.fixtures.builders import PASSWORD


def test_manager_enrols_then_signs_in_with_a_code(page: Page, live_server, world):
    """The manager scans (here: reads) the key, confirms with a code, keeps the recovery codes, and next time gives a code after the password."""
    base = live_server.url
    login_as(page, base, world.manager)
    page.goto(f"{base}/account/")
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    violations = blocking_violations(page)
    assert not violations, describe(violations)
    secret = page.locator("#two-factor-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code from your app").fill(totp.now())
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Save these codes now: they are shown only once.")).to_be_visible()
    expect(page.locator(".recovery-code")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_text("Logging in asks for a code from your authenticator app after your password.")).to_be_visible()

    logout(page)
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(world.manager.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/login/code")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    # The code of the next 30 seconds: the one used to confirm may not be used again.
    page.get_by_label("Code").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/")
