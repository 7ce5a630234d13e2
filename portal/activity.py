"""The append-only activity log: writing to it inside the caller's transaction, and the words of its events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert

from portal.extensions import db
from portal.models import ActivityEvent, Client, Project, User
from portal.registry import Registry


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


def record_many(events: Sequence[Mapping[str, Any]]) -> None:
    """Add many events in one INSERT, inside the caller's transaction; the caller commits.

    Each event gives ActivityEvent's columns: ``verb``, ``object_type``, ``object_id``,
    ``project_id``, ``client_id`` and, if not empty, ``actor_id``, ``data`` and ``internal``.
    For jobs that write one event per item of a batch (the weekly dispatch).
    """
    if events:
        db.session.execute(insert(ActivityEvent), [{"actor_id": None, "data": {}, "internal": False, **event} for event in events])


# --- Words for the timeline ---------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineKind:
    """A filter of the project timeline and the words of the events it covers.

    ``prefixes`` select the kind's events by verb ("goal." covers "goal.signed"); ``verbs``
    give each event its words ("signed a goal"), lazily translated.
    """

    label: Any
    prefixes: tuple[str, ...]
    verbs: Mapping[str, Any]


# Each feature adds the kind of its own events in its init_app (portal/registry.py).
timeline_kinds: Registry[TimelineKind] = Registry("timeline_kinds")


def verb_labels() -> dict[str, Any]:
    """Return the words of every event the current app's features record, by verb."""
    return {verb: label for kind in timeline_kinds.values() for verb, label in kind.verbs.items()}
