"""The events webhooks can receive, read off the activity log as it is written.

No feature calls the webhooks: every action worth announcing already writes an activity
event in its own transaction. Two listeners watch those writes and queue one delivery
per subscribed hook in that same transaction, so the action and its deliveries commit
(or roll back) together:

- ``before_flush`` sees the events :func:`portal.activity.record` adds to the session;
- ``do_orm_execute`` sees the bulk INSERT of :func:`portal.activity.record_many` (the
  weekly dispatch), which bypasses the unit of work and so never reaches ``before_flush``.

Each event's body carries ids, titles, the project, the client and links into the
portal: nothing a client may not see on the page the link opens, nothing internal.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session

from portal.models import (
    ActivityEvent,
    AssetRequest,
    Deliverable,
    Goal,
    Project,
    Update,
    UpdateAcknowledgement,
    User,
    Webhook,
    WebhookDelivery,
)
from portal.timeutil import utcnow
from portal.urls import portal_url

# The event types a hook may subscribe to, in the order the form offers them.
EVENTS: dict[str, Any] = {
    "version.approved": _l("A deliverable version is approved"),
    "version.changes_requested": _l("Changes are requested on a deliverable version"),
    "goal.agreed": _l("A goal is agreed (both sides signed)"),
    "asset_request.submitted": _l("A client uploads files for an asset request"),
    "weekly_update.sent": _l("A weekly update is sent"),
    "concern.raised": _l("A client answers an update with a concern or “not accurate”"),
}

# Activity verbs that may become a webhook event (the classifier decides which do).
WATCHED_VERBS = frozenset(
    {
        "deliverable.approved",
        "deliverable.settled_by_rule",
        "deliverable.changes_requested",
        "goal.agreed",
        "asset.uploaded",
        "update.weekly_sent",
        "update.acknowledged",
    }
)

_CONCERNS = frozenset({"concern", "not_accurate"})


@dataclass
class Occurrence:
    """One activity event, whichever way it was written (an ORM object or a row of a bulk insert)."""

    verb: str
    object_id: int | None
    project_id: int | None
    actor_id: int | None
    data: Mapping[str, Any]
    occurred_at: datetime
    actor: User | None = None
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def event_type(occurrence: Occurrence, session: Session) -> str | None:
    """Return the webhook event ``occurrence`` is, or None when it is none (an approval still waiting for others…)."""
    verb, data = occurrence.verb, occurrence.data
    if verb == "deliverable.approved":
        return "version.approved" if data.get("settled") == "approved" else None
    if verb == "deliverable.settled_by_rule":
        return "version.approved"
    if verb == "deliverable.changes_requested":
        return "version.changes_requested"
    if verb == "goal.agreed":
        return "goal.agreed"
    if verb == "asset.uploaded":
        # Only a client's upload for a request: staff files and general files are not "submitted".
        actor = _actor(occurrence, session)
        return "asset_request.submitted" if data.get("request_id") and actor is not None and not actor.is_staff else None
    if verb == "update.weekly_sent":
        return "weekly_update.sent"
    if verb == "update.acknowledged":
        return "concern.raised" if data.get("choice") in _CONCERNS else None
    return None


def _actor(occurrence: Occurrence, session: Session) -> User | None:
    if occurrence.actor is None and occurrence.actor_id is not None:
        occurrence.actor = session.get(User, occurrence.actor_id)
    return occurrence.actor


def _person(user: User | None) -> dict[str, Any] | None:
    """Who acted, without their address: a name and a side."""
    if user is None:
        return None
    return {"id": user.id, "name": user.display_name, "side": "agency" if user.is_staff else "client"}


def _project(project: Project | None) -> dict[str, Any] | None:
    if project is None:
        return None
    return {
        "id": project.id,
        "name": project.name,
        "url": portal_url("projects.show", project_id=project.id),
        "client": {"id": project.client_id, "name": project.client.name},
    }


def _deliverable(occurrence: Occurrence, session: Session) -> dict[str, Any]:
    deliverable = session.get(Deliverable, occurrence.object_id)
    data = occurrence.data
    found: dict[str, Any] = {
        "deliverable": {
            "id": occurrence.object_id,
            "title": deliverable.title if deliverable else data.get("title", ""),
            "url": portal_url("deliverables.show", deliverable_id=occurrence.object_id),
        },
        "version": {"number": data.get("version")},
    }
    if occurrence.verb != "deliverable.settled_by_rule":
        found["decision"] = {"id": data.get("decision_id"), "reason_category": data.get("reason"), "text": data.get("text") or ""}
    return found


def _goal(occurrence: Occurrence, session: Session) -> dict[str, Any]:
    goal = session.get(Goal, occurrence.object_id)
    revision = goal.revision(occurrence.data.get("revision")) if goal is not None else None
    return {
        "goal": {
            "id": occurrence.object_id,
            "title": revision.title if revision else "",
            "revision": occurrence.data.get("revision"),
            "target_date": revision.target_date.isoformat() if revision else None,
            "url": portal_url("goals.show", goal_id=occurrence.object_id),
        }
    }


def _asset(occurrence: Occurrence, session: Session) -> dict[str, Any]:
    request_id = occurrence.data.get("request_id")
    asset_request = session.get(AssetRequest, request_id) if request_id else None
    return {
        "asset_request": {
            "id": request_id,
            "title": asset_request.title if asset_request else "",
            "version": occurrence.data.get("version"),
            "files": list(occurrence.data.get("files") or []),
            "url": portal_url("assets.show_request", request_id=request_id),
        }
    }


def _update(occurrence: Occurrence, session: Session) -> dict[str, Any]:
    update = session.get(Update, occurrence.object_id)
    found: dict[str, Any] = {
        "update": {
            "id": occurrence.object_id,
            "title": update.title if update else "",
            "kind": update.kind.value if update else None,
            "url": portal_url("updates.show", project_id=occurrence.project_id, update_id=occurrence.object_id),
        }
    }
    if occurrence.verb == "update.weekly_sent":
        found["update"]["week"] = occurrence.data.get("week")
        found["update"]["late"] = bool(occurrence.data.get("late"))
    else:
        ack = session.scalar(
            select(UpdateAcknowledgement).where(
                UpdateAcknowledgement.update_id == occurrence.object_id, UpdateAcknowledgement.user_id == occurrence.actor_id
            )
        )
        found["acknowledgement"] = {"choice": occurrence.data.get("choice"), "comment": ack.comment if ack else ""}
    return found


_DATA: dict[str, Callable[[Occurrence, Session], dict[str, Any]]] = {
    "version.approved": _deliverable,
    "version.changes_requested": _deliverable,
    "goal.agreed": _goal,
    "asset_request.submitted": _asset,
    "weekly_update.sent": _update,
    "concern.raised": _update,
}


def payload(kind: str, occurrence: Occurrence, session: Session) -> dict[str, Any]:
    """Return the JSON body of ``occurrence`` as webhook event ``kind``."""
    project = session.get(Project, occurrence.project_id) if occurrence.project_id is not None else None
    return {
        "id": occurrence.event_id,
        "type": kind,
        "occurred_at": occurrence.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": {"project": _project(project), "actor": _person(_actor(occurrence, session)), **_DATA[kind](occurrence, session)},
    }


def queue(session: Session, occurrences: Iterable[Occurrence]) -> list[WebhookDelivery]:
    """Queue a delivery of each occurrence to every active hook subscribed to its event; the caller's transaction commits them.

    One query for the hooks, whatever the number of events; bodies are built only for events
    some hook wants.
    """
    candidates = [o for o in occurrences if o.verb in WATCHED_VERBS]
    if not candidates:
        return []
    hooks = list(session.scalars(select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id)))
    if not hooks:
        return []
    queued = []
    for occurrence in candidates:
        kind = event_type(occurrence, session)
        targets = [hook for hook in hooks if kind in (hook.events or [])]
        if kind is None or not targets:
            continue
        body = json.dumps(payload(kind, occurrence, session), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        now = utcnow()
        for hook in targets:
            delivery = WebhookDelivery(
                webhook_id=hook.id, delivery_id=str(uuid.uuid4()), event_id=occurrence.event_id, event=kind, body=body, next_attempt_at=now, queued_at=now
            )
            session.add(delivery)
            queued.append(delivery)
    return queued


# --- Listening to the activity log --------------------------------------------------------------


def _from_flush(session: Session, flush_context: Any, instances: Any) -> None:
    """Queue the deliveries of the activity events about to be inserted by this flush."""
    added = [obj for obj in session.new if isinstance(obj, ActivityEvent) and obj.verb in WATCHED_VERBS]
    if not added:
        return
    now = utcnow()
    added.sort(key=lambda e: (e.object_id or 0, e.verb))  # session.new has no order: keep queueing deterministic
    queue(
        session,
        [
            Occurrence(
                verb=e.verb,
                object_id=e.object_id,
                project_id=e.project_id,
                actor_id=e.actor.id if e.actor is not None else e.actor_id,
                actor=e.actor,
                data=e.data or {},
                occurred_at=e.created_at or now,
            )
            for e in added
        ],
    )


def _from_bulk_insert(state: ORMExecuteState) -> None:
    """Queue the deliveries of activity events written by a bulk INSERT (``activity.record_many``)."""
    if not state.is_insert or state.bind_mapper is None or state.bind_mapper.class_ is not ActivityEvent:
        return
    parameters: Any = state.parameters
    rows: Sequence[Mapping[str, Any]] = parameters if isinstance(parameters, list) else [parameters or {}]
    now = utcnow()
    occurrences = [
        Occurrence(
            verb=row.get("verb", ""),
            object_id=row.get("object_id"),
            project_id=row.get("project_id"),
            actor_id=row.get("actor_id"),
            data=row.get("data") or {},
            occurred_at=row.get("created_at") or now,
        )
        for row in rows
        if row.get("verb") in WATCHED_VERBS
    ]
    if occurrences:
        queue(state.session, occurrences)


def listen() -> None:
    """Connect the listeners to every session (once per process, however many apps are built)."""
    if not event.contains(Session, "before_flush", _from_flush):
        event.listen(Session, "before_flush", _from_flush)
    if not event.contains(Session, "do_orm_execute", _from_bulk_insert):
        event.listen(Session, "do_orm_execute", _from_bulk_insert)

