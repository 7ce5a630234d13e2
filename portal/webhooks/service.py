"""Registering webhooks: create, change, pause, rotate the secret, delete; the caller commits."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete

from portal import activity
from portal.errors import DomainError, NotAllowed
from portal.extensions import db
from portal.models import User, Webhook, WebhookDelivery
from portal.timeutil import utcnow
from portal.webhooks.events import EVENTS
from portal.webhooks.transport import is_forbidden_address

NAME_LIMIT = 120
URL_LIMIT = 2000
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix that names what the value is, not a secret
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def new_secret() -> str:
    """Return a fresh signing secret (256 random bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise NotAllowed(_l("Only an admin can manage webhooks."))


def check_url(url: str) -> str:
    """Return ``url`` cleaned, or refuse it: https (http only in development, the tests, or to this machine), no credentials.

    Whether the name resolves to a private address is checked at each delivery
    (:func:`portal.webhooks.transport.resolve`); here only an address written as a private IP is refused.
    """
    url = (url or "").strip()
    if not url:
        raise DomainError(_l("Enter the address that receives the events."), field="url")
    if len(url) > URL_LIMIT:
        raise DomainError(_l("This address is too long: at most %(num)d characters.", num=URL_LIMIT), field="url")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - reading it validates it
    except ValueError:
        raise DomainError(_l("Enter a full address, such as https://example.com/hooks/rapport."), field="url") from None
    if parts.scheme not in ("http", "https") or not host:
        raise DomainError(_l("Enter a full address, such as https://example.com/hooks/rapport."), field="url")
    if parts.username or parts.password:
        raise DomainError(_l("Leave the user name and password out of the address; the signature proves who is calling."), field="url")
    relaxed = current_app.config.get("ENV") in ("development", "testing")
    if parts.scheme == "http" and not relaxed and host not in _LOCAL_HOSTS:
        raise DomainError(_l("Use an https address: events must not travel unencrypted."), field="url")
    if not relaxed and _is_private_ip(host):
        raise DomainError(_l("This address is on a private network; webhooks only go to public addresses."), field="url")
    return url


def _is_private_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return is_forbidden_address(host)


def _clean(name: str, url: str, events: Sequence[str]) -> tuple[str, str, list[str]]:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_l("Give the webhook a name, such as the system it feeds."), field="name")
    if len(name) > NAME_LIMIT:
        raise DomainError(_l("This is too long: at most %(num)d characters.", num=NAME_LIMIT), field="name")
    url = check_url(url)
    chosen = [kind for kind in EVENTS if kind in set(events or [])]
    if not chosen:
        raise DomainError(_l("Choose at least one event to send."), field="events")
    return name, url, chosen


def create_hook(actor: User, *, name: str, url: str, events: Sequence[str]) -> Webhook:
    """Register a webhook with a new secret (shown to the admin once, right after); the caller commits."""
    _require_admin(actor)
    name, url, chosen = _clean(name, url, events)
    hook = Webhook(name=name, url=url, events=chosen, secret=new_secret(), active=True, created_by=actor)
    db.session.add(hook)
    db.session.flush()
    activity.record(actor, "webhook.created", hook, data={"name": name, "events": chosen}, internal=True)
    return hook


def update_hook(actor: User, hook: Webhook, *, name: str, url: str, events: Sequence[str]) -> Webhook:
    """Change a webhook's name, address and events (the secret stays); the caller commits."""
    _require_admin(actor)
    name, url, chosen = _clean(name, url, events)
    changed = sorted(field for field, value in (("name", name), ("url", url), ("events", chosen)) if getattr(hook, field) != value)
    if changed:
        hook.name, hook.url, hook.events = name, url, chosen
        hook.updated_at = utcnow()
        activity.record(actor, "webhook.updated", hook, data={"fields": changed}, internal=True)
    return hook


def set_active(actor: User, hook: Webhook, active: bool) -> Webhook:
    """Pause a webhook (nothing new is queued; what is queued waits) or resume it; the caller commits."""
    _require_admin(actor)
    if hook.active != active:
        hook.active = active
        hook.updated_at = utcnow()
        activity.record(actor, "webhook.resumed" if active else "webhook.paused", hook, data={"name": hook.name}, internal=True)
    return hook


def rotate_secret(actor: User, hook: Webhook) -> str:
    """Give the webhook a new secret and return it (shown once); deliveries from now on are signed with it."""
    _require_admin(actor)
    hook.secret = new_secret()
    hook.secret_rotated_at = hook.updated_at = utcnow()
    activity.record(actor, "webhook.secret_rotated", hook, data={"name": hook.name}, internal=True)
    return hook.secret


def delete_hook(actor: User, hook: Webhook) -> None:
    """Delete a webhook and its deliveries, sent or not; the caller commits."""
    _require_admin(actor)
    activity.record(actor, "webhook.deleted", hook, data={"name": hook.name}, internal=True)  # not the URL: some carry a token
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id))
    db.session.delete(hook)
