"""What the admins' webhook pages read: a constant number of queries, however many hooks and deliveries."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import DeliveryStatus, Webhook, WebhookDelivery

RECENT = 50  # deliveries shown on a hook's page


def hooks() -> list[Webhook]:
    """Return every webhook, by name."""
    return list(db.session.scalars(select(Webhook).order_by(func.lower(Webhook.name), Webhook.id)))


def status_counts() -> dict[int, dict[DeliveryStatus, int]]:
    """Return, per hook id, how many of its deliveries are in each status (one query)."""
    counts: dict[int, dict[DeliveryStatus, int]] = defaultdict(dict)
    for hook_id, status, count in db.session.execute(
        select(WebhookDelivery.webhook_id, WebhookDelivery.status, func.count()).group_by(WebhookDelivery.webhook_id, WebhookDelivery.status)
    ):
        counts[hook_id][status] = count
    return counts


def hook(hook_id: int) -> Webhook | None:
    """Return the webhook ``hook_id``, if it exists."""
    return db.session.get(Webhook, hook_id)


def delivery(delivery_id: int) -> WebhookDelivery | None:
    """Return the delivery ``delivery_id``, if it exists."""
    return db.session.get(WebhookDelivery, delivery_id)


def recent_deliveries(hook_id: int, limit: int = RECENT) -> list[WebhookDelivery]:
    """Return the newest deliveries of a hook, newest first."""
    return list(
        db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook_id).order_by(WebhookDelivery.id.desc()).limit(limit))
    )
