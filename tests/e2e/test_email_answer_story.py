"""Answering from the email: the weekly update's "Concern" link, opened in a fresh browser with no session, reaches the manager."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import OutboxEmail, Update, UpdateAcknowledgement, UpdateKind
from tests.e2e.pages import login_as
from tests.e2e.test_accessibility import blocking_violations, describe

CONCERN = "Our spring campaign depends on checkout: can we still launch on 20 March?"


def answer_links(email_address: str) -> dict[str, str]:
    """Return the answer links of the weekly email sent to ``email_address``, by their label in the email."""
    db.session.expire_all()  # the CLI committed it in another session
    body = db.session.scalar(select(OutboxEmail.text_body).where(OutboxEmail.to_address == email_address, OutboxEmail.kind == "weekly"))
    db.session.rollback()
    assert body is not None, f"no weekly email queued for {email_address}"
    links = dict(re.findall(r"^(Accurate|Not accurate|I have a concern): (\S+/answer/\S+)$", body, flags=re.MULTILINE))
    assert len(links) == 3 and len(set(links.values())) == 3, body
    return links


def answers_stored() -> int:
    """Return how many answers the database holds."""
    db.session.expire_all()
    count = db.session.scalar(select(func.count()).select_from(UpdateAcknowledgement)) or 0
    db.session.rollback()
    return count


def test_a_concern_from_the_weekly_email_reaches_the_manager(page: Page, new_context, live_server, world, runner):
    """The client opens the email's "Concern" link without logging in, writes a sentence and a score; the manager sees both."""
    base = live_server.url
    project = world.project
    result = runner.invoke(args=["portal", "send-weekly", "--project", str(project.id), "--now"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    weekly = db.session.scalar(select(Update).where(Update.project_id == project.id, Update.kind == UpdateKind.WEEKLY))
    db.session.rollback()
    assert weekly is not None
    concern = answer_links(world.own_client.email)["I have a concern"]
    assert concern.startswith(f"{base}/answer/")

    # A fresh browser with no session opens the link: a page with a question, nothing recorded yet.
    client = new_context().new_page()
    client.goto(concern)
    expect(client.get_by_role("heading", level=1)).to_have_text("Tell us your concern")
    expect(client.get_by_text("You answer as Ayşe Client.")).to_be_visible()
    expect(client.get_by_role("link", name=re.compile(r"^Weekly update, week of"))).to_be_visible()
    assert answers_stored() == 0
    violations = blocking_violations(client)
    assert not violations, f"axe-core found serious problems on the answer page:\n{describe(violations)}"

    # The sentence is required; the score is optional and kept when the form comes back.
    client.get_by_label("2 – below what we expect").check()
    client.get_by_role("button", name="Send my concern").click()
    expect(client.get_by_text("Tell us in a sentence what is wrong, so we can act on it.")).to_be_visible()
    expect(client.get_by_label("2 – below what we expect")).to_be_checked()
    assert answers_stored() == 0
    client.get_by_label("What concerns you?").fill(CONCERN)
    client.get_by_role("button", name="Send my concern").click()

    # Thanked, with the answer as recorded and the way into the portal (which asks to log in: there is no session).
    expect(client.get_by_role("status").filter(has_text="your account manager is told")).to_be_visible()
    expect(client.get_by_text(CONCERN)).to_be_visible()
    expect(client.get_by_text("Score: 2 of 5")).to_be_visible()
    violations = blocking_violations(client)
    assert not violations, f"axe-core found serious problems on the thank-you page:\n{describe(violations)}"
    client.get_by_role("link", name="Open the update in Rapport").click()
    expect(client).to_have_url(re.compile(r"/login\?next="))

    # The manager is emailed, and sees the concern, its sentence and the score on the update.
    db.session.expire_all()
    told = db.session.scalars(select(OutboxEmail.to_address).where(OutboxEmail.kind == "update_ack")).all()
    db.session.rollback()
    assert told == [world.manager.email]
    login_as(page, base, world.manager)
    page.goto(f"{base}/projects/{project.id}/updates/{weekly.id}")
    answers = page.locator(f"#acknowledgements-{weekly.id}")
    expect(answers).to_contain_text("Ayşe Client")
    expect(answers).to_contain_text("I have a concern")
    expect(answers).to_contain_text(CONCERN)
    expect(answers).to_contain_text("Score: 2 of 5")
