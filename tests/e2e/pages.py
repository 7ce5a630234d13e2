"""Typed helpers for browser tests: act as a person would, with roles and labels."""

from __future__ import annotations

import re
from pathlib import Path

from babel.support import Translations
from playwright.sync_api import Dialog, Page, expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxEmail, User
from tests.fixtures.builders import PASSWORD

TRANSLATIONS = Path(__file__).resolve().parents[2] / "portal" / "translations"
_INVITE_PATH = re.compile(r"/invite/[A-Za-z0-9_\-]+")


def login_as(page: Page, base_url: str, user: User | str, password: str = PASSWORD) -> None:
    """Log in through the login form and wait for the home page."""
    email = user if isinstance(user, str) else user.email
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base_url}/")
    # The URL changes when the home page starts to arrive; its scripts (the menu's toggle) run by "load".
    page.wait_for_load_state("load")


def logout(page: Page) -> None:
    """Log out with the button in the navigation bar."""
    page.get_by_role("button", name="Log out").click()


def invite_person(page: Page, base_url: str, *, name: str, email: str, role: str, organisation: str | None = None) -> None:
    """Invite someone through the admin's invite form and wait for the confirmation."""
    page.goto(f"{base_url}/admin/users/invite")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Role").select_option(label=role)
    page.get_by_label("Language of the invitation").select_option(label="English")
    if organisation is not None:
        page.get_by_label("Client organisation").select_option(label=organisation)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status").filter(has_text=f"An invitation is on its way to {email}.")).to_be_visible()


def add_to_project(page: Page, base_url: str, project_id: int, person: str) -> None:
    """Give a client user access to a project from the project page; ``person`` is the option's label."""
    page.goto(f"{base_url}/projects/{project_id}")
    page.get_by_label("Person").select_option(label=person)
    page.get_by_role("button", name="Add to project").click()
    expect(page.get_by_role("status").filter(has_text="can now see this project.")).to_be_visible()


def switch_language(page: Page, label: str) -> None:
    """Choose the interface language with the switcher in the navigation bar."""
    page.get_by_role("button", name=label, exact=True).click()
    expect(page.get_by_role("button", name=label, exact=True)).to_have_attribute("aria-pressed", "true")


def invitation_path(email: str) -> str:
    """Return the /invite/<token> path from the newest invitation emailed to ``email``."""
    db.session.expire_all()  # the live server committed it in another session
    body = db.session.scalar(
        select(OutboxEmail.text_body)
        .where(OutboxEmail.to_address == email, OutboxEmail.kind == "invite")
        .order_by(OutboxEmail.id.desc())
        .limit(1)
    )
    db.session.rollback()  # end the read transaction: the server keeps writing while the test runs
    assert body is not None, f"no invitation email queued for {email}"
    match = _INVITE_PATH.search(body)
    assert match, f"no invitation link in the email:\n{body}"
    return match.group(0)


def translated(message: str, language: str) -> str:
    """Return ``message`` as the compiled catalog shows it in ``language`` (unchanged if untranslated)."""
    return Translations.load(str(TRANSLATIONS), [language]).gettext(message)


def record_dialogs(page: Page) -> list[str]:
    """Collect the message of every alert, confirm or prompt the page opens (and dismiss it)."""
    messages: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        messages.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return messages


def horizontal_overflow(page: Page) -> int:
    """Return how many CSS pixels the page is wider than the screen (0 when nothing scrolls sideways)."""
    # Not window.innerWidth: a mobile browser zooms out to fit wide content, so innerWidth grows with it.
    return page.evaluate("Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth)")
