"""Read models of the home pages: the staff member's projects a page at a time, the client's project cards.

Everything is loaded for all the projects of a page at once: a home runs the same
number of queries for one project as for fifty, however many items they hold.
The attention lists come from the kinds each feature added (``portal.attention``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from portal.access import visible_projects
from portal.attention import ClientItem, Deadline, client_items, next_deadlines
from portal.extensions import db
from portal.health import Health, health_for
from portal.models import Client, Project, ProjectMember, Update, User
from portal.updates.queries import latest_updates

# --- Staff -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectPage:
    """A page of the staff member's projects, how many match in all, and how many client members each has."""

    projects: list[Project]
    total: int
    member_counts: dict[int, int]


def staff_projects(viewer: User, *, text: str, manager_id: int | None, page: int, size: int) -> ProjectPage:
    """Return page ``page`` (from 1) of the current projects ``viewer`` sees, by client and name (one query; two past the last page).

    ``manager_id`` keeps those one person manages; ``text`` those whose name or client's name contains it.
    """
    query = visible_projects(viewer).join(Client, Client.id == Project.client_id)
    if manager_id:
        query = query.where(Project.manager_id == manager_id)
    if text:
        # autoescape: "%" and "_" typed in the box are searched for, not wildcards
        query = query.where(or_(Project.name.icontains(text, autoescape=True), Client.name.icontains(text, autoescape=True)))
    # The ids of the page and the count come first, from narrow rows; only the page's projects are read in full.
    shown = (
        query.with_only_columns(Project.id, func.count().over().label("total"))
        .order_by(Client.name, Project.name)
        .offset((page - 1) * size)
        .limit(size)
        .subquery()
    )
    members = select(func.count(ProjectMember.id)).where(ProjectMember.project_id == Project.id).correlate(Project).scalar_subquery()
    rows = db.session.execute(
        select(Project, members, shown.c.total)
        .join(shown, shown.c.id == Project.id)
        .join(Client, Client.id == Project.client_id)
        .options(contains_eager(Project.client), joinedload(Project.manager))
        .order_by(Client.name, Project.name)
    ).all()
    # past the last page (or nothing to list), the count runs on its own
    total = rows[0].total if rows else db.session.scalar(query.with_only_columns(func.count(Project.id)).order_by(None)) or 0
    return ProjectPage(
        projects=[row[0] for row in rows], total=total, member_counts={row[0].id: row[1] for row in rows if row[1]}
    )


# --- Clients ---------------------------------------------------------------------------------


def client_projects(viewer: User) -> list[Project]:
    """Return the current projects ``viewer`` sees, with their managers, by name (one query)."""
    return list(db.session.scalars(visible_projects(viewer).options(joinedload(Project.manager)).order_by(Project.name)).all())


@dataclass(frozen=True)
class ProjectCard:
    """What the home shows about one project."""

    project: Project
    health: Health
    latest_update: Update | None
    next_deadline: Deadline | None


@dataclass(frozen=True)
class ClientHome:
    """The cards and the attention list of a client's home."""

    cards: list[ProjectCard]
    attention: list[ClientItem]


def client_home(viewer: User, projects: Sequence[Project], now: datetime) -> ClientHome:
    """Return the client's home for ``projects`` (those ``viewer`` may see), in a constant number of queries."""
    if not projects:
        return ClientHome(cards=[], attention=[])
    health = health_for(projects, now)
    latest = latest_updates([p.id for p in projects])
    deadlines = next_deadlines(projects, now)
    cards = [ProjectCard(p, health[p.id], latest.get(p.id), deadlines.get(p.id)) for p in projects]
    return ClientHome(cards=cards, attention=client_items(viewer, projects, now))
