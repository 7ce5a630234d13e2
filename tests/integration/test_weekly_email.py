"""The weekly update by email, through a real SMTP server (aiosmtpd): recipient, language, subject, links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.extensions import db
from portal.models import Role, Update, UpdateKind
from portal.notify.sender import send_due
from portal.timeutil import utcnow
from portal.updates import service
from portal.updates.dispatch import dispatch_weekly
from tests.integration.test_outbox import Inbox, free_port

SLOT = datetime(2026, 3, 9, 6, 0, tzinfo=UTC)  # Monday 09:00 in Istanbul


@pytest.fixture
def weekly_project(make_client, make_user, make_project):
    """A project in Istanbul with a Turkish-speaking client member, an English one, an English manager, and a blocker."""
    client = make_client("Anadolu Kahve", language="tr")
    # They want the weekly email only, so the manual update below emails nobody.
    zeynep = make_user(Role.CLIENT, client, name="Zeynep Kaya", email="zeynep@anadolukahve.example", language="tr", notify_activity=False)
    tom = make_user(Role.CLIENT, client, name="Tom Reader", email="tom@anadolukahve.example", language="en", notify_activity=False)
    manager = make_user(Role.MANAGER, name="Can Demir", email="can@agency.example", language="en")
    project = make_project(client, manager, [(zeynep, True), (tom, False)], name="Kahve & Co's site", weekly_weekday=0, weekly_hour=9)
    project.created_at = datetime(2026, 3, 1, tzinfo=UTC)
    db.session.commit()
    with time_machine.travel(datetime(2026, 3, 4, 10, tzinfo=UTC), tick=False):
        update = service.save_update(
            manager, project, {"title": "Ödeme adımı", "body": "x", "blockers": "Banka & kart onayı bekleniyor"}, publish=True
        )
        db.session.commit()
    return project, update


def start_smtp(app, port: int | None = None) -> tuple[Controller, Inbox]:
    """Start a real SMTP server and point the app at it."""
    inbox = Inbox()
    port = port or free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False, SMTP_TIMEOUT=5)
    return controller, inbox


def test_weekly_email_arrives_in_each_recipients_language_with_links(app, weekly_project):
    """Each client member and the manager get one email, in their language, with working portal links."""
    project, manual = weekly_project
    controller, inbox = start_smtp(app)
    try:
        with time_machine.travel(SLOT + timedelta(minutes=2), tick=False):
            report = dispatch_weekly(utcnow())
            assert (report.sent, report.emails) == (1, 3)
            assert send_due().sent == 3
            assert send_due().sent == 0
    finally:
        controller.stop()
    by_recipient = {rcpt[0]: message for rcpt, message in zip(inbox.recipients, inbox.messages, strict=True)}
    assert set(by_recipient) == {"zeynep@anadolukahve.example", "tom@anadolukahve.example", "can@agency.example"}
    weekly = db.session.scalar(select(Update).where(Update.kind == UpdateKind.WEEKLY))
    update_link = f"http://portal.test/projects/{project.id}/updates/{weekly.id}"
    blocker_link = f"http://portal.test/projects/{project.id}/updates/{manual.id}"

    turkish = by_recipient["zeynep@anadolukahve.example"]
    assert turkish["Content-Language"] == "tr"
    assert "Kahve & Co's site" in turkish["Subject"] and "9 Mart 2026" in turkish["Subject"]
    text = turkish.get_body(preferencelist=("plain",)).get_content()
    html = turkish.get_body(preferencelist=("html",)).get_content()
    assert "Zeynep Kaya" in text and "Kahve & Co's site" in text  # plain text: nothing HTML-escaped
    assert update_link in text and blocker_link in text
    assert f'href="{update_link}"' in html and f'href="{blocker_link}"' in html
    assert "Banka & kart onayı bekleniyor" in text  # plain text: no HTML entities
    assert "Banka &amp; kart onayı bekleniyor" in html

    english = by_recipient["tom@anadolukahve.example"]
    assert english["Content-Language"] == "en"
    assert english["Subject"] == "Weekly update: Kahve & Co's site, week of March 9, 2026"
    body = english.get_body(preferencelist=("plain",)).get_content()
    assert body.index("OFF TRACK AND AT RISK") < body.index("NOTES AND UPDATES")
    assert "Blocked, from the update “Ödeme adımı”:" in body  # plain text: no HTML entities

    copy = by_recipient["can@agency.example"]
    assert "Your copy, as the account manager" in copy.get_body(preferencelist=("plain",)).get_content()


def test_weekly_emails_wait_for_a_server_that_is_down_and_arrive_once(app, weekly_project):
    """With SMTP down the weekly emails stay queued; once it is back, each arrives exactly once."""
    port = free_port()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False, SMTP_TIMEOUT=2)
    with time_machine.travel(SLOT + timedelta(minutes=2), tick=False):
        dispatch_weekly(utcnow())
        report = send_due()
        assert (report.sent, report.failed) == (0, 3)
        assert dispatch_weekly(utcnow()).sent == 0  # a re-run queues nothing new
    controller, inbox = start_smtp(app, port)
    try:
        with time_machine.travel(SLOT + timedelta(minutes=30), tick=False):
            assert send_due().sent == 3
            assert send_due().sent == 0
    finally:
        controller.stop()
    assert sorted(r[0] for r in inbox.recipients) == ["can@agency.example", "tom@anadolukahve.example", "zeynep@anadolukahve.example"]
