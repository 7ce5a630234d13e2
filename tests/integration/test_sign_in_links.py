"""Clients' emailed sign-in links: optional per organisation, single use, 15 minutes, the same answer for everyone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from portal.extensions import db
from portal.timeutil import utcnow
from tests.fixtures.outbox import emails, outbox_size

SENT = "If your organisation lets you log in with a link, we have sent one to that address."
LINK = re.compile(r"https?://[^\s\"<]+/login/link/([A-Za-z0-9_\-]+)")


def allow(client_org) -> None:
    client_org.sign_in_links = True
    db.session.commit()


def ask(web, email: str):
    response = web.post("/login/link", {"email": email})
    assert response.status_code == 302
    assert SENT in web.text(response.headers["Location"])
    return response


def link_path(email: str) -> str:
    (sent,) = emails("sign_in_link", to=email)
    found = LINK.search(sent.text_body)
    assert found, sent.text_body
    return f"/login/link/{found.group(1)}"


def test_a_client_signs_in_once_with_the_link_after_pressing_the_button(make_web, world):
    """Opening the link signs nobody in (a mail scanner may open it); the button does, once."""
    allow(world.own_org)
    web = make_web()
    ask(web, world.own_client.email)
    path = link_path(world.own_client.email)
    page = web.get(path)
    assert page.status_code == 200 and "Log in as" in page.get_data(as_text=True)
    assert web.get("/").status_code == 302  # still signed out after opening it
    signed_in = web.post(path)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/"
    assert web.get("/").status_code == 200
    again = make_web().post(path)
    assert again.status_code == 404 and "This link no longer works" in again.get_data(as_text=True)


@pytest.mark.parametrize("who", ["not allowed", "staff", "unknown", "deactivated", "archived organisation"])
def test_the_answer_is_the_same_and_no_link_goes_out_when_not_allowed(make_web, world, who):
    """An organisation that did not allow links, staff, an unknown address, a deactivated person: the same words, no email."""
    if who != "not allowed":
        allow(world.own_org)
    email = {"staff": world.manager.email, "unknown": "nobody@example.com"}.get(who, world.own_client.email)
    if who == "deactivated":
        world.own_client.active = False
    if who == "archived organisation":
        world.own_org.archived_at = utcnow()
    db.session.commit()
    before = outbox_size()
    ask(make_web(), email)
    assert outbox_size() == before


def test_a_link_expires_after_fifteen_minutes(make_web, world):
    """Sixteen minutes later the link is a clear "no longer works" page, and nothing signs in."""
    allow(world.own_org)
    web = make_web()
    ask(web, world.own_client.email)
    path = link_path(world.own_client.email)
    with time_machine.travel(utcnow() + timedelta(minutes=16)):
        assert web.get(path).status_code == 404
        assert web.post(path).status_code == 404
        assert web.get("/").status_code == 302


def test_a_new_link_stops_the_previous_one_and_turning_links_off_stops_all(make_web, world):
    """Asking twice leaves only the newest link working; an organisation that turns links off stops even that one."""
    allow(world.own_org)
    web = make_web()
    ask(web, world.own_client.email)
    first = link_path(world.own_client.email)
    ask(web, world.own_client.email)
    second = "/login/link/" + LINK.search(emails("sign_in_link", to=world.own_client.email)[-1].text_body).group(1)
    assert web.get(first).status_code == 404
    assert web.get(second).status_code == 200
    world.own_org.sign_in_links = False
    db.session.commit()
    assert web.post(second).status_code == 404


def test_the_link_is_not_left_readable_in_the_email_log(world, make_web):
    """Once delivered, the email log shows the link with its secret cut off, like reset links."""
    from portal.notify.sender import redact_links

    allow(world.own_org)
    ask(make_web(), world.own_client.email)
    (sent,) = emails("sign_in_link", to=world.own_client.email)
    assert not LINK.search(redact_links(sent.text_body))


def test_the_sign_in_button_needs_the_form_token(make_web, world):
    """A cross-site post cannot sign someone in with their link (the link stays usable)."""
    allow(world.own_org)
    web = make_web()
    ask(web, world.own_client.email)
    path = link_path(world.own_client.email)
    assert web.post(path, csrf=False).status_code in (400, 422)
    assert web.get("/").status_code == 302
    assert web.get(path).status_code == 200


def test_staff_turn_links_on_for_an_organisation_on_its_profile(make_web, world):
    """The client form's checkbox sets it; the profile says so."""
    admin = make_web()
    admin.login(world.admin)
    form = admin.text(f"/clients/{world.own_org.id}/edit")
    assert 'name="sign_in_links"' in form
    response = admin.post(
        f"/clients/{world.own_org.id}/edit",
        {"name": world.own_org.name, "preferred_channel": "email", "language": "en", "timezone": "Europe/Istanbul", "sign_in_links": "y"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db.session.expire_all()
    assert world.own_org.sign_in_links is True
    assert "Allowed: its people may log in with an emailed link." in admin.text(f"/clients/{world.own_org.id}")
