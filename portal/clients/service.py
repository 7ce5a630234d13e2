"""Operations on client organisations."""

from __future__ import annotations

from typing import Any

from portal import activity
from portal.extensions import db
from portal.models import Client, PreferredChannel, User
from portal.timeutil import utcnow

PROFILE_FIELDS = ("name", "decision_makers", "preferred_channel", "language", "timezone", "sensitivities", "internal_notes")


def _apply(client: Client, values: dict[str, Any]) -> list[str]:
    changed = []
    for field in PROFILE_FIELDS:
        if field not in values:
            continue
        value = values[field]
        if field == "preferred_channel":
            value = PreferredChannel(value)
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


def update_client(actor: User, client: Client, values: dict[str, Any]) -> None:
    """Change a client's profile; the caller commits."""
    changed = _apply(client, values)
    if changed:
        activity.record(actor, "client.updated", client, client=client, data={"fields": changed}, internal=True)


def set_archived(actor: User, client: Client, archived: bool) -> None:
    """Archive or restore a client organisation; the caller commits."""
    from portal.auth.service import end_all_sessions

    client.archived_at = utcnow() if archived else None
    if archived:
        # The relationship has ended: the organisation's people are logged out and kept out.
        for user in client.users:
            end_all_sessions(user)
    activity.record(actor, "client.archived" if archived else "client.restored", client, client=client, internal=True)
