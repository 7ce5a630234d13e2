"""Send due webhook deliveries: each claimed under a lease, retried with capped backoff for a window.

It works as the email sender does (:mod:`portal.notify.sender`): a delivery is claimed by a
conditional UPDATE just before it is sent and its outcome committed just after, so a sender
that dies loses nothing and two senders never send one delivery at the same time. Delivery
is at least once: a receiver that must not act twice keeps the ``X-Rapport-Delivery`` ids
it has seen. A non-2xx answer, a connection error or a timeout is retried until
``WEBHOOK_RETRY_WINDOW_HOURS`` after the delivery was queued; then it is dead, and an admin
can send it again. Only the scheduler sends; no request ever waits for a receiver.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, select, update
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.elements import ColumnElement

from portal.claims import rows_changed
from portal.extensions import db
from portal.models import DeliveryStatus, Webhook, WebhookDelivery
from portal.notify.sender import retry_delay
from portal.timeutil import utcnow
from portal.webhooks import transport

log = logging.getLogger(__name__)

# The defaults of the settings (each can be set as PORTAL_<NAME>; README, "Webhooks").
DEFAULTS: dict[str, Any] = {
    "WEBHOOK_TIMEOUT_SECONDS": 10,  # one delivery: connecting, sending and reading the answer
    "WEBHOOK_RETRY_BASE_SECONDS": 30,  # first wait after a failure; each next one doubles…
    "WEBHOOK_RETRY_MAX_SECONDS": 3600,  # …up to an hour
    "WEBHOOK_RETRY_WINDOW_HOURS": 24,  # then the delivery is dead
    "WEBHOOK_LEASE_SECONDS": 60,  # how long a sender holds a delivery (at least twice the timeout)
    "WEBHOOK_BATCH_SIZE": 50,  # at most this many deliveries a run…
    "WEBHOOK_BATCH_SECONDS": 30,  # …and none started after this long
    "WEBHOOK_INTERVAL_SECONDS": 10,  # how often the scheduler runs the sender
}

Post = Callable[..., transport.Answer]


@dataclass
class SendReport:
    """What one run of the sender did."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0


def setting(name: str) -> float:
    """Return the number ``name`` from the app's configuration, else its default."""
    return float(current_app.config.get(name, DEFAULTS[name]))


def guarded() -> bool:
    """Tell whether private and loopback addresses are refused: everywhere but development and the tests."""
    return current_app.config.get("ENV") not in ("development", "testing")


def lease() -> timedelta:
    """Return how long a claim holds a delivery; never shorter than two timeouts."""
    return timedelta(seconds=max(setting("WEBHOOK_LEASE_SECONDS"), 2 * setting("WEBHOOK_TIMEOUT_SECONDS")))


def retry_window() -> timedelta:
    """Return how long after it was queued a delivery is still retried."""
    return timedelta(hours=setting("WEBHOOK_RETRY_WINDOW_HOURS"))


def retry_until(delivery: WebhookDelivery) -> datetime:
    """Return when the retries of ``delivery`` stop."""
    return delivery.queued_at + retry_window()


def _delay(attempts: int) -> timedelta:
    return retry_delay(attempts, setting("WEBHOOK_RETRY_BASE_SECONDS"), setting("WEBHOOK_RETRY_MAX_SECONDS"))


def _due() -> ColumnElement[bool]:
    """Deliveries a sender may claim now: queued (or claimed by a sender whose lease ran out), due, for an active hook."""
    return and_(
        WebhookDelivery.status.in_((DeliveryStatus.QUEUED, DeliveryStatus.SENDING)),
        WebhookDelivery.next_attempt_at <= utcnow(),
        WebhookDelivery.webhook_id.in_(select(Webhook.id).where(Webhook.active.is_(True))),
    )


def _next_due() -> tuple[int, int, DeliveryStatus] | None:
    """Return the id, attempts and status of the delivery due first, if any."""
    row = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.attempts, WebhookDelivery.status)
        .where(_due())
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(1)
    ).first()
    db.session.commit()
    return (row[0], row[1], row[2]) if row is not None else None


def _claim(delivery_id: int, attempts: int) -> WebhookDelivery | None:
    """Claim the delivery for this sender (one attempt); None when another sender got it first."""
    now = utcnow()
    reclaim_at = now + lease() + (_delay(attempts) if attempts else timedelta(0))
    claimed = rows_changed(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.attempts == attempts, _due())
        .values(status=DeliveryStatus.SENDING, claimed_at=now, attempted_at=now, attempts=attempts + 1, next_attempt_at=reclaim_at),
        synchronize_session=False,
    )
    db.session.commit()
    return db.session.get(WebhookDelivery, delivery_id, populate_existing=True) if claimed else None


