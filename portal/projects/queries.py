"""Read models of the project pages: the activity timeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_
from sqlalchemy.orm import joinedload

from portal.access import visible_events
from portal.activity import timeline_kinds
from portal.extensions import db
from portal.models import ActivityEvent, Project, User

TIMELINE_SIZE = 20


@dataclass(frozen=True)
class Timeline:
    """A page of a project's activity, newest first, and where the older page starts."""

    kind: str
    events: list[ActivityEvent]
    older_than: int | None  # the ``before`` of the next (older) page, None on the last page


def timeline_filters() -> dict[str, Any]:
    """Return the timeline's filters, key to label: everything, then each kind the features added."""
    return {"": _l("Everything"), **{entry.key: entry.value.label for entry in timeline_kinds.entries()}}


def project_timeline(viewer: User, project: Project, kind: str, before: int | None, size: int = TIMELINE_SIZE) -> Timeline:
    """Return a page of ``project``'s activity of ``kind`` that ``viewer`` may see (clients: no internal events); one query."""
    chosen = timeline_kinds.get(kind) if kind else None
    query = visible_events(viewer, project)
    if chosen is not None:
        query = query.where(or_(*(ActivityEvent.verb.startswith(prefix, autoescape=True) for prefix in chosen.prefixes)))
    if before is not None:
        query = query.where(ActivityEvent.id < before)
    events = list(db.session.scalars(query.options(joinedload(ActivityEvent.actor)).order_by(ActivityEvent.id.desc()).limit(size + 1)))
    more = len(events) > size
    events = events[:size]
    return Timeline(kind=kind if chosen is not None else "", events=events, older_than=events[-1].id if more else None)
