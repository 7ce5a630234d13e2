"""The outbox through long outages, crashed senders and hanging SMTP servers, and the backlog admins see."""

from __future__ import annotations

import asyncio
import html
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.extensions import db
from portal.models import EmailStatus, OutboxEmail
from portal.notify import sender
from portal.notify.backends import SMTPBackend
from portal.notify.sender import send_due
from portal.notify.service import queue_email
from portal.timeutil import utcnow
from tests.integration.test_outbox import Inbox, free_port, invite


def queue(world, n: int, *, to: str = "person{i}@example.com") -> None:
    """Queue ``n`` password-reset emails for the own client, each to its own address, and commit."""
    for i in range(n):
        queue_email(
            world.own_client, kind="test", key=f"reliability-{i}", template="emails/password_reset.html",
            to_address=to.format(i=i), link="http://portal.test/x", minutes=5,
        )
    db.session.commit()


def rows() -> list[OutboxEmail]:
    """Return every outbox row as the database holds it now, oldest first."""
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def point_at(app, port: int, **extra) -> None:
    """Send through a plain SMTP server on 127.0.0.1:``port``."""
    app.config.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_STARTTLS": False, "SMTP_TIMEOUT": 2, **extra})


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Listen on a free port, accept every connection and never say a word; return the port."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


class Refusing(Inbox):
    """An SMTP server that refuses some recipients with the reply given for them."""

    def __init__(self, replies: dict[str, str]) -> None:
        super().__init__()
        self.replies = replies

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook name
        if address in self.replies:
            return self.replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"


class Slow(Inbox):
    """An SMTP server that answers every command after ``delay`` seconds, and never answers DATA for ``stuck``."""

    def __init__(self, delay: float = 0.0, stuck: str = "") -> None:
        super().__init__()
        self.delay = delay
        self.stuck = stuck

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802 - aiosmtpd's hook name
        await asyncio.sleep(self.delay)
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 - aiosmtpd's hook name
        await asyncio.sleep(self.delay)
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.stuck in envelope.rcpt_tos:
            await asyncio.sleep(60)  # cancelled when the server stops
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def start_server(app) -> Iterator:
    """Return a function starting an aiosmtpd server with a handler (on ``port``, else a free one) and pointing the app at it."""
    controllers: list[Controller] = []

    def start(handler: Inbox, port: int | None = None, **config) -> Inbox:
        port = port or free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        point_at(app, port, **config)
        return handler

    yield start
    for controller in controllers:
        controller.stop()


# --- A long outage -------------------------------------------------------------------------------


def test_a_day_long_outage_loses_nothing_and_mail_leaves_within_half_an_hour_of_recovery(world, app, start_server):
    """With SMTP down for 24 hours of scheduler runs, the email stays queued; once the server is back, it arrives once."""
    port = free_port()
    point_at(app, port)
    invite(world)
    moment = utcnow()
    for _ in range(24 * 6):  # a run every ten minutes for a day
        moment += timedelta(minutes=10)
        with time_machine.travel(moment, tick=False):
            send_due()
    (row,) = rows()
    assert row.status is EmailStatus.QUEUED, row.last_error
    assert row.attempts > 8  # the old limit: dead after eight tries, about an hour
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at <= moment + timedelta(minutes=30)  # the backoff is capped

    inbox = start_server(Inbox(), port)
    with time_machine.travel(moment + timedelta(minutes=30), tick=False):
        assert send_due().sent == 1
        assert send_due().sent == 0
    assert [m["To"].addresses[0].addr_spec for m in inbox.messages] == ["zeynep@example.com"]
    (row,) = rows()
    assert row.status is EmailStatus.SENT


def test_an_email_is_retried_for_three_days_by_default(world, app):
    """The default window is 72 hours: a try after that marks the email failed, and admins can send it again."""
    point_at(app, free_port())
    invite(world)
    moment = utcnow()
    with time_machine.travel(moment + timedelta(hours=71), tick=False):
        assert send_due().failed == 1
    with time_machine.travel(moment + timedelta(hours=71, minutes=59, seconds=59), tick=False):
        assert send_due().dead == 1  # its next try would fall after the 72 hours
    (row,) = rows()
    assert row.status is EmailStatus.DEAD


