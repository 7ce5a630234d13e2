"""Write to the append-only activity log, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from portal.extensions import db
from portal.models import ActivityEvent, Client, Project, User


def record(
    actor: User | None,
    verb: str,
    obj: Any,
    *,
    project: Project | None = None,
    client: Client | None = None,
    data: dict[str, Any] | None = None,
    internal: bool = False,
) -> ActivityEvent:
    """Add an activity event for ``actor`` doing ``verb`` to ``obj``; the caller commits."""
    if getattr(obj, "id", 0) is None:
        db.session.flush()  # the event names the object by id
    if project is not None and client is None:
        client = project.client
    event = ActivityEvent(
        actor=actor,
        verb=verb,
        object_type=type(obj).__name__.lower(),
        object_id=getattr(obj, "id", None),
        project_id=project.id if project is not None else None,
        client_id=client.id if client is not None else None,
        data=data or {},
        internal=internal,
    )
    db.session.add(event)
    return event
