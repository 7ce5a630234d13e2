"""Operations on client organisations."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import activity
from portal.errors import DomainError
from portal.extensions import db
from portal.models import Client, ClientDecisionMaker, PreferredChannel, Role, User
from portal.timeutil import utcnow

PROFILE_FIELDS = ("name", "decision_makers", "preferred_channel", "language", "timezone", "sensitivities", "internal_notes", "sign_in_links")


def _apply(client: Client, values: dict[str, Any]) -> list[str]:
    changed = []
    for field in PROFILE_FIELDS:
        if field not in values:
            continue
        value = values[field]
        if field == "preferred_channel":
            value = PreferredChannel(value)
        elif field == "sign_in_links":
            value = bool(value)
        elif isinstance(value, str):
            value = value.strip()
        if getattr(client, field) != value:
            setattr(client, field, value)
            changed.append(field)
    return changed


def create_client(actor: User, values: dict[str, Any]) -> Client:
    """Create a client organisation with its profile; the caller commits."""
    client = Client()
    _apply(client, values)
    db.session.add(client)
    db.session.flush()
    activity.record(actor, "client.created", client, client=client, internal=True)
    return client


def update_client(actor: User, client: Client, values: dict[str, Any], decision_maker_ids: Collection[int] | None = None) -> None:
    """Change a client's profile (and, when given, which of its people decide); the caller commits."""
    changed = _apply(client, values)
    if decision_maker_ids is not None and set_decision_makers(client, decision_maker_ids):
        changed.append("decision_maker_ids")
    if changed:
        activity.record(actor, "client.updated", client, client=client, data={"fields": changed}, internal=True)


def set_decision_makers(client: Client, user_ids: Collection[int]) -> bool:
    """Link exactly ``user_ids`` to ``client`` as its decision makers; return whether anything changed.

    Only the client's own active people can be linked: anyone else (another organisation's
    user, staff, a deactivated account, an unknown id) refuses the whole change. Links of
    people not chosen are removed. The caller records the activity and commits.
    """
    wanted = set(user_ids)
    own = select(User.id).where(User.id.in_(wanted), User.client_id == client.id, User.role == Role.CLIENT, User.active.is_(True))
    allowed = set(db.session.scalars(own)) if wanted else set()
    if wanted - allowed:
        raise DomainError(_l("Choose decision makers among this client's own people."), field="decision_maker_ids")
    links = db.session.scalars(select(ClientDecisionMaker).where(ClientDecisionMaker.client_id == client.id)).all()
    linked = {link.user_id for link in links}
    for link in links:
        if link.user_id not in wanted:
            db.session.delete(link)
    for user_id in sorted(wanted - linked):
        db.session.add(ClientDecisionMaker(client_id=client.id, user_id=user_id))
    db.session.flush()
    return wanted != linked


def set_archived(actor: User, client: Client, archived: bool) -> None:
    """Archive or restore a client organisation; the caller commits."""
    from portal.auth.service import end_all_sessions

    client.archived_at = utcnow() if archived else None
    if archived:
        # The relationship has ended: the organisation's people are logged out and kept out.
        for user in client.users:
            end_all_sessions(user)
    activity.record(actor, "client.archived" if archived else "client.restored", client, client=client, internal=True)