def test_an_unknown_recipient_is_failed_at_once_and_other_refusals_are_retried(world, start_server):
    """A 5.1.1 "no such user" refusal is final; a relay refusal (often the configuration's) is tried again."""
    start_server(Refusing({"person0@example.com": "550 5.1.1 No such user", "person1@example.com": "554 5.7.1 Relay access denied"}))
    queue(world, 3)
    report = send_due()
    assert (report.sent, report.failed, report.dead) == (1, 1, 1)
    unknown, relay, fine = rows()
    assert unknown.status is EmailStatus.DEAD and "5.1.1" in unknown.last_error
    assert relay.status is EmailStatus.QUEUED and relay.next_attempt_at > utcnow()
    assert fine.status is EmailStatus.SENT


def test_sending_a_dead_email_again_gives_it_a_new_window(web, world, app):
    """An email sent again by an admin after its window is retried afresh, not failed after one try."""
    point_at(app, free_port(), MAIL_RETRY_WINDOW_HOURS=1)
    invite(world)
    start = utcnow()
    with time_machine.travel(start + timedelta(minutes=59, seconds=50), tick=False):
        send_due()
    (row,) = rows()
    assert row.status is EmailStatus.DEAD
    with time_machine.travel(start + timedelta(hours=5), tick=False):
        web.login(world.admin)
        web.post(f"/admin/emails/{row.id}/retry")
        assert send_due().failed == 1
    (row,) = rows()
    assert row.status is EmailStatus.QUEUED and row.attempts == 1


# --- A sender that dies --------------------------------------------------------------------------


class Killed(BaseException):
    """The sender process dying: nothing catches it, nothing after it runs."""


class DiesAfter:
    """A backend that delivers through ``backend``, then dies at the ``die_at``-th email (after the server accepted it)."""

    def __init__(self, backend, die_at: int) -> None:
        self.backend = backend
        self.die_at = die_at
        self.count = 0

    def send(self, message) -> None:
        """Deliver ``message``, then die if it is the fatal one."""
        self.count += 1
        self.backend.send(message)
        if self.count == self.die_at:
            raise Killed


def test_a_crashed_senders_email_goes_out_after_the_lease_not_after_ten_minutes(world, app, start_server):
    """A claim left by a dead sender is taken over once its lease (a minute) has run out; earlier, it is left alone."""
    inbox = start_server(Inbox())
    invite(world)
    claimed = utcnow()
    (row,) = rows()
    with time_machine.travel(claimed, tick=False):
        assert sender._claim(row.id, row.attempts) is not None  # claimed, then the sender was killed
    with time_machine.travel(claimed + timedelta(seconds=50), tick=False):
        assert send_due().sent == 0  # the lease still holds: perhaps that sender is still talking to the server
    with time_machine.travel(claimed + timedelta(seconds=61), tick=False):
        assert send_due().sent == 1
        assert send_due().sent == 0
    assert len(inbox.messages) == 1


def test_a_crash_costs_one_email_a_lease_of_delay_and_at_most_one_duplicate(world, app, start_server):
    """Killed after the server accepted the 2nd of 3 emails: the 1st is recorded sent, the 2nd goes again after the lease, the 3rd once."""
    inbox = start_server(Inbox())
    queue(world, 3)
    with pytest.raises(Killed):
        send_due(DiesAfter(SMTPBackend(app.config), die_at=2))
    db.session.rollback()
    assert [r.status for r in rows()] == [EmailStatus.SENT, EmailStatus.SENDING, EmailStatus.QUEUED]
    assert send_due().sent == 1  # the 3rd at once; the 2nd waits for its lease
    with time_machine.travel(utcnow() + timedelta(seconds=61), tick=False):
        assert send_due().sent == 1
    assert all(r.status is EmailStatus.SENT for r in rows())
    received = [m["To"].addresses[0].addr_spec for m in inbox.messages]
    assert sorted(received) == ["person0@example.com", "person1@example.com", "person1@example.com", "person2@example.com"]
    first, second = (m for m in inbox.messages if m["To"].addresses[0].addr_spec == "person1@example.com")
    assert first["Message-ID"] == second["Message-ID"]  # mail clients merge the copies