def send_due(*, post: Post | None = None, batch: int | None = None) -> SendReport:
    """Send the due deliveries, one claim and one commit each, until none is due or the run's bounds are reached."""
    post = post or transport.post
    limit = int(setting("WEBHOOK_BATCH_SIZE")) if batch is None else batch
    stop_at = time.monotonic() + setting("WEBHOOK_BATCH_SECONDS")
    report = SendReport()
    for _ in range(limit):
        if time.monotonic() >= stop_at:
            break
        due = _next_due()
        if due is None:
            break
        delivery_id, attempts, status = due
        delivery = _claim(delivery_id, attempts)
        if delivery is None:
            continue
        if status is DeliveryStatus.SENDING and retry_until(delivery) < utcnow():
            _fail(delivery, "The sender stopped while sending this delivery, on every try.", None, report, final=True)
            continue
        _send_one(delivery, post, report)
    return report


def headers(delivery: WebhookDelivery, secret: str, timestamp: str) -> dict[str, str]:
    """Return the headers of one attempt: the event, the delivery's id, the moment and the signature."""
    return {
        "X-Rapport-Event": delivery.event,
        "X-Rapport-Delivery": delivery.delivery_id,
        "X-Rapport-Timestamp": timestamp,
        "X-Rapport-Signature": transport.sign(secret, timestamp, delivery.body),
    }


def _send_one(delivery: WebhookDelivery, post: Post, report: SendReport) -> None:
    """Send one claimed delivery and commit its outcome: delivered, queued for a retry, or dead."""
    hook = delivery.webhook
    timestamp = str(int(utcnow().timestamp()))
    try:
        answer = post(hook.url, delivery.body, headers(delivery, hook.secret, timestamp), timeout=setting("WEBHOOK_TIMEOUT_SECONDS"), guard=guarded())
    except transport.Refused as exc:
        _fail(delivery, f"Refused: {exc}", None, report, final=True)
        return
    # Whatever the network raises (refused, reset, TLS, timeout, a malformed answer), the
    # delivery must be retried or marked dead, never left claimed as "sending".
    except Exception as exc:  # noqa: BLE001
        _fail(delivery, f"{type(exc).__name__}: {exc}", None, report)
        return
    if not answer.ok:
        _fail(delivery, f"HTTP {answer.status}: {' '.join(answer.text.split())[:300]}".rstrip(": "), answer.status, report)
        return
    delivery.status = DeliveryStatus.DELIVERED
    delivery.delivered_at = delivery.attempted_at = utcnow()
    delivery.response_code = answer.status
    delivery.claimed_at = None
    delivery.last_error = ""
    report.delivered += 1
    _commit(delivery)


def _fail(delivery: WebhookDelivery, error: str, status: int | None, report: SendReport, *, final: bool = False) -> None:
    """Record a failed attempt: queued for the next try within the window, else dead; and commit."""
    delivery.attempted_at = utcnow()
    delivery.last_error = error[:2000]
    delivery.response_code = status
    delivery.claimed_at = None
    next_try = delivery.attempted_at + _delay(delivery.attempts)
    if final or next_try > retry_until(delivery):
        delivery.status = DeliveryStatus.DEAD
        report.dead += 1
        log.error("webhook delivery %s is dead after %s attempts: %s", delivery.id, delivery.attempts, delivery.last_error)
    else:
        delivery.status = DeliveryStatus.QUEUED
        delivery.next_attempt_at = next_try
        report.failed += 1
        log.warning("webhook delivery %s failed (attempt %s): %s", delivery.id, delivery.attempts, delivery.last_error)
    _commit(delivery)


def _commit(delivery: WebhookDelivery) -> None:
    """Commit a delivery's outcome; an admin may have deleted its hook (and it) while it was being sent."""
    delivery_id = delivery.id
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        log.info("webhook delivery %s was deleted with its hook while it was being sent", delivery_id)


def can_requeue(delivery: WebhookDelivery) -> bool:
    """Tell whether ``delivery`` may be sent again: only once it is dead."""
    return delivery.status is DeliveryStatus.DEAD


def requeue(delivery: WebhookDelivery) -> None:
    """Put a dead delivery back in the queue for an immediate try and a new window (same delivery id); the caller commits."""
    now = utcnow()
    delivery.status = DeliveryStatus.QUEUED
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.queued_at = now
    delivery.claimed_at = None


def event_of(delivery: WebhookDelivery) -> Mapping[str, Any]:
    """Return the delivery's body as JSON (for the admins' page)."""
    try:
        found = json.loads(delivery.body)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
