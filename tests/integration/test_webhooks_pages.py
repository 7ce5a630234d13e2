"""The admins' webhook pages: registering a hook (its secret shown once), changing it, and reading its deliveries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import ActivityEvent, DeliveryStatus, Webhook, WebhookDelivery
from portal.timeutil import utcnow
from tests.integration.test_access_matrix import links

FORM = {"name": "Slack #client-news", "url": "https://hooks.example.com/slack", "events": ["version.approved", "concern.raised"]}


def only_hook() -> Webhook:
    """Return the one webhook there is."""
    db.session.expire_all()
    [hook] = db.session.scalars(select(Webhook)).all()
    return hook


def make_hook(**values) -> Webhook:
    """Register a webhook directly."""
    values = {"name": "Agency CRM", "url": "https://crm.example.com/hook", "events": ["goal.agreed"], "secret": "whsec_test", **values}
    hook = Webhook(**values)
    db.session.add(hook)
    db.session.commit()
    return hook


def make_delivery(hook: Webhook, n: int, **values) -> WebhookDelivery:
    """Add a delivery of ``hook`` directly."""
    values = {
        "delivery_id": f"00000000-0000-4000-8000-{n:012d}",
        "event_id": f"00000000-0000-4000-9000-{n:012d}",
        "event": "goal.agreed",
        "body": "{}",
        **values,
    }
    delivery = WebhookDelivery(webhook_id=hook.id, **values)
    db.session.add(delivery)
    db.session.commit()
    return delivery


def test_an_admin_registers_a_webhook_and_sees_its_secret_once(web, world):
    """The page that answers the form shows the secret; the hook's page never shows it again."""
    web.login(world.admin)
    assert "No webhooks yet" in web.text("/admin/webhooks/")
    response = web.post("/admin/webhooks/new", FORM)
    assert response.status_code == 201
    hook = only_hook()
    page = response.get_data(as_text=True)
    assert hook.secret.startswith("whsec_") and hook.secret in page and "not shown again" in page
    assert hook.name == "Slack #client-news" and hook.url == FORM["url"] and hook.events == ["version.approved", "concern.raised"] and hook.active
    assert hook.secret not in web.text(f"/admin/webhooks/{hook.id}")
    listing = web.text("/admin/webhooks/")
    assert "Slack #client-news" in listing and hook.secret not in listing
    assert db.session.scalar(select(func.count()).select_from(ActivityEvent).where(ActivityEvent.verb == "webhook.created")) == 1


def test_the_same_form_sent_twice_registers_one_webhook(web, world):
    """A double click on "Add the webhook" makes one hook (and shows the secret once)."""
    web.login(world.admin)
    form = web.text("/admin/webhooks/new")
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', form) or re.search(r'value="([^"]+)"[^>]*name="submission_key"', form)
    assert key
    first = web.post("/admin/webhooks/new", {**FORM, "submission_key": key.group(1)})
    second = web.post("/admin/webhooks/new", {**FORM, "submission_key": key.group(1)})
    assert first.status_code == 201 and second.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Webhook)) == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({**FORM, "events": []}, "Choose at least one event to send."),
        ({**FORM, "url": "ftp://hooks.example.com/x"}, "Enter a full address"),
        ({**FORM, "url": ""}, "Enter the address that receives the events."),
        ({**FORM, "name": ""}, "Give the webhook a name"),
        ({**FORM, "events": ["not.an.event"]}, "is not a valid choice"),
    ],
)
def test_a_wrong_form_is_refused_with_what_was_typed_kept(web, world, form, message):
    """Bad input is a 422 with the message next to the field; nothing is registered."""
    web.login(world.admin)
    response = web.post("/admin/webhooks/new", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    if form["name"]:
        assert 'value="Slack #client-news"' in page
    assert db.session.scalar(select(func.count()).select_from(Webhook)) == 0


def test_production_refuses_a_plain_http_address(web, world, app):
    """In production the form asks for https."""
    app.config["ENV"] = "production"
    web.login(world.admin)
    response = web.post("/admin/webhooks/new", {**FORM, "url": "http://hooks.example.com/slack"})
    assert response.status_code == 422 and "Use an https address" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Webhook)) == 0