# --- A hanging server ----------------------------------------------------------------------------


def test_a_server_that_never_answers_holds_a_run_for_the_batch_time_only(world, app, silent_server):
    """Against a server that accepts and stays silent, a run stops starting emails after MAIL_BATCH_SECONDS; the rest wait, untouched."""
    point_at(app, silent_server, SMTP_TIMEOUT=1, MAIL_BATCH_SECONDS=2)
    queue(world, 10)
    report = send_due()
    # Two seconds of batch at one second per timeout: two or three tried, the rest left for the next run.
    assert 1 <= report.failed <= 3
    tried = [r for r in rows() if r.attempts]
    untried = [r for r in rows() if not r.attempts]
    assert len(tried) == report.failed and len(untried) == 10 - report.failed
    assert all("timed out" in r.last_error and r.status is EmailStatus.QUEUED for r in tried)
    assert all(r.status is EmailStatus.QUEUED and r.next_attempt_at <= utcnow() for r in untried)  # due for the next run


def test_a_run_stops_after_the_batch_size(world, start_server):
    """A run sends at most MAIL_BATCH_SIZE emails; the next run sends the rest."""
    inbox = start_server(Inbox(), MAIL_BATCH_SIZE=2)
    queue(world, 3)
    assert send_due().sent == 2
    assert send_due().sent == 1
    assert len(inbox.messages) == 3


def test_one_email_cannot_take_longer_than_half_the_lease(world, start_server):
    """A server that answers each command just within SMTP_TIMEOUT is cut off at half the lease, so no claim outlives its lease."""
    start_server(Slow(delay=0.8), SMTP_TIMEOUT=1, MAIL_LEASE_SECONDS=3)
    queue(world, 1)
    report = send_due()
    assert report.failed == 1  # EHLO, MAIL, DATA at 0.8 s each would take 2.4 s: cut at 1.5 s
    (row,) = rows()
    assert row.status is EmailStatus.QUEUED and "took too long" in row.last_error


def test_a_server_stuck_on_one_email_does_not_hold_the_others(world, start_server):
    """An email whose DATA is never answered times out and waits for a retry; the emails after it go out in the same run."""
    inbox = start_server(Slow(stuck="person0@example.com"), SMTP_TIMEOUT=1)
    queue(world, 4)
    report = send_due()
    assert (report.sent, report.failed) == (3, 1)
    assert sorted(m["To"].addresses[0].addr_spec for m in inbox.messages) == [f"person{i}@example.com" for i in (1, 2, 3)]
    stuck = rows()[0]
    assert stuck.status is EmailStatus.QUEUED and stuck.next_attempt_at > utcnow()


# --- The backlog admins see -----------------------------------------------------------------------


def failing_backlog(world, app, n: int = 3) -> None:
    """Queue ``n`` emails and fail each once against a server that is down."""
    point_at(app, free_port())
    queue(world, n)
    send_due()


def text_of(web, url: str) -> str:
    """GET ``url`` and return its words."""
    return html.unescape(web.text(url))


def test_admins_see_how_many_emails_wait_since_when_and_the_last_error(web, world, app):
    """The email log warns of the backlog: its size, its age, the last error and until when it is retried."""
    failing_backlog(world, app)
    web.login(world.admin)
    with time_machine.travel(utcnow() + timedelta(minutes=20)):
        page = text_of(web, "/admin/emails/")
        one = text_of(web, f"/admin/emails/{rows()[0].id}")
    assert "3 emails are waiting to be sent, the oldest since" in page
    assert "Last error (" in page and "ConnectionRefusedError" in page
    assert "Each email is retried for 72 hours after it was queued; the oldest until" in page
    assert page.count("Next try ") == 3  # on each queued email, with until when it is retried
    assert page.count("retried until") == 3
    assert "Retried until" in one and "Last attempt" in one


