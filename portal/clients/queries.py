"""Read models of the client pages: the list with its counts, one client's people and projects, the clients forms offer."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.access import visible_clients, visible_projects
from portal.extensions import db
from portal.models import Client, Project, User


def active_clients(viewer: User, *, limit: int | None = None) -> list[Client]:
    """Return the client organisations ``viewer`` may see that are not archived, by name (one query)."""
    query = visible_clients(viewer).where(Client.archived_at.is_(None)).order_by(Client.name)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query).all())


@dataclass(frozen=True)
class ClientList:
    """The clients of the list page, with how many active projects and active people each has."""

    clients: list[Client]
    project_counts: dict[int, int]
    user_counts: dict[int, int]


def client_list(viewer: User, *, archived: bool) -> ClientList:
    """Return the archived (or the current) clients ``viewer`` may see, by name, with their counts (three queries)."""
    query = visible_clients(viewer).where(Client.archived_at.is_not(None) if archived else Client.archived_at.is_(None))
    clients = list(db.session.scalars(query.order_by(Client.name)).all())
    ids = [c.id for c in clients]
    project_counts = dict(
        db.session.execute(
            select(Project.client_id, func.count())
            .where(Project.client_id.in_(ids), Project.archived_at.is_(None))
            .group_by(Project.client_id)
        ).all()
    )
    users = db.session.execute(
        select(User.client_id, func.count()).where(User.client_id.in_(ids), User.active.is_(True)).group_by(User.client_id)
    ).all()
    # The query keeps only these clients' people; the check tells the type checker so.
    user_counts = {client_id: count for client_id, count in users if client_id is not None}
    return ClientList(clients=clients, project_counts=project_counts, user_counts=user_counts)


@dataclass(frozen=True)
class ClientPage:
    """What a client's profile lists: its people, and the projects of it the viewer may see (archived last)."""

    people: list[User]
    projects: list[Project]


def client_page(viewer: User, client: Client) -> ClientPage:
    """Return the people and the projects ``viewer`` may see of ``client`` (two queries)."""
    people = db.session.scalars(select(User).where(User.client_id == client.id).order_by(User.name, User.email)).all()
    projects = db.session.scalars(
        visible_projects(viewer, include_archived=True)
        .where(Project.client_id == client.id)
        .options(joinedload(Project.manager))
        .order_by(Project.archived_at.is_not(None), Project.name)
    ).all()
    return ClientPage(people=list(people), projects=list(projects))