def test_an_admin_edits_pauses_resumes_and_rotates(web, world):
    """Each button does what it says; a rotation shows the new secret once."""
    hook = make_hook()
    web.login(world.admin)
    changed = {"name": "CRM (new)", "url": "https://crm.example.com/v2", "events": ["goal.agreed", "weekly_update.sent"]}
    response = web.post(f"/admin/webhooks/{hook.id}/edit", changed)
    assert response.status_code == 302
    hook = only_hook()
    assert (hook.name, hook.url, hook.events) == ("CRM (new)", "https://crm.example.com/v2", ["goal.agreed", "weekly_update.sent"])
    assert hook.secret == "whsec_test"

    web.post(f"/admin/webhooks/{hook.id}/pause")
    assert not only_hook().active
    assert "Paused" in web.text(f"/admin/webhooks/{hook.id}")
    web.post(f"/admin/webhooks/{hook.id}/resume")
    assert only_hook().active

    response = web.post(f"/admin/webhooks/{hook.id}/rotate")
    assert response.status_code == 200
    hook = only_hook()
    assert hook.secret != "whsec_test" and hook.secret in response.get_data(as_text=True)
    assert hook.secret_rotated_at is not None


def test_deleting_a_webhook_asks_first_and_removes_its_deliveries(web, world):
    """The delete button asks for confirmation; deleting takes the hook and its history."""
    hook = make_hook()
    make_delivery(hook, 1)
    web.login(world.admin)
    page = web.text(f"/admin/webhooks/{hook.id}")
    assert re.search(rf'action="/admin/webhooks/{hook.id}/delete"[^>]*data-confirm="[^"]+"', page)
    response = web.post(f"/admin/webhooks/{hook.id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/webhooks/")
    assert db.session.scalar(select(func.count()).select_from(Webhook)) == 0
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_the_hook_page_shows_each_delivery_and_offers_to_send_failed_ones_again(web, world):
    """Status, attempts, last error and response code are shown; only a failed delivery has "Send again"."""
    hook = make_hook()
    delivered = make_delivery(hook, 1, status=DeliveryStatus.DELIVERED, attempts=1, response_code=204)
    waiting = make_delivery(
        hook, 2, status=DeliveryStatus.QUEUED, attempts=2, response_code=502, last_error="HTTP 502: bad gateway", next_attempt_at=utcnow() + timedelta(hours=1)
    )
    dead = make_delivery(hook, 3, status=DeliveryStatus.DEAD, attempts=9, last_error="TimeoutError: no answer within 10 seconds")
    web.login(world.admin)
    page = web.text(f"/admin/webhooks/{hook.id}")
    for text in ("Delivered", "Queued", "Failed", "HTTP 502: bad gateway", "TimeoutError: no answer within 10 seconds", "204", "502", delivered.delivery_id):
        assert text in page, text
    assert "Next try" in page
    retry_forms = re.findall(r'action="/admin/webhooks/deliveries/(\d+)/retry"', page)
    assert retry_forms == [str(dead.id)]

    response = web.post(f"/admin/webhooks/deliveries/{dead.id}/retry")
    assert response.status_code == 302
    db.session.expire_all()
    again = db.session.get(WebhookDelivery, dead.id)
    assert again.status is DeliveryStatus.QUEUED and again.attempts == 0 and again.delivery_id == dead.delivery_id

    refused = web.post(f"/admin/webhooks/deliveries/{waiting.id}/retry")
    assert refused.status_code == 409 and "nothing to send again" in refused.get_data(as_text=True)


def test_the_list_counts_deliveries_per_hook(web, world):
    """The list shows how each hook's deliveries stand."""
    hook = make_hook()
    make_delivery(hook, 1, status=DeliveryStatus.DELIVERED)
    make_delivery(hook, 2, status=DeliveryStatus.DEAD)
    web.login(world.admin)
    page = web.text("/admin/webhooks/")
    assert "1 delivered" in page and "1 failed" in page


def test_only_admins_see_the_webhooks_link(make_web, world):
    """The navigation links the webhooks for admins; managers have no link to them."""
    admin = make_web()
    admin.login(world.admin)
    assert links(admin.text("/"))["Webhooks"] == "/admin/webhooks/"
    manager = make_web()
    manager.login(world.manager)
    assert "Webhooks" not in links(manager.text("/"))


@pytest.mark.parametrize("url", ["/admin/webhooks/", "/admin/webhooks/{hook}"])
def test_pages_run_the_same_queries_for_5_and_50_deliveries(web, world, count_queries, url):
    """Neither page's queries grow with the number of hooks or deliveries."""
    hook = make_hook()
    web.login(world.admin)

    def measure() -> int:
        with count_queries() as q:
            web.text(url.format(hook=hook.id))
        return q.count

    for n in range(5):
        make_delivery(hook, n)
        make_hook(name=f"Hook {n}")
    few = measure()
    for n in range(5, 50):
        make_delivery(hook, n, status=DeliveryStatus.DEAD)
        make_hook(name=f"Hook {n}")
    assert measure() == few
