"""Logging in from an emailed link: a client of an organisation that allows it asks for a link, opens it in the browser and is in."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxEmail

LINK = re.compile(r"https?://\S+/login/link/[A-Za-z0-9_\-]+")


def emailed_link(address: str) -> str:
    """Return the sign-in link of the newest sign-in email to ``address`` (queued by the live server in its own session)."""
    db.session.expire_all()
    body = db.session.scalar(
        select(OutboxEmail.text_body).where(OutboxEmail.to_address == address, OutboxEmail.kind == "sign_in_link").order_by(OutboxEmail.id.desc())
    )
    db.session.rollback()
    assert body is not None, f"no sign-in link was emailed to {address}"
    found = LINK.search(body)
    assert found, body
    return found.group(0)


def test_a_client_logs_in_with_an_emailed_link_once(page: Page, live_server, world):
    """The client asks for a link on the login page, opens it (nothing happens until the button), logs in; the link then works no more."""
    world.own_org.sign_in_links = True
    db.session.commit()
    base = live_server.url

    page.goto(f"{base}/login")
    page.get_by_role("link", name="Email me a login link instead").click()
    page.get_by_label("Email").fill(world.own_client.email)
    page.get_by_role("button", name=re.compile("link", re.IGNORECASE)).click()
    expect(page.get_by_role("status").filter(has_text="If your organisation lets you log in with a link")).to_be_visible()

    link = emailed_link(world.own_client.email)
    assert link.startswith(base)  # the live server is the portal's BASE_URL
    page.goto(link)
    expect(page.get_by_role("button", name="Log in")).to_be_visible()  # opening the link signs nobody in
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Main")).to_contain_text(world.own_client.display_name)
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    # Used once: the same link now says it no longer works.
    page.context.clear_cookies()
    page.goto(link)
    expect(page.get_by_text("Login links work once and expire after a few minutes.")).to_be_visible()
    expect(page.get_by_role("button", name="Log in")).to_have_count(0)
