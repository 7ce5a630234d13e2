"""The story of a new client user: invited by an admin, joins, finds their project, reads it in Turkish."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.pages import (
    add_to_project,
    invitation_path,
    invite_person,
    login_as,
    logout,
    switch_language,
    translated,
)

INVITEE_EMAIL = "deniz@anadolukahve.example"
INVITEE_PASSWORD = "copper kettle on a slow morning"


def test_admin_invites_a_client_user_who_joins_and_follows_the_project(page: Page, new_context, live_server, world):
    """An invited client user joins by email link, logs in, sees only their project and reads the portal in Turkish."""
    base = live_server.url

    # The admin invites Deniz from Anadolu Kahve and gives them the project.
    login_as(page, base, world.admin)
    invite_person(page, base, name="Deniz", email=INVITEE_EMAIL, role="Client user", organisation="Anadolu Kahve")
    expect(page.get_by_role("row").filter(has_text=INVITEE_EMAIL)).to_contain_text("Invited")
    add_to_project(page, base, world.project.id, f"Deniz <{INVITEE_EMAIL}>")
    expect(page.get_by_role("region", name="Client members")).to_contain_text("Deniz")

    # Deniz opens the link from the email in a browser of their own.
    invitee = new_context().new_page()
    invitee.goto(base + invitation_path(INVITEE_EMAIL))
    expect(invitee.get_by_role("heading", name="Join Rapport")).to_be_visible()
    expect(invitee.get_by_text("You are invited to follow the work for Anadolu Kahve.")).to_be_visible()
    expect(invitee.get_by_label("Your name")).to_have_value("Deniz")
    invitee.get_by_label("Your name").fill("Deniz Kaya")
    invitee.get_by_label(re.compile(r"^New password")).fill(INVITEE_PASSWORD)
    invitee.get_by_label("Repeat the new password").fill(INVITEE_PASSWORD)
    invitee.get_by_role("button", name="Create my account").click()
    expect(invitee).to_have_url(f"{base}/")
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Welcome, Deniz Kaya")

    # The password works at the login form, and home shows their project, not another client's.
    logout(invitee)
    expect(invitee.get_by_role("status").filter(has_text="You are logged out.")).to_be_visible()
    login_as(invitee, base, INVITEE_EMAIL, INVITEE_PASSWORD)
    expect(invitee.get_by_role("link", name="E-commerce relaunch")).to_be_visible()
    expect(invitee.get_by_text("Spring catalogue")).to_have_count(0)

    # Deniz prefers Turkish.
    switch_language(invitee, "Türkçe")
    expect(invitee.locator("html")).to_have_attribute("lang", "tr")
    expect(invitee.get_by_role("link", name=translated("Home", "tr"), exact=True)).to_be_visible()
    expect(invitee.get_by_role("link", name="E-commerce relaunch")).to_be_visible()

    # Another client's project does not exist for Deniz.
    response = invitee.goto(f"{base}/projects/{world.other_project.id}")
    assert response is not None and response.status == 404
    expect(invitee.get_by_role("heading", level=1)).to_have_text(translated("Page not found", "tr"))
    expect(invitee.get_by_text("Spring catalogue")).to_have_count(0)
