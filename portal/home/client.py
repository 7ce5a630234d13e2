"""The client's home: a card per project and one "Needs your attention" list across them.

Everything is loaded for all of the client's projects at once: the page runs the
same number of queries for one project as for fifty, however many items they hold.
The attention list comes from the kinds each feature added (``portal.attention``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from portal.attention import ClientItem, Deadline, client_items, next_deadlines
from portal.health import Health, health_for
from portal.models import Project, Update, User
from portal.updates.queries import latest_updates


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
