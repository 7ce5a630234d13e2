"""Send due outbox emails: each claimed under a short lease, retried with capped backoff for a window.

Delivery is at least once. Each email is claimed just before it is sent and its outcome
committed just after, so a sender that dies loses nothing: once the claim's lease
(``MAIL_LEASE_SECONDS``) has run out, the next run sends the email again. The only
duplicate possible is that one: the SMTP server accepted the email and the sender died
(or lost the database) before it recorded "sent".
"""

from __future__ import annotations

import logging
import re
import smtplib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, select, update
from sqlalchemy.sql.elements import ColumnElement

from portal.claims import rows_changed
from portal.extensions import db
from portal.models import EmailStatus, OutboxEmail
from portal.notify.backends import MailBackend, backend_for, build_message
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

# Links that log someone in: once an email is delivered, nobody reading the log may reuse them.
_SECRET_LINK = re.compile(r"(/invite/|/password/reset/|/login/link/)[A-Za-z0-9_\-]{16,}")


def redact_links(text: str) -> str:
    """Replace the secret part of invitation, reset and sign-in links with an ellipsis."""
    return _SECRET_LINK.sub(r"\1…", text)


@dataclass
class SendReport:
    """What one run of the sender did."""

    sent: int = 0
    failed: int = 0
    dead: int = 0


def lease(config: Mapping[str, Any]) -> timedelta:
    """Return how long a claim holds an email; an older claim belongs to a sender that stopped."""
    return timedelta(seconds=float(config["MAIL_LEASE_SECONDS"]))


def retry_delay(attempts: int, base_seconds: float, max_seconds: float) -> timedelta:
    """Return the wait before the next try: base × 2^(attempts−1), at most ``max_seconds``."""
    # The exponent is capped first: 2 ** 1000 seconds is no timedelta.
    return timedelta(seconds=min(base_seconds * 2 ** min(max(attempts - 1, 0), 40), max_seconds))


def retry_window() -> timedelta:
    """Return how long after it was queued an email is still retried (``MAIL_RETRY_WINDOW_HOURS``)."""
    return timedelta(hours=float(current_app.config["MAIL_RETRY_WINDOW_HOURS"]))


def retry_until(email: OutboxEmail) -> datetime:
    """Return when the retries of ``email`` stop."""
    return email.queued_at + retry_window()


def is_refused_for_good(exc: Exception) -> bool:
    """Tell whether the SMTP server refused the recipient's address for good (5.1.x: no such mailbox or domain).

    Other refusals, even with a 5xx code (relay denied, a sending quota, a spam filter), are
    often the configuration's or the moment's: those are retried for the whole window.
    """
    if not isinstance(exc, smtplib.SMTPRecipientsRefused) or not exc.recipients:
        return False
    return all(code >= 500 and _reply_text(reply).startswith("5.1.") for code, reply in exc.recipients.values())


def _reply_text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def _due() -> ColumnElement[bool]:
    """Emails a sender may claim now: queued and due, or claimed by a sender whose lease ran out.

    A claim moves ``next_attempt_at`` to the end of its lease, so one condition covers both.
    """
    return and_(OutboxEmail.status.in_((EmailStatus.QUEUED, EmailStatus.SENDING)), OutboxEmail.next_attempt_at <= utcnow())


def _next_due() -> tuple[int, int, EmailStatus] | None:
    """Return the id, attempts and status of the email due first, if any."""
    row = db.session.execute(
        select(OutboxEmail.id, OutboxEmail.attempts, OutboxEmail.status).where(_due()).order_by(OutboxEmail.next_attempt_at, OutboxEmail.id).limit(1)
    ).first()
    db.session.commit()
    return (row[0], row[1], row[2]) if row is not None else None


