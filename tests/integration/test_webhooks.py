"""Webhooks: an action queues signed deliveries in its own transaction; the scheduler's sender delivers them.

The receiver is a real HTTP server on a free local port, run in a thread. It checks every
request's signature with the hook's secret, as the README tells integrators to, and
answers with the statuses a test gives it (or hangs, for the timeout).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from portal.assets import service as assets_service
from portal.extensions import db
from portal.models import AckChoice, DecisionOutcome, DeliveryStatus, Role, Update, UpdateKind, UpdateStatus, Webhook, WebhookDelivery
from portal.timeutil import utcnow
from portal.updates import service as updates_service
from portal.updates.dispatch import dispatch_weekly
from portal.webhooks import service
from portal.webhooks.sender import send_due
from portal.webhooks.transport import is_forbidden_address
from tests.integration.asset_helpers import PDF, store_file
from tests.integration.deliverables_support import make_deliverable, submit
from tests.integration.goals_support import propose


@dataclass
class Received:
    """One request the receiver got."""

    headers: dict[str, str]
    body: str
    signed: bool

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local HTTP endpoint that verifies signatures and records what it got."""

    url: str
    secret: str = ""
    answers: list[int] = field(default_factory=list)  # statuses to answer with, in order; then 200
    hang: bool = False
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def verify(self, headers: dict[str, str], body: str) -> bool:
        """Check the signature as an integrator would (README, "Verifying a delivery")."""
        expected = hmac.new(self.secret.encode(), f"{headers['X-Rapport-Timestamp']}.{body}".encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(f"sha256={expected}", headers.get("X-Rapport-Signature", ""))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """Run a receiving server on a free port of this machine for the test."""
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            me = state["receiver"]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            headers = dict(self.headers.items())
            me.received.append(Received(headers, body, me.verify(headers, body)))
            if me.hang:
                me.release.wait(10)
                return
            status = me.answers.pop(0) if me.answers else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"server trouble")

        def log_message(self, *args: Any) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/rapport")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["receiver"]
    state["receiver"].release.set()
    server.shutdown()
    server.server_close()


def hook_for(receiver: Receiver, admin, *events: str, name: str = "Agency CRM") -> Webhook:
    """Register a webhook for ``events`` at the receiver (the receiver learns its secret) and commit."""
    hook = service.create_hook(admin, name=name, url=receiver.url, events=list(events))
    db.session.commit()
    receiver.secret = hook.secret
    return hook


def deliveries(hook: Webhook | None = None) -> list[WebhookDelivery]:
    """Return the deliveries (of one hook), oldest first."""
    query = select(WebhookDelivery).order_by(WebhookDelivery.id)
    if hook is not None:
        query = query.where(WebhookDelivery.webhook_id == hook.id)
    db.session.expire_all()
    return list(db.session.scalars(query))


def approve(world, deliverable):
    """Submit a version and let the project's approver approve it (the caller commits nothing: this does)."""
    from portal.deliverables import service as deliverables_service

    version = submit(world.manager, deliverable)
    deliverables_service.decide(world.own_client, version, outcome=DecisionOutcome.APPROVE)
    db.session.commit()
    return version


def make_due_now(delivery: WebhookDelivery) -> None:
    """Let the wait before a retry pass (instead of waiting for it)."""
    delivery.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


# --- Queued with the action, sent by the scheduler ---------------------------------------------


