"""What waits on whom: the items the home pages list, added by each feature.

The home pages know no feature. Each feature adds, in its ``init_app``:

- **client kinds** (``client_attention``): what a client is asked to do — review a
  version, sign a goal, send files… A provider takes a :class:`ClientScope` (the
  viewer's projects) and returns :class:`ClientItem` s; the client home lists them
  all, oldest first.
- **staff kinds** (``staff_attention``): what needs the agency — a concern, a goal
  off track, files to review… A provider takes a :class:`StaffScope` (the projects
  the member of staff sees) and returns one :class:`Group`; the staff home shows the
  groups in order, each with at most ``GROUP_LIMIT`` items and its total.
- **deadline sources** (``deadline_sources``): the dates things are due, from which
  each client project card shows the next one.

Every provider runs a constant number of queries, however many projects and items:
it is scoped by the scope's ids (a list, or a subquery of the visible projects).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from portal.access import visible_projects
from portal.extensions import db
from portal.models import Project, ProjectMember, ProjectStatus, Role, Update, UpdateKind, User
from portal.registry import Registry
from portal.timeutil import project_todays
from portal.weekly.slots import upcoming_slot

GROUP_LIMIT = 8  # staff items shown per group before "show all"
EXPANDED_LIMIT = 500  # a group shown in full still has a ceiling
COMING_UP = 5  # weekly updates listed under "coming up"


# --- The client's home ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientItem:
    """One thing waiting on the client, where to resolve it, and since when.

    ``for_approvers`` marks what only the project's approvers decide; ``deciders`` then
    names them and ``yours`` tells whether the viewer is one of them.
    """

    kind: str
    title: str
    project: Project
    since: datetime
    url: str
    for_approvers: bool = False
    deciders: list[str] = field(default_factory=list)
    yours: bool = True
    due: date | None = None
    overdue: bool = False
    returned: bool = False  # asset requests sent back with a note


class ClientScope:
    """The projects a client sees, and what every client provider reads of them."""

    def __init__(self, viewer: User, projects: Sequence[Project], now: datetime) -> None:
        self.viewer = viewer
        self.projects = list(projects)
        self.ids = [p.id for p in projects]
        self.by_id = {p.id: p for p in projects}
        self.now = now
        self.todays = project_todays(projects, now)

    @cached_property
    def approvers(self) -> dict[int, list[User]]:
        """Return each project's active client approvers, as ``deliverables.review.approvers`` counts them (one query, run once)."""
        found: dict[int, list[User]] = {}
        for member in db.session.scalars(
            select(ProjectMember)
            .where(ProjectMember.project_id.in_(self.ids), ProjectMember.is_approver.is_(True))
            .options(joinedload(ProjectMember.user))
            .order_by(ProjectMember.id)
        ):
            user = member.user
            if user.active and user.role is Role.CLIENT and user.client_id == self.by_id[member.project_id].client_id:
                found.setdefault(member.project_id, []).append(user)
        return found

    def for_approvers(self, project_id: int, people: list[User] | None = None) -> dict[str, Any]:
        """Return the ClientItem fields of something the approvers decide (``people``: who still has to)."""
        people = self.approvers.get(project_id, []) if people is None else people
        return {
            "for_approvers": True,
            "deciders": [p.display_name for p in people],
            "yours": any(p.id == self.viewer.id for p in people),
        }


@dataclass(frozen=True)
class ClientKind:
    """A kind of client item: its label on the home page and the provider of its items."""

    label: Any  # a lazily translated string
    provider: Callable[[ClientScope], list[ClientItem]]


client_attention: Registry[ClientKind] = Registry("client_attention")


def client_items(viewer: User, projects: Sequence[Project], now: datetime) -> list[ClientItem]:
    """Return everything waiting on ``viewer`` (a client) across ``projects``, oldest first."""
    if not projects:
        return []
    scope = ClientScope(viewer, projects, now)
    entries = client_attention.entries()
    rank = {entry.key: i for i, entry in enumerate(entries)}
    items = [item for entry in entries for item in entry.value.provider(scope)]
    items.sort(key=lambda item: (item.since, rank[item.kind], item.title))
    return items


def client_labels() -> dict[str, Any]:
    """Return the label of every client kind, for the home page."""
    return {entry.key: entry.value.label for entry in client_attention.entries()}


