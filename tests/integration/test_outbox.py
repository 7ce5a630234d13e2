"""The email outbox against a real SMTP server (aiosmtpd) and the .eml file backend."""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import timedelta
from email.message import EmailMessage

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from portal.auth import service as auth_service
from portal.extensions import db
from portal.models import EmailStatus, OutboxEmail, Role
from portal.notify import sender
from portal.notify.sender import retry_delay, send_due
from portal.notify.service import queue_email
from portal.timeutil import utcnow


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(app):
    """Start a real SMTP server on a free port and point the app at it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False, SMTP_TIMEOUT=5)
    yield inbox
    controller.stop()


def invite(world, email_address="zeynep@example.com", language="tr"):
    """Invite a client user of the own organisation, as the manager, and commit."""
    user = auth_service.invite_user(
        world.manager, email=email_address, name="Zeynep", role=Role.CLIENT, client=world.own_org, language=language
    )
    db.session.commit()
    return user


def test_invitation_is_delivered_once_in_the_invitees_language(world, smtp_server):
    """A queued invitation reaches the SMTP server once, in Turkish, with a working portal link."""
    invite(world)
    report = send_due()
    assert report.sent == 1
    assert send_due().sent == 0  # nothing is sent twice

    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert smtp_server.recipients[0] == ["zeynep@example.com"]
    assert message["Content-Language"] == "tr"
    assert "davet ediyor" in message["Subject"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "http://portal.test/invite/" in body
    html = message.get_body(preferencelist=("html",)).get_content()
    assert 'href="http://portal.test/invite/' in html
    row = db.session.scalar(select(OutboxEmail))
    assert row.status is EmailStatus.SENT and row.attempts == 1
    # Once delivered, the log no longer holds a usable link.
    assert "/invite/…" in row.text_body


def test_emails_wait_while_the_server_is_down_and_arrive_once_after(world, app):
    """With SMTP down the email stays queued with backoff; when it is back, it arrives exactly once."""
    port = free_port()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False, SMTP_TIMEOUT=2)
    invite(world)
    report = send_due()
    assert (report.sent, report.failed) == (0, 1)
    row = db.session.scalar(select(OutboxEmail))
    assert row.status is EmailStatus.QUEUED and row.attempts == 1
    assert "Connection" in row.last_error or "refused" in row.last_error.lower()
    assert row.next_attempt_at > utcnow()
    assert send_due().sent == 0  # not due yet: the backoff is respected

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with time_machine.travel(utcnow() + timedelta(minutes=5), tick=False):
            assert send_due().sent == 1
            assert send_due().sent == 0
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    db.session.expire_all()
    assert db.session.scalar(select(OutboxEmail)).status is EmailStatus.SENT


def test_email_is_dead_once_its_retry_window_is_over(world, app):
    """Failures are retried until MAIL_RETRY_WINDOW_HOURS after queueing; the try that would fall later marks it dead."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False, MAIL_RETRY_WINDOW_HOURS=2)
    invite(world)
    moment = utcnow()
    for _ in range(3):
        moment += timedelta(minutes=31)  # past any backoff (capped at 30 minutes)
        with time_machine.travel(moment, tick=False):
            send_due()
    row = db.session.scalar(select(OutboxEmail))
    assert row.status is EmailStatus.QUEUED and row.attempts == 3  # 93 minutes in: the next try is still within 2 hours
    with time_machine.travel(moment + timedelta(minutes=31), tick=False):
        send_due()
    db.session.expire_all()
    row = db.session.scalar(select(OutboxEmail))
    assert row.status is EmailStatus.DEAD and row.attempts == 4  # its next try would fall after 2 hours


def test_backoff_grows_exponentially_and_is_capped():
    """Each retry waits twice as long as the previous one, never more than the cap (30 minutes by default)."""
    assert retry_delay(1, 30, 1800) == timedelta(seconds=30)
    assert retry_delay(2, 30, 1800) == timedelta(seconds=60)
    assert retry_delay(4, 30, 1800) == timedelta(seconds=240)
    assert retry_delay(7, 30, 1800) == timedelta(minutes=30)
    assert retry_delay(10_000, 30, 1800) == timedelta(minutes=30)


def test_same_idempotency_key_is_queued_once(world):
    """Queueing with a key that exists already adds nothing."""
    first = queue_email(world.own_client, kind="test", key="k-1", template="emails/password_reset.html", link="x", minutes=5)
    db.session.commit()
    again = queue_email(world.own_client, kind="test", key="k-1", template="emails/password_reset.html", link="x", minutes=5)
    db.session.commit()
    assert first is not None and again is None
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 1


def test_two_senders_never_send_the_same_email_twice(world, smtp_server):
    """A second sender that finds the email already claimed skips it."""
    invite(world)
    row = db.session.scalar(select(OutboxEmail))
    assert sender._claim(row.id, row.attempts) is not None  # another process holds it
    assert sender._claim(row.id, row.attempts) is None  # and a second claim of the same try fails
    assert send_due().sent == 0
    assert smtp_server.messages == []


def test_file_backend_writes_eml_files_without_smtp(world, app, tmp_path):
    """Without PORTAL_SMTP_HOST, emails are written as .eml files under the mail folder."""
    invite(world, language="en")
    assert send_due().sent == 1
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "zeynep@example.com"
    assert "invites you" in message["Subject"]


def test_subject_cannot_inject_headers(world, app, smtp_server):
    """A name with line breaks cannot add headers to an email."""
    world.manager.name = "Can\r\nBcc: victim@example.com"
    db.session.commit()
    invite(world)
    send_due()
    message = smtp_server.messages[0]
    assert message["Bcc"] is None
    assert smtp_server.recipients[0] == ["zeynep@example.com"]


def test_plain_text_parts_are_not_html_escaped(world, smtp_server):
    """An apostrophe in a name arrives as an apostrophe in the subject and the text part."""
    world.manager.name = "Seán O'Brien & Co"
    db.session.commit()
    invite(world, language="en")
    send_due()
    message = smtp_server.messages[0]
    assert "O'Brien & Co" in message["Subject"]
    assert "O'Brien & Co" in message.get_body(preferencelist=("plain",)).get_content()
