"""Helpers of the API tests: tokens made directly, and a client that sends them."""

from __future__ import annotations

from typing import Any

from portal.api import tokens
from portal.extensions import db
from portal.models import ApiToken, TokenScope, User

API = "/api/v1"


def make_token(user: User, scope: TokenScope = TokenScope.READ, name: str = "") -> str:
    """Return the secret of a new working token of ``user`` (any scope: the page's staff-only rule is tested on its own)."""
    raw = tokens.PREFIX + f"test-{user.id}-{scope.value}-{db.session.query(ApiToken).count()}-" + "x" * 20
    db.session.add(ApiToken(user_id=user.id, name=name, scope=scope, token_hash=tokens.digest(raw)))
    db.session.commit()
    return raw


def call(web: Any, method: str, path: str, token: str | None = None, json: Any = None, **kwargs: Any):
    """Send an API request (``path`` below /api/v1) with ``token`` as a Bearer token."""
    headers = kwargs.pop("headers", {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if json is not None:
        kwargs["json"] = json
    return web.request(method, f"{API}{path}", headers=headers, **kwargs)


def make_incident(world: Any, *, shared: bool = True) -> int:
    """Return the id of an incident on the world's project with one step, written directly (no activity event)."""
    from datetime import timedelta

    from portal.models.expectations import Visibility
    from portal.models.incidents import Incident, RecoveryStep
    from portal.timeutil import project_today, utcnow

    incident = Incident(
        project=world.project, opened_by=world.manager, title="The shop was down", detected_at=utcnow() - timedelta(hours=3),
        impact="Lost orders", visibility=Visibility.SHARED if shared else Visibility.INTERNAL,
    )
    db.session.add_all([incident, RecoveryStep(incident=incident, title="Move the host", due_on=project_today(world.project), owner=world.manager)])
    db.session.commit()
    return incident.id