# --- The staff home ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One thing that needs the agency: what, for which project, since when, and where it is resolved.

    ``since`` is the moment the item's age counts from (a past moment; None when the
    project never had the thing, e.g. a project that never published an update).
    ``endpoint`` and ``values`` build the link to the page where it is resolved.
    ``detail`` holds what the sentence of the kind needs (names, counts, choices).
    """

    kind: str
    title: str
    project: Project
    since: datetime | None
    endpoint: str
    values: dict[str, Any]
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    """The items of one kind, as many as are shown, and how many there are in all."""

    kind: str
    items: list[Item]
    total: int
    heading: Any = ""  # a lazily translated string, filled in from the kind
    template: str = ""  # draws one item's detail line

    @property
    def hidden(self) -> int:
        """Return how many items the page does not show."""
        return self.total - len(self.items)


class StaffScope:
    """The projects a member of staff sees, and the helpers every staff provider uses."""

    def __init__(self, projects: dict[int, Project], ids: Any, now: datetime, expand: str | None) -> None:
        self.projects = projects
        self.ids = ids  # a scalar subquery of the visible project ids
        self.now = now
        self.expand = expand
        self.todays = project_todays(projects.values(), now)

    def limit(self, kind: str) -> int:
        """Return how many items of ``kind`` the page shows."""
        return EXPANDED_LIMIT if kind == self.expand else GROUP_LIMIT

    def rows(self, query: Select[*tuple[Any, ...]], kind: str) -> tuple[list[Any], int]:
        """Run ``query`` limited to what the page shows; return its rows and how many matched in all.

        Each row ends with the extra ``total`` column (a window count before the LIMIT).
        """
        rows = list(db.session.execute(query.add_columns(func.count().over().label("total")).limit(self.limit(kind))).all())
        return rows, (rows[0].total if rows else 0)

    def group(self, kind: str, items: list[Item], total: int | None = None) -> Group:
        """Return the group of ``kind``: the shown items and the total (default: every item given)."""
        return Group(kind, items[: self.limit(kind)], len(items) if total is None else total)


@dataclass(frozen=True)
class StaffKind:
    """A kind of staff item: its heading, the template of an item's detail line, and its provider."""

    heading: Any  # a lazily translated string
    template: str
    provider: Callable[[StaffScope], Group]


staff_attention: Registry[StaffKind] = Registry("staff_attention")


@dataclass(frozen=True)
class Send:
    """A weekly update due to go out: the project and the moment (aware UTC)."""

    project: Project
    at: datetime


@dataclass(frozen=True)
class Queue:
    """The attention queue of one member of staff."""

    groups: list[Group]
    coming_up: list[Send]
    project_count: int

    @property
    def total(self) -> int:
        """Return how many items need attention, shown or not."""
        return sum(g.total for g in self.groups)


def staff_kind_named(value: str | None) -> str | None:
    """Return ``value`` if it names a staff kind (from a query string), else None."""
    return value if value and staff_attention.get(value) is not None else None


def attention_queue(viewer: User, now: datetime, *, manager_id: int | None = None, expand: str | None = None) -> Queue:
    """Return what needs ``viewer`` (staff) across the projects they see, bad news first.

    ``manager_id`` narrows an admin's queue to one account manager's projects (ignored
    for managers, who only ever see their own); ``expand`` shows one group in full.
    """
    if not viewer.is_staff:
        raise ValueError("the attention queue is for staff")
    visible = visible_projects(viewer)
    if manager_id is not None and viewer.role is Role.ADMIN:
        visible = visible.where(Project.manager_id == manager_id)
    projects = {
        p.id: p
        # selectinload: an admin's thousand projects share a few hundred clients and a few managers,
        # which a joined load would decode again on every row.
        for p in db.session.scalars(visible.options(selectinload(Project.client), selectinload(Project.manager)).order_by(Project.id))
    }
    scope = StaffScope(projects, visible.with_only_columns(Project.id).scalar_subquery(), now, expand)
    groups = []
    for entry in staff_attention.entries():
        group = entry.value.provider(scope)
        if group.total:
            groups.append(Group(entry.key, group.items, group.total, entry.value.heading, entry.value.template))
    return Queue(groups=groups, coming_up=coming_up(projects.values(), now), project_count=len(projects))


def coming_up(projects: Iterable[Project], now: datetime, limit: int = COMING_UP) -> list[Send]:
    """Return the next weekly updates of ``projects`` (active ones of active clients), soonest first (one query).

    A project whose update of this week already went out (sent early) is listed at next week's slot.
    """
    running = [p for p in projects if p.status is ProjectStatus.ACTIVE and p.archived_at is None and p.client.archived_at is None]
    sent = sent_weeks([p.id for p in running])
    sends = [Send(p, upcoming_slot(p, now, sent.get(p.id)).at) for p in running]
    sends.sort(key=lambda s: (s.at, s.project.name, s.project.id))
    return sends[:limit]


def sent_weeks(project_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Return the latest week (ISO year, ISO week) each project's weekly update was sent for (one query)."""
    if not project_ids:
        return {}
    rows = db.session.execute(
        select(Update.project_id, func.max(Update.iso_year * 100 + Update.iso_week))
        .where(Update.project_id.in_(project_ids), Update.kind == UpdateKind.WEEKLY)
        .group_by(Update.project_id)
    )
    return {project_id: divmod(key, 100) for project_id, key in rows if key}


# --- Deadlines --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """A date something is due on a project, and where it is."""

    project_id: int
    due: date
    title: str
    url: str


# A source returns the deadlines of the projects ``ids`` on or after ``earliest`` (one query).
DeadlineSource = Callable[[Sequence[int], date], Iterable[Deadline]]
deadline_sources: Registry[DeadlineSource] = Registry("deadline_sources")


def next_deadlines(projects: Sequence[Project], now: datetime) -> dict[int, Deadline]:
    """Return each project's next due date from its own today on, over every deadline source."""
    if not projects:
        return {}
    todays = project_todays(projects, now)
    ids = [p.id for p in projects]
    earliest = min(todays.values())
    candidates = [deadline for source in deadline_sources.values() for deadline in source(ids, earliest)]
    found: dict[int, Deadline] = {}
    for deadline in sorted(candidates, key=lambda d: (d.due, d.title)):
        if deadline.project_id not in found and deadline.due >= todays[deadline.project_id]:
            found[deadline.project_id] = deadline
    return found