def test_an_approved_version_reaches_the_receiver_signed(world, receiver):
    """Approving a version queues one delivery in the same transaction; the sender posts it, signed, with the event's data."""
    hook = hook_for(receiver, world.admin, "version.approved")
    deliverable = make_deliverable(world.manager, world.project, title="Homepage design")
    approve(world, deliverable)

    [queued] = deliveries(hook)
    assert queued.status is DeliveryStatus.QUEUED and queued.event == "version.approved"
    assert receiver.received == []  # nothing is sent by the action itself

    report = send_due()
    assert report.delivered == 1
    [got] = receiver.received
    assert got.signed
    assert got.headers["X-Rapport-Event"] == "version.approved"
    assert got.headers["X-Rapport-Delivery"] == queued.delivery_id
    assert got.headers["Content-Type"] == "application/json"
    event = got.event
    assert event["type"] == "version.approved" and event["id"] == queued.event_id and event["occurred_at"].endswith("Z")
    assert event["data"]["deliverable"]["title"] == "Homepage design"
    assert event["data"]["deliverable"]["url"] == f"http://portal.test/deliverables/{deliverable.id}"
    assert event["data"]["version"]["number"] == 1
    assert event["data"]["project"]["name"] == "E-commerce relaunch"
    assert event["data"]["project"]["client"]["name"] == "Anadolu Kahve"
    assert event["data"]["actor"] == {"id": world.own_client.id, "name": world.own_client.display_name, "side": "client"}
    assert world.own_client.email not in got.body and hook.secret not in got.body

    [sent] = deliveries(hook)
    assert sent.status is DeliveryStatus.DELIVERED and sent.response_code == 200 and sent.attempts == 1 and sent.last_error == ""
    assert send_due().delivered == 0  # delivered once, not again


def test_a_delivery_is_rolled_back_with_its_action(world, receiver):
    """An action that does not commit leaves no delivery behind."""
    from portal.deliverables import service as deliverables_service

    hook_for(receiver, world.admin, "version.approved")
    version = submit(world.manager, make_deliverable(world.manager, world.project))
    deliverables_service.decide(world.own_client, version, outcome=DecisionOutcome.APPROVE)
    db.session.flush()
    db.session.rollback()
    assert deliveries() == []


def test_only_subscribed_active_hooks_get_an_event(world, receiver, make_user):
    """A hook gets the events it chose, while it is active; a change request is its own event."""
    from portal.deliverables import service as deliverables_service

    approvals = hook_for(receiver, world.admin, "version.approved", name="Approvals")
    changes = hook_for(receiver, world.admin, "version.changes_requested", name="Changes")
    paused = hook_for(receiver, world.admin, "version.approved", "version.changes_requested", name="Paused")
    service.set_active(world.admin, paused, False)
    db.session.commit()

    version = submit(world.manager, make_deliverable(world.manager, world.project))
    deliverables_service.decide(world.own_client, version, outcome=DecisionOutcome.CHANGES_REQUESTED, reason_category="quality", text="The photo is blurry")
    db.session.commit()

    assert deliveries(approvals) == [] and deliveries(paused) == []
    [change] = deliveries(changes)
    body = json.loads(change.body)
    assert body["type"] == "version.changes_requested"
    assert body["data"]["decision"]["reason_category"] == "quality" and body["data"]["decision"]["text"] == "The photo is blurry"


def test_an_approval_still_waiting_for_other_approvers_is_not_an_approved_version(world, receiver, make_user):
    """Under the "all approvers" rule, the first approval does not send "version approved"; the last one does."""
    from portal.deliverables import service as deliverables_service
    from portal.models import ApprovalRule, ProjectMember

    second = make_user(Role.CLIENT, world.own_org, name="Second Approver")
    db.session.add(ProjectMember(project=world.project, user=second, is_approver=True))
    world.project.approval_rule = ApprovalRule.ALL
    db.session.commit()
    hook = hook_for(receiver, world.admin, "version.approved")
    version = submit(world.manager, make_deliverable(world.manager, world.project))
    deliverables_service.decide(world.own_client, version, outcome=DecisionOutcome.APPROVE)
    db.session.commit()
    assert deliveries(hook) == []
    deliverables_service.decide(second, version, outcome=DecisionOutcome.APPROVE)
    db.session.commit()
    assert [d.event for d in deliveries(hook)] == ["version.approved"]