def test_the_backlog_warning_is_in_turkish_for_a_turkish_admin(web, world, app):
    """The warning reads in the admin's language."""
    world.admin.language = "tr"
    db.session.commit()
    failing_backlog(world, app, n=2)
    web.login(world.admin)
    page = text_of(web, "/admin/emails/")
    assert "2 e-posta gönderilmeyi bekliyor" in page


def test_no_warning_while_mail_flows(web, world, start_server):
    """Emails sent, or queued a moment ago and not failed, raise no warning."""
    start_server(Inbox())
    queue(world, 2)
    send_due()
    queue_email(world.own_client, kind="test", key="fresh", template="emails/password_reset.html", link="x", minutes=5)
    db.session.commit()
    web.login(world.admin)
    assert "waiting to be sent" not in text_of(web, "/admin/emails/")
    assert "waiting to be sent" not in text_of(web, "/")


def test_admin_home_links_to_the_log_once_emails_have_waited_15_minutes(make_web, world, app):
    """After 15 minutes of waiting, the admin's home says so and links to the log; managers and clients see nothing of it."""
    failing_backlog(world, app)
    admin, manager, client = make_web(), make_web(), make_web()
    admin.login(world.admin)
    manager.login(world.manager)
    client.login(world.own_client)
    assert "waiting to be sent" not in text_of(admin, "/")  # a few minutes is normal
    with time_machine.travel(utcnow() + timedelta(minutes=16)):
        home = text_of(admin, "/")
        assert "3 emails have been waiting to be sent, the oldest since" in home
        assert 'href="/admin/emails/?status=queued"' in home
        assert "waiting to be sent" not in text_of(manager, "/")
        assert "waiting to be sent" not in text_of(client, "/")
        assert manager.get("/admin/emails/").status_code in (403, 404)


def test_the_backlog_costs_the_same_queries_for_5_and_50_emails(web, world, app, count_queries):
    """The log and the admin home run as many queries with 50 waiting emails as with 5."""
    web.login(world.admin)
    start = utcnow()
    counts = []
    for step, n in enumerate((5, 50), start=1):
        db.session.execute(OutboxEmail.__table__.delete())
        db.session.commit()
        failing_backlog(world, app, n)
        # Each look is later than the last: travelling back to a moment already used would make the session
        # cookie signed then (in whole seconds) look "from the future" and log the admin out.
        with time_machine.travel(start + timedelta(minutes=20 * step)):
            web.get("/admin/emails/")
            with count_queries() as log:
                page = text_of(web, "/admin/emails/")
            with count_queries() as home:
                text_of(web, "/")
        assert f"{n} emails are waiting" in page
        counts.append((log.count, home.count))
    assert counts[0] == counts[1]


def test_an_email_that_kills_its_sender_backs_off_and_dies_after_the_window(world, app):
    """A "poison" email whose send kills the sender every time is not re-sent every minute for ever."""
    invite(world)
    start = utcnow()
    reclaims = []
    moment = start
    while moment < start + timedelta(hours=80):
        with time_machine.travel(moment, tick=False):
            due = sender._next_due()
            if due is not None:
                email = sender._claim(due[0], due[1])
                if email is not None and not (due[2] is EmailStatus.SENDING and sender._abandoned_for_too_long(email, sender.SendReport())):
                    reclaims.append(moment)  # the sender dies here: nothing is recorded
        moment += timedelta(minutes=1)
    (row,) = rows()
    assert row.status is EmailStatus.DEAD
    # Backoff between the tries: far fewer than one a minute over three days.
    assert 5 <= len(reclaims) <= 200, len(reclaims)  # about 150 with a 30-minute cap; 4,300 without backoff
    assert reclaims[-1] <= start + timedelta(hours=72, minutes=31)