def _claim(email_id: int, attempts: int) -> OutboxEmail | None:
    """Claim the email ``email_id`` for this sender; None when another sender claimed it first (or it is gone).

    The claim counts as an attempt and holds the email until its lease ends; an email
    whose sender died is claimed again only then, and (after earlier attempts) only after
    the backoff as well, so an email that kills its sender is not re-sent every minute.
    """
    config = current_app.config
    now = utcnow()
    reclaim_at = now + lease(config)
    if attempts:
        reclaim_at += retry_delay(attempts, config["MAIL_RETRY_BASE_SECONDS"], config["MAIL_RETRY_MAX_SECONDS"])
    # The conditional update is the claim: of two senders, only one changes the row.
    claimed = rows_changed(
        update(OutboxEmail)
        .where(OutboxEmail.id == email_id, OutboxEmail.attempts == attempts, _due())
        .values(status=EmailStatus.SENDING, claimed_at=now, attempted_at=now, attempts=attempts + 1, next_attempt_at=reclaim_at)
    )
    db.session.commit()
    return db.session.get(OutboxEmail, email_id) if claimed else None


def _abandoned_for_too_long(email: OutboxEmail, report: SendReport) -> bool:
    """Mark dead an email reclaimed from a stopped sender once its retry window is over."""
    if email.queued_at + retry_window() >= utcnow():
        return False
    email.status = EmailStatus.DEAD
    email.claimed_at = None
    email.last_error = email.last_error or "The sender stopped while sending this email, on every try."
    report.dead += 1
    log.error("email %s is dead after %s attempts: its sender stopped while sending it", email.id, email.attempts)
    db.session.commit()
    return True


def send_due(backend: MailBackend | None = None, *, batch: int | None = None) -> SendReport:
    """Send the due emails, one claim and one commit each, until none is due or the run's bounds are reached.

    A run tries at most ``batch`` (``MAIL_BATCH_SIZE``) emails and starts none after
    ``MAIL_BATCH_SECONDS``; the rest go in the next run.
    """
    config = current_app.config
    backend = backend or backend_for(config)
    limit = int(config["MAIL_BATCH_SIZE"]) if batch is None else batch
    stop_at = time.monotonic() + float(config["MAIL_BATCH_SECONDS"])
    report = SendReport()
    for _ in range(limit):
        if time.monotonic() >= stop_at:
            break
        due = _next_due()
        if due is None:
            break
        email_id, attempts, status = due
        email = _claim(email_id, attempts)
        if email is None:
            continue
        if status is EmailStatus.SENDING and _abandoned_for_too_long(email, report):
            continue
        _send_one(email, backend, report)
    return report


def _send_one(email: OutboxEmail, backend: MailBackend, report: SendReport) -> None:
    """Send one claimed email and commit its outcome at once: sent, queued for a retry, or dead."""
    config = current_app.config
    try:
        backend.send(build_message(email, config["MAIL_FROM"]))
    # Whatever a backend raises (SMTP, TLS, socket, file, boto errors…), the email must be
    # retried or marked dead, never left claimed as "sending".
    except Exception as exc:  # noqa: BLE001
        email.attempted_at = utcnow()
        email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        email.claimed_at = None
        next_try = email.attempted_at + retry_delay(email.attempts, config["MAIL_RETRY_BASE_SECONDS"], config["MAIL_RETRY_MAX_SECONDS"])
        if is_refused_for_good(exc) or next_try > retry_until(email):
            email.status = EmailStatus.DEAD
            report.dead += 1
            log.error("email %s is dead after %s attempts: %s", email.id, email.attempts, email.last_error)
        else:
            email.status = EmailStatus.QUEUED
            email.next_attempt_at = next_try
            report.failed += 1
            log.warning("email %s failed (attempt %s): %s", email.id, email.attempts, email.last_error)
    else:
        email.attempted_at = email.sent_at = utcnow()
        email.status = EmailStatus.SENT
        email.last_error = ""
        email.text_body = redact_links(email.text_body)
        email.html_body = redact_links(email.html_body)
        report.sent += 1
    db.session.commit()


def can_requeue(email: OutboxEmail) -> bool:
    """Tell whether ``email`` may go back in the queue: only once it is dead (the others are sent or still being tried)."""
    return email.status is EmailStatus.DEAD


def requeue(email: OutboxEmail) -> None:
    """Put a dead email back in the queue for an immediate try and a new retry window; the caller commits."""
    now = utcnow()
    email.status = EmailStatus.QUEUED
    email.attempts = 0
    email.next_attempt_at = now
    email.queued_at = now
    email.claimed_at = None
