"""Read models of the project pages: the activity timeline, who may run a project, who may join it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from portal.access import visible_events
from portal.activity import timeline_kinds
from portal.extensions import db
from portal.models import ActivityEvent, Project, ProjectMember, Role, User

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


# --- People ---------------------------------------------------------------------------------


def account_managers() -> list[User]:
    """Return the people who may run a project: the active admins and managers, by name (one query)."""
    return list(
        db.session.scalars(
            select(User).where(User.role.in_([Role.ADMIN, Role.MANAGER]), User.active.is_(True)).order_by(User.name)
        ).all()
    )


def member_candidates(project: Project) -> list[User]:
    """Return the active people of ``project``'s client who are not members of it yet, by name (one query, and one for the members unless loaded)."""
    taken = {m.user_id for m in project.members}
    people = db.session.scalars(
        select(User)
        .where(User.client_id == project.client_id, User.role == Role.CLIENT, User.active.is_(True))
        .order_by(User.name, User.email)
    ).all()
    return [u for u in people if u.id not in taken]


def member_of(project: Project, member_id: int) -> ProjectMember | None:
    """Return ``project``'s membership ``member_id``, if it is one of this project's (one query)."""
    return db.session.scalar(select(ProjectMember).where(ProjectMember.id == member_id, ProjectMember.project_id == project.id))