def test_goal_agreed_asset_submitted_and_concern_raised(world, receiver):
    """A goal both sides signed, a client's upload for a request and an update answered with a concern each send their event."""
    from portal.goals import service as goals_service

    hook = hook_for(receiver, world.admin, "goal.agreed", "asset_request.submitted", "concern.raised")

    goal = propose(world.manager, world.project, title="Double the newsletter sign-ups")
    assert deliveries(hook) == []  # proposed is not agreed
    goals_service.sign_revision(world.own_client, goal, seen=goal.current_number)
    db.session.commit()

    asset_request = assets_service.create_request(world.manager, world.project, title="Logo as a vector file", kinds=["documents"])
    db.session.commit()
    store_file(world.manager, world.project, None, PDF, "staff-notes.pdf")  # staff files are not a submission
    db.session.commit()
    store_file(world.own_client, world.project, asset_request, PDF, "logo.pdf")
    db.session.commit()

    update = updates_service.save_update(world.manager, world.project, {"title": "Sprint 3", "body": "Done: checkout."}, publish=True)
    db.session.commit()
    updates_service.acknowledge(world.own_client, update, AckChoice.ACCURATE, "")
    db.session.commit()
    updates_service.acknowledge(world.own_client, update, AckChoice.CONCERN, "The launch date is not what we agreed")
    db.session.commit()

    bodies = {d.event: json.loads(d.body) for d in deliveries(hook)}
    assert sorted(bodies) == ["asset_request.submitted", "concern.raised", "goal.agreed"]
    assert bodies["goal.agreed"]["data"]["goal"]["title"] == "Double the newsletter sign-ups"
    assert bodies["asset_request.submitted"]["data"]["asset_request"]["title"] == "Logo as a vector file"
    assert bodies["asset_request.submitted"]["data"]["asset_request"]["files"] == ["logo.pdf"]
    assert bodies["concern.raised"]["data"]["acknowledgement"] == {"choice": "concern", "comment": "The launch date is not what we agreed"}
    assert bodies["concern.raised"]["data"]["update"]["title"] == "Sprint 3"

    assert send_due().delivered == 3
    assert [r.signed for r in receiver.received] == [True, True, True]


def test_the_weekly_update_sent_by_the_scheduler_is_an_event(world, receiver):
    """The weekly dispatch writes its activity in one bulk insert; its deliveries are queued all the same."""
    hook = hook_for(receiver, world.admin, "weekly_update.sent")
    world.project.created_at = utcnow() - timedelta(days=30)
    db.session.commit()
    report = dispatch_weekly(utcnow(), project_id=world.project.id, force=True)
    assert report.sent == 1
    [delivery] = deliveries(hook)
    body = json.loads(delivery.body)
    assert body["type"] == "weekly_update.sent"
    update = db.session.get(Update, body["data"]["update"]["id"])
    assert update.kind is UpdateKind.WEEKLY and update.status is UpdateStatus.PUBLISHED
    assert body["data"]["update"]["week"] == update.week_label
    assert body["data"]["project"]["id"] == world.project.id and body["data"]["actor"] is None
    assert send_due().delivered == 1 and receiver.received[0].signed


# --- Failures: retried with backoff, then dead; sent again by an admin ---------------------------


def test_a_failing_receiver_is_retried_until_it_answers(world, receiver):
    """A 500 is recorded and retried later with the same delivery id; the 200 after it ends the retries."""
    hook = hook_for(receiver, world.admin, "version.approved")
    receiver.answers = [500]
    approve(world, make_deliverable(world.manager, world.project))

    report = send_due()
    assert (report.delivered, report.failed) == (0, 1)
    [failed] = deliveries(hook)
    assert failed.status is DeliveryStatus.QUEUED and failed.attempts == 1
    assert failed.response_code == 500 and failed.last_error.startswith("HTTP 500")
    assert failed.next_attempt_at > utcnow()
    assert send_due().delivered == 0 and len(receiver.received) == 1  # not before its wait

    make_due_now(failed)
    assert send_due().delivered == 1
    first, second = receiver.received
    assert first.headers["X-Rapport-Delivery"] == second.headers["X-Rapport-Delivery"] and first.signed and second.signed
    [done] = deliveries(hook)
    assert done.status is DeliveryStatus.DELIVERED and done.attempts == 2 and done.response_code == 200 and done.last_error == ""


