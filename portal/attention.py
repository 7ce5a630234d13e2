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
it is scoped by the scope's ids (a list, or a subquery of the visible projects). A
staff provider never loads every project it sees (an admin sees thousands): it counts
in SQL, and loads only the rows it shows, each with its project (``StaffScope.with_project``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, case, false, func, or_, select
from sqlalchemy.orm import joinedload

from portal.access import visible_projects
from portal.extensions import db
from portal.models import Client, Project, ProjectMember, ProjectStatus, Role, Update, UpdateKind, User
from portal.registry import Registry
from portal.timeutil import local_today, project_todays
from portal.weekly.slots import upcoming_slot

GROUP_LIMIT = 8  # staff items shown per group before "show all"
EXPANDED_LIMIT = 500  # a group shown in full still has a ceiling
COMING_UP = 5  # weekly updates listed under "coming up"
# How the staff home loads the project of a shown item: with what its line names, in the same query.
SHOWN_PROJECT = (joinedload(Project.client, innerjoin=True), joinedload(Project.manager, innerjoin=True))


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
    """The projects a member of staff sees, and the helpers every staff provider uses.

    The projects are not loaded: ``ids`` is a subquery of them, ``visible`` the condition
    a joined ``Project`` meets, and ``zones`` the day it is in each of their time zones.
    A provider filters by either, compares dates with each project's today in SQL
    (:meth:`each_today`), and loads the projects of the rows it shows with them
    (:meth:`with_project`).
    """

    def __init__(self, visible: Select[Project], zones: dict[str, date], now: datetime, expand: str | None) -> None:
        self.ids = visible.with_only_columns(Project.id).scalar_subquery()  # the visible project ids
        # Staff see projects by the projects' own columns (no join): the condition itself lets the
        # database start from the matching rows instead of a list of every visible id.
        where, froms = visible.whereclause, visible.get_final_froms()
        simple = where is not None and len(froms) == 1 and froms[0] is Project.__table__
        self.visible: ColumnElement[bool] = where if where is not None and simple else Project.id.in_(self.ids)
        self.zones = zones  # time zone name -> the day it is there, for every zone of the visible projects
        self.now = now
        self.expand = expand

    def today(self, project: Project) -> date:
        """Return the day it is at ``project`` (in its own time zone)."""
        day = self.zones.get(project.timezone)
        return day if day is not None else local_today(project.timezone, self.now)

    def each_today(self, condition: Callable[[date], ColumnElement[bool]]) -> ColumnElement[bool]:
        """Return ``condition(day)`` with each project's own today, as one SQL condition (the query joins ``Project``)."""
        by_day: dict[date, list[str]] = {}
        for zone, day in self.zones.items():
            by_day.setdefault(day, []).append(zone)
        return or_(false(), *(and_(Project.timezone.in_(zones), condition(day)) for day, zones in sorted(by_day.items())))

    def with_project(self, query: Select[*tuple[Any, ...]], project_id: Any) -> Select[*tuple[Any, ...]]:
        """Return ``query`` keeping the rows of the visible projects, each followed by its ``Project`` (client and manager loaded)."""
        return query.add_columns(Project).join(Project, Project.id == project_id).where(self.visible).options(*SHOWN_PROJECT)

    def projects_of(self, ids: Iterable[int]) -> dict[int, Project]:
        """Return the projects ``ids`` by id, with their clients and managers (one query, none for no ids)."""
        ids = list(ids)
        if not ids:
            return {}
        return {p.id: p for p in db.session.scalars(select(Project).where(Project.id.in_(ids)).options(*SHOWN_PROJECT))}

    def limit(self, kind: str) -> int:
        """Return how many items of ``kind`` the page shows."""
        return EXPANDED_LIMIT if kind == self.expand else GROUP_LIMIT

    def rows(self, query: Select[*tuple[Any, ...]], kind: str, key: Any) -> tuple[list[Any], int]:
        """Run ``query`` limited to what the page shows; return its rows and how many matched in all.

        Each row ends with the extra ``total`` column (a window count before the LIMIT).
        ``key`` identifies a row (its id): the count and the LIMIT run on the keys alone, and
        only the shown rows are read in full — thousands of matches never travel whole.
        """
        shown = query.with_only_columns(key.label("key"), func.count().over().label("total")).limit(self.limit(kind)).subquery()
        rows = list(db.session.execute(query.add_columns(shown.c.total).join(shown, shown.c.key == key)).all())
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
    The same number of queries for ten projects as for ten thousand, none loading them all.
    """
    if not viewer.is_staff:
        raise ValueError("the attention queue is for staff")
    visible = visible_projects(viewer)
    if manager_id is not None and viewer.role is Role.ADMIN:
        visible = visible.where(Project.manager_id == manager_id)
    schedules = _schedules(visible)
    zones = {s.timezone: local_today(s.timezone, now) for s in schedules}
    scope = StaffScope(visible, zones, now, expand)
    groups = []
    for entry in staff_attention.entries():
        group = entry.value.provider(scope)
        if group.total:
            groups.append(Group(entry.key, group.items, group.total, entry.value.heading, entry.value.template))
    return Queue(groups=groups, coming_up=coming_up(visible, schedules, now), project_count=sum(s.projects for s in schedules))


def _running() -> ColumnElement[bool]:
    """Return the condition of a project whose weekly update goes out: active, of an active client (the query joins ``Client``)."""
    return and_(Project.status == ProjectStatus.ACTIVE, Project.archived_at.is_(None), Client.archived_at.is_(None))


def _sent_week() -> Any:
    """Return a column: the latest week (ISO year × 100 + ISO week) the project's weekly update was sent for, 0 if none."""
    latest = (
        select(func.max(Update.iso_year * 100 + Update.iso_week))
        .where(Update.project_id == Project.id, Update.kind == UpdateKind.WEEKLY)
        .correlate(Project)
        .scalar_subquery()
    )
    return func.coalesce(latest, 0)


def _schedules(visible: Select[Project]) -> list[Row[Any]]:
    """Return how many of the ``visible`` projects share each (zone, weekly slot, running, latest week sent) (one query).

    ``sent`` is 0 for the projects that do not run. The rows are few (a zone × a slot ×
    a recent week), however many projects: they give the zones of the queue, its project
    count and the order of the next weekly updates without loading a project.
    """
    running = _running()
    per_project = (
        visible.join(Client, Client.id == Project.client_id)
        .with_only_columns(
            Project.timezone,
            Project.weekly_weekday,
            Project.weekly_hour,
            case((running, True), else_=False).label("running"),
            case((running, _sent_week()), else_=0).label("sent"),
        )
        .subquery()
    )
    columns = (per_project.c.timezone, per_project.c.weekly_weekday, per_project.c.weekly_hour, per_project.c.running, per_project.c.sent)
    return list(db.session.execute(select(*columns, func.count().label("projects")).group_by(*columns)).all())


def _binary(column: Any) -> Any:
    """Return ``column`` compared by code point, as Python sorts strings (PostgreSQL's collation may not)."""
    return column.collate("C" if db.session.get_bind().dialect.name == "postgresql" else "BINARY")


def coming_up(visible: Select[Project], schedules: Sequence[Row[Any]], now: datetime, limit: int = COMING_UP) -> list[Send]:
    """Return the next weekly updates of the ``visible`` projects (active ones of active clients), soonest first (one query).

    A project whose update of this week already went out (sent early) is listed at next
    week's slot. The moments are those of the ``schedules`` (:func:`_schedules`): the
    soonest are loaded, ``limit`` projects at most.
    """
    moments: list[tuple[datetime, Row[Any]]] = []
    for schedule in schedules:
        if schedule.running:
            moments.append((upcoming_slot(schedule, now, divmod(schedule.sent, 100) if schedule.sent else None).at, schedule))
    moments.sort(key=lambda pair: pair[0])
    chosen: list[tuple[datetime, Row[Any]]] = []
    found = 0
    for at, schedule in moments:
        if found >= limit and at > chosen[-1][0]:  # every schedule at the last moment taken competes by name
            break
        chosen.append((at, schedule))
        found += schedule.projects
    if not chosen:
        return []
    ats = sorted({at for at, _schedule in chosen})
    sent = _sent_week()
    rank = case(
        *(
            (
                and_(
                    Project.timezone == schedule.timezone,
                    Project.weekly_weekday == schedule.weekly_weekday,
                    Project.weekly_hour == schedule.weekly_hour,
                    sent == schedule.sent,
                ),
                ats.index(at),
            )
            for at, schedule in chosen
        ),
        else_=None,
    ).label("rank")
    rows = db.session.execute(
        visible.join(Client, Client.id == Project.client_id)
        .add_columns(rank)
        .where(_running(), rank.is_not(None))
        .options(joinedload(Project.client, innerjoin=True))
        .order_by(rank, _binary(Project.name), Project.id)
        .limit(limit)
    ).all()
    return [Send(project, ats[position]) for project, position in rows]


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
