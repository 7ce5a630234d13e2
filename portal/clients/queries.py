"""Read models of the client pages: the list with its counts, one client's people and projects, the clients forms offer, the profile panel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.access import visible_clients, visible_projects
from portal.extensions import db
from portal.models import Client, ClientDecisionMaker, Project, Role, User
from portal.timeutil import utcnow, zone_city


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
    decision_makers: list[User]


def client_page(viewer: User, client: Client) -> ClientPage:
    """Return the people, the projects ``viewer`` may see and the decision makers of ``client`` (three queries)."""
    people = db.session.scalars(select(User).where(User.client_id == client.id).order_by(User.name, User.email)).all()
    projects = db.session.scalars(
        visible_projects(viewer, include_archived=True)
        .where(Project.client_id == client.id)
        .options(joinedload(Project.manager))
        .order_by(Project.archived_at.is_not(None), Project.name)
    ).all()
    return ClientPage(people=list(people), projects=list(projects), decision_makers=decision_makers(client))


def active_people(client: Client) -> list[User]:
    """Return the client's own active people, by name: the ones who can be marked decision makers (one query)."""
    query = select(User).where(User.client_id == client.id, User.role == Role.CLIENT, User.active.is_(True))
    return list(db.session.scalars(query.order_by(User.name, User.email)).all())


def decision_makers(client: Client) -> list[User]:
    """Return the client's people marked as decision makers who still have an active account, by name (one query)."""
    query = (
        select(User)
        .join(ClientDecisionMaker, ClientDecisionMaker.user_id == User.id)
        .where(ClientDecisionMaker.client_id == client.id, User.client_id == client.id, User.active.is_(True))
        .order_by(User.name, User.email)
    )
    return list(db.session.scalars(query).all())


@dataclass(frozen=True)
class ClientProfile:
    """What staff keep in mind where they write to a client (principle 8); never shown to clients."""

    client: Client
    decision_makers: list[User]  # the client's people with an account who decide; ``client.decision_makers`` names the others
    now: datetime  # shown in the client's zone: their time as staff write

    @property
    def zone_label(self) -> str:
        """Return the readable place of the client's time zone ("Istanbul", "New York")."""
        return zone_city(self.client.timezone)


def profile_for(client: Client, now: datetime | None = None) -> ClientProfile:
    """Return the client's profile for the staff panel (one query, however many decision makers)."""
    return ClientProfile(client=client, decision_makers=decision_makers(client), now=now or utcnow())


def staff_profile(viewer: User, client: Client) -> ClientProfile | None:
    """Return the client's profile when ``viewer`` works for the agency; None for anyone else (clients never see it)."""
    return profile_for(client) if viewer.is_staff else None