def test_each_retry_waits_longer_up_to_the_cap(world, receiver, app):
    """The waits double after each failure and never pass ``WEBHOOK_RETRY_MAX_SECONDS``."""
    app.config.update(WEBHOOK_RETRY_BASE_SECONDS=30, WEBHOOK_RETRY_MAX_SECONDS=100)
    hook_for(receiver, world.admin, "version.approved")
    receiver.answers = [500, 500, 500, 500]
    approve(world, make_deliverable(world.manager, world.project))
    waits = []
    for _ in range(4):
        send_due()
        [delivery] = deliveries()
        waits.append(round((delivery.next_attempt_at - delivery.attempted_at).total_seconds()))
        make_due_now(delivery)
    assert waits == [30, 60, 100, 100]


def test_a_receiver_that_hangs_is_given_up_on_within_the_timeout_and_retried(world, receiver, app):
    """No answer within ``WEBHOOK_TIMEOUT_SECONDS``: the attempt fails as a timeout and the delivery waits for its retry."""
    app.config["WEBHOOK_TIMEOUT_SECONDS"] = 0.5
    hook = hook_for(receiver, world.admin, "version.approved")
    receiver.hang = True
    approve(world, make_deliverable(world.manager, world.project))

    report = send_due()
    assert report.failed == 1
    [delivery] = deliveries(hook)
    assert delivery.status is DeliveryStatus.QUEUED and "TimeoutError" in delivery.last_error and delivery.response_code is None

    receiver.hang = False
    receiver.release.set()
    make_due_now(delivery)
    assert send_due().delivered == 1
    assert deliveries(hook)[0].status is DeliveryStatus.DELIVERED


def test_a_delivery_is_dead_once_its_retry_window_is_over_and_can_be_sent_again(world, receiver):
    """After the window the delivery is failed for good; "send again" queues it with a new window, and it goes."""
    hook = hook_for(receiver, world.admin, "version.approved")
    receiver.answers = [503]
    approve(world, make_deliverable(world.manager, world.project))
    [delivery] = deliveries(hook)
    delivery.queued_at = utcnow() - timedelta(hours=25)
    db.session.commit()

    assert send_due().dead == 1
    [dead] = deliveries(hook)
    assert dead.status is DeliveryStatus.DEAD and dead.response_code == 503

    from portal.webhooks.sender import requeue

    requeue(dead)
    db.session.commit()
    assert send_due().delivered == 1
    assert [r.headers["X-Rapport-Delivery"] for r in receiver.received] == [dead.delivery_id] * 2


def test_an_unreachable_receiver_is_an_error_to_retry(world, receiver):
    """Nobody listening (connection refused) is recorded as the error and retried."""
    hook = hook_for(receiver, world.admin, "version.approved")
    hook.url = "http://127.0.0.1:9/nobody"  # the discard port: nothing listens there
    db.session.commit()
    approve(world, make_deliverable(world.manager, world.project))
    assert send_due().failed == 1
    [delivery] = deliveries(hook)
    assert delivery.status is DeliveryStatus.QUEUED and delivery.last_error and delivery.response_code is None


def test_a_paused_hook_keeps_its_queued_deliveries_until_it_is_resumed(world, receiver):
    """Pausing holds what was queued; resuming sends it."""
    hook = hook_for(receiver, world.admin, "version.approved")
    approve(world, make_deliverable(world.manager, world.project))
    service.set_active(world.admin, hook, False)
    db.session.commit()
    assert send_due().delivered == 0 and receiver.received == []
    service.set_active(world.admin, hook, True)
    db.session.commit()
    assert send_due().delivered == 1


def test_a_rotated_secret_signs_the_next_attempts(world, receiver):
    """After "rotate secret", deliveries are signed with the new secret only."""
    hook = hook_for(receiver, world.admin, "version.approved")
    old = hook.secret
    approve(world, make_deliverable(world.manager, world.project))
    new = service.rotate_secret(world.admin, hook)
    db.session.commit()
    assert new != old and new.startswith("whsec_")
    receiver.secret = new
    assert send_due().delivered == 1 and receiver.received[0].signed


