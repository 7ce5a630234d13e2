"""Send due outbox emails: claimed one at a time, retried with backoff, dead after N tries."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from portal.claims import rows_changed
from portal.extensions import db
from portal.models import EmailStatus, OutboxEmail
from portal.notify.backends import MailBackend, backend_for, build_message
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

# A claim older than this is taken to belong to a sender that crashed mid-send.
STALE_CLAIM = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=6)
# Links that log someone in: once an email is delivered, nobody reading the log may reuse them.
_SECRET_LINK = re.compile(r"(/invite/|/password/reset/)[A-Za-z0-9_\-]{16,}")


def redact_links(text: str) -> str:
    """Replace the secret part of invitation and reset links with an ellipsis."""
    return _SECRET_LINK.sub(r"\1…", text)


@dataclass
class SendReport:
    """What one run of the sender did."""

    sent: int = 0
    failed: int = 0
    dead: int = 0


def retry_delay(attempts: int, base_seconds: float) -> timedelta:
    """Return the wait before the next try: base × 2^(attempts−1), at most six hours."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def send_due(backend: MailBackend | None = None, *, batch: int = 100) -> SendReport:
    """Send every due email once; commits after each email so no send is lost."""
    config = current_app.config
    backend = backend or backend_for(config)
    report = SendReport()
    now = utcnow()
    db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.status == EmailStatus.SENDING, OutboxEmail.claimed_at < now - STALE_CLAIM)
        .values(status=EmailStatus.QUEUED)
    )
    db.session.commit()
    due_ids = db.session.scalars(
        select(OutboxEmail.id)
        .where(OutboxEmail.status == EmailStatus.QUEUED, OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(batch)
    ).all()
    db.session.commit()
    for email_id in due_ids:
        # The conditional update is the claim: of two senders, only one changes the row.
        claimed = rows_changed(
            update(OutboxEmail)
            .where(OutboxEmail.id == email_id, OutboxEmail.status == EmailStatus.QUEUED)
            .values(status=EmailStatus.SENDING, claimed_at=utcnow())
        )
        db.session.commit()
        if not claimed:
            continue
        email = db.session.get(OutboxEmail, email_id)
        if email is None:  # deleted since it was claimed: nothing left to send
            continue
        try:
            backend.send(build_message(email, config["MAIL_FROM"]))
        # Whatever a backend raises (SMTP, TLS, socket, file, boto errors…), the email must be
        # retried or marked dead, never left claimed as "sending".
        except Exception as exc:  # noqa: BLE001
            email.attempts += 1
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            email.claimed_at = None
            if email.attempts >= int(config["MAIL_MAX_ATTEMPTS"]):
                email.status = EmailStatus.DEAD
                report.dead += 1
                log.error("email %s is dead after %s attempts: %s", email.id, email.attempts, email.last_error)
            else:
                email.status = EmailStatus.QUEUED
                email.next_attempt_at = utcnow() + retry_delay(email.attempts, config["MAIL_RETRY_BASE_SECONDS"])
                report.failed += 1
                log.warning("email %s failed (attempt %s): %s", email.id, email.attempts, email.last_error)
        else:
            email.attempts += 1
            email.status = EmailStatus.SENT
            email.sent_at = utcnow()
            email.last_error = ""
            email.text_body = redact_links(email.text_body)
            email.html_body = redact_links(email.html_body)
            report.sent += 1
        db.session.commit()
    return report


def can_requeue(email: OutboxEmail) -> bool:
    """Tell whether ``email`` may go back in the queue: only once it is dead (the others are sent or still being tried)."""
    return email.status is EmailStatus.DEAD


def requeue(email: OutboxEmail) -> None:
    """Put a dead email back in the queue for an immediate try; the caller commits."""
    email.status = EmailStatus.QUEUED
    email.attempts = 0
    email.next_attempt_at = utcnow()
    email.claimed_at = None
