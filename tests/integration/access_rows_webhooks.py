"""Access matrix rows of webhooks: admins' pages only; everyone else gets 403 (and is asked to log in first)."""

from __future__ import annotations

from typing import Any

from tests.integration.test_access_matrix import DONE, LOGIN, Row, row


def _webhook(scene: Any) -> int:
    """A webhook registered directly (no activity event of its own), made once per scene."""
    if "webhook" not in scene._cache:
        scene._cache["webhook"] = _new_webhook("Agency CRM")
    return scene._cache["webhook"]


def _fresh_webhook(scene: Any) -> int:
    """A webhook to delete, fresh for each visitor."""
    return _new_webhook("To delete")


def _new_webhook(name: str) -> int:
    from portal.extensions import db
    from portal.models import Webhook

    hook = Webhook(name=name, url="https://hooks.example.com/rapport", events=["version.approved"], secret="whsec_matrix")
    db.session.add(hook)
    db.session.commit()
    return hook.id


def _dead_delivery(scene: Any) -> int:
    """A failed delivery of the scene's webhook (to send again), fresh for each visitor."""
    from portal.extensions import db
    from portal.models import DeliveryStatus, WebhookDelivery

    scene._made += 1
    delivery = WebhookDelivery(
        webhook_id=_webhook(scene),
        delivery_id=f"00000000-0000-4000-8000-{scene._made:012d}",
        event_id=f"00000000-0000-4000-9000-{scene._made:012d}",
        event="version.approved",
        body="{}",
        status=DeliveryStatus.DEAD,
        attempts=9,
        last_error="HTTP 500",
        response_code=500,
    )
    db.session.add(delivery)
    db.session.commit()
    return delivery.id


def _hook_form(scene: Any) -> dict:
    return {"name": "Slack #client-news", "url": "https://hooks.example.com/slack", "events": ["goal.agreed", "concern.raised"]}


def extend(scene_class: type) -> list[Row]:
    """Return the feature's rows (and teach the scene its webhooks and deliveries)."""
    scene_class.webhook = _webhook
    scene_class.fresh_webhook = _fresh_webhook
    scene_class.dead_delivery = _dead_delivery
    # fmt: off
    return [
        #   method  url                                              anonymous other_client own_client manager other_manager admin
        row("GET",  "/admin/webhooks/",                                  LOGIN, 403, 403, 403, 403, 200),
        row("GET",  "/admin/webhooks/new",                               LOGIN, 403, 403, 403, 403, 200),
        row("POST", "/admin/webhooks/new",                               LOGIN, 403, 403, 403, 403, 201, data=_hook_form),
        row("GET",  "/admin/webhooks/{webhook}",                         LOGIN, 403, 403, 403, 403, 200),
        row("GET",  "/admin/webhooks/99999999",                          LOGIN, 403, 403, 403, 403, 404),
        row("GET",  "/admin/webhooks/{webhook}/edit",                    LOGIN, 403, 403, 403, 403, 200),
        row("POST", "/admin/webhooks/{webhook}/edit",                    LOGIN, 403, 403, 403, 403, DONE, data=_hook_form),
        row("POST", "/admin/webhooks/{webhook}/pause",                   LOGIN, 403, 403, 403, 403, DONE),
        row("POST", "/admin/webhooks/{webhook}/resume",                  LOGIN, 403, 403, 403, 403, DONE),
        row("POST", "/admin/webhooks/{webhook}/rotate",                  LOGIN, 403, 403, 403, 403, 200),
        row("POST", "/admin/webhooks/{fresh_webhook}/delete",            LOGIN, 403, 403, 403, 403, DONE),
        row("POST", "/admin/webhooks/deliveries/{dead_delivery}/retry",  LOGIN, 403, 403, 403, 403, DONE),
        row("POST", "/admin/webhooks/deliveries/99999999/retry",         LOGIN, 403, 403, 403, 403, 404),
    ]
    # fmt: on