# --- The SSRF guard ------------------------------------------------------------------------------


def test_production_refuses_to_deliver_to_a_private_address(world, receiver, app):
    """In production a hook whose address resolves to this machine or a private network is never called."""
    hook = hook_for(receiver, world.admin, "version.approved")
    approve(world, make_deliverable(world.manager, world.project))
    app.config["ENV"] = "production"

    assert send_due().dead == 1
    assert receiver.received == []
    [delivery] = deliveries(hook)
    assert delivery.status is DeliveryStatus.DEAD and "private or local address" in delivery.last_error and "127.0.0.1" in delivery.last_error


def test_production_also_refuses_a_name_that_resolves_to_this_machine(world, receiver, app):
    """``localhost`` is refused through what it resolves to, not by its name."""
    hook = hook_for(receiver, world.admin, "version.approved")
    hook.url = receiver.url.replace("127.0.0.1", "localhost")
    db.session.commit()
    approve(world, make_deliverable(world.manager, world.project))
    app.config["ENV"] = "production"
    assert send_due().dead == 1 and receiver.received == []


@pytest.mark.parametrize(
    ("address", "forbidden"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.9", True),
        ("192.168.1.20", True),
        ("169.254.169.254", True),  # the cloud metadata service
        ("::1", True),
        ("fe80::1%eth0", True),
        ("::ffff:10.0.0.1", True),
        ("0.0.0.0", True),  # noqa: S104 - an address under test, nothing binds to it
        ("93.184.216.34", False),
        ("2606:2800:220:1:248:1893:25c8:1946", False),
    ],
)
def test_which_addresses_the_guard_refuses(address, forbidden):
    """Private, loopback, link-local (and unspecified or mapped) addresses are refused; public ones are not."""
    assert is_forbidden_address(address) is forbidden


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/rapport", "Use an https address"),
        ("https://10.0.0.5/rapport", "private network"),
        ("https://user:pass@hooks.example.com/", "Leave the user name and password out"),
        ("ftp://hooks.example.com/", "Enter a full address"),
        ("hooks.example.com", "Enter a full address"),
    ],
)
def test_production_refuses_addresses_it_cannot_use(app, url, message):
    """In production an address must be https, public and without credentials."""
    from portal.errors import DomainError

    app.config["ENV"] = "production"
    with pytest.raises(DomainError) as refused:
        service.check_url(url)
    assert message in str(refused.value.message) and refused.value.field == "url"


def test_production_accepts_https_and_http_to_this_machine(app):
    """An https address is fine; plain http only to this machine (where the delivery guard still applies)."""
    app.config["ENV"] = "production"
    assert service.check_url(" https://hooks.example.com/rapport ") == "https://hooks.example.com/rapport"
    assert service.check_url("http://localhost:8080/hook") == "http://localhost:8080/hook"


def test_development_allows_plain_http(app):
    """In development and the tests, a receiver on the local network may use http."""
    app.config["ENV"] = "development"
    assert service.check_url("http://192.168.1.20:8080/hook") == "http://192.168.1.20:8080/hook"


def test_a_hook_deleted_while_its_delivery_is_being_sent_stops_nothing_else(world, receiver):
    """An admin deleting the hook during a send: that outcome is dropped with the hook, and the run goes on."""
    from sqlalchemy import delete

    gone = hook_for(receiver, world.admin, "version.approved", name="Gone")
    kept = hook_for(receiver, world.admin, "version.approved", name="Kept")
    approve(world, make_deliverable(world.manager, world.project))

    def post_then_delete(url, body, headers, **options):
        if not receiver.received:  # the first delivery: the hook "Gone"'s
            with db.engine.begin() as other_request:  # another connection: the admin's request
                other_request.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == gone.id))
                other_request.execute(delete(Webhook).where(Webhook.id == gone.id))
        from portal.webhooks.transport import post

        return post(url, body, headers, **options)

    send_due(post=post_then_delete)
    assert [d.webhook_id for d in deliveries()] == [kept.id]
    assert deliveries()[0].status is DeliveryStatus.DELIVERED
