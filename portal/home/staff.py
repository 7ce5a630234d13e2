"""The staff home's attention queue: what needs the account manager, across all their clients.

One call builds the whole queue for a member of staff (admins: everyone's projects,
or one manager's)::

    queue = attention_queue(viewer, now=utcnow(), manager_id=None)
    queue.groups        # the groups that have items, bad news first
    queue.coming_up     # the next weekly updates to go out, soonest first

The groups, in the order the page shows them:

1. ``concern`` — a client answered an update with "I have a concern" or "not accurate",
   and no one of the agency has commented on that update since.
2. ``goal_off_track`` — an agreed goal off track today (``portal.goals.progress``), most behind first.
3. ``changes_requested`` — the client asked for changes on a deliverable: the agency owes a version.
4. ``asset_overdue`` — an asset request past its due date (in the project's zone) still waiting on the client.
5. ``silent`` — an active or planned project with no published update for
   ``portal.health`` 's silence days (7), as its health badge counts it.
6. ``asset_review`` — files the client uploaded, waiting for the agency's review.
7. ``goal_agreement`` — a goal proposal missing a signature, and whose.
8. ``client_decision`` — a deliverable version waiting for the client's decision, with its age.
9. ``call`` — the client's profile prefers phone or meetings and this week's update offered a call.

Within a group the oldest (or most urgent) item comes first. Each group shows at most
``GROUP_LIMIT`` items with the total; ``expand`` shows one group in full.

The queue runs a constant number of queries however many projects it covers: every
query is scoped by a subquery of the visible projects, never by one query per project.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select, type_coerce
from sqlalchemy.orm import joinedload, selectinload

from portal.access import visible_projects
from portal.extensions import db
from portal.goals.progress import ProgressStatus, statuses_for_projects
from portal.health import Rules
from portal.models import (
    AckChoice,
    AssetRequest,
    AssetRequestStatus,
    Client,
    Deliverable,
    DeliverableStatus,
    DeliverableVersion,
    Goal,
    GoalRevision,
    GoalSignature,
    GoalState,
    PreferredChannel,
    Project,
    ProjectStatus,
    Role,
    Side,
    Update,
    UpdateAcknowledgement,
    UpdateComment,
    UpdateKind,
    UpdateStatus,
    User,
    VersionStatus,
)
from portal.timeutil import UTCDateTime, local_today, zone_named

GROUP_LIMIT = 8  # items shown per group before "show all"
EXPANDED_LIMIT = 500  # a group shown in full still has a ceiling
COMING_UP = 5  # weekly updates listed under "coming up"
CALL_WITHIN = timedelta(days=8)  # a weekly update's call suggestion stays in the queue this long


# Projects expected to report every week (as portal.health counts silence).
_REPORTING = (ProjectStatus.PLANNED, ProjectStatus.ACTIVE)
_FLAGS = (AckChoice.CONCERN, AckChoice.NOT_ACCURATE)


class Kind(enum.StrEnum):
    """What an item of the queue is about; the members are in the order the page shows the groups."""

    CONCERN = "concern"
    GOAL_OFF_TRACK = "goal_off_track"
    CHANGES_REQUESTED = "changes_requested"
    ASSET_OVERDUE = "asset_overdue"
    SILENT = "silent"
    ASSET_REVIEW = "asset_review"
    GOAL_AGREEMENT = "goal_agreement"
    CLIENT_DECISION = "client_decision"
    CALL = "call"


def kind_named(value: str | None) -> Kind | None:
    """Return the kind called ``value`` (from a query string), or None for anything else."""
    try:
        return Kind(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Item:
    """One thing that needs the agency: what, for which project, since when, and where it is resolved.

    ``since`` is the moment the item's age counts from (a past moment; None when the
    project never had the thing, e.g. a project that never published an update).
    ``endpoint`` and ``values`` build the link to the page where it is resolved.
    ``detail`` holds what the sentence of the kind needs (names, counts, choices).
    """

    kind: Kind
    title: str
    project: Project
    since: datetime | None
    endpoint: str
    values: dict[str, Any]
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    """The items of one kind, as many as are shown, and how many there are in all."""

    kind: Kind
    items: list[Item]
    total: int

    @property
    def hidden(self) -> int:
        """Return how many items the page does not show."""
        return self.total - len(self.items)


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


def attention_queue(viewer: User, now: datetime, *, manager_id: int | None = None, expand: Kind | None = None) -> Queue:
    """Return what needs ``viewer`` (staff) across the projects they see, bad news first.

    ``manager_id`` narrows an admin's queue to one account manager's projects (ignored
    for managers, who only ever see their own); ``expand`` shows one group in full.
    """
    if not viewer.is_staff:
        raise ValueError("the attention queue is for staff")
    scope = visible_projects(viewer)
    if manager_id is not None and viewer.role is Role.ADMIN:
        scope = scope.where(Project.manager_id == manager_id)
    projects = {
        p.id: p
        # selectinload: an admin's thousand projects share a few hundred clients and a few managers,
        # which a joined load would decode again on every row.
        for p in db.session.scalars(scope.options(selectinload(Project.client), selectinload(Project.manager)).order_by(Project.id))
    }
    ids = scope.with_only_columns(Project.id).scalar_subquery()
    todays = _todays(projects.values(), now)
    builder = _Builder(projects, ids, todays, now, expand)
    groups = [
        builder.concerns(),
        builder.goals_off_track(),
        builder.changes_requested(),
        builder.assets_overdue(),
        builder.silent(),
        builder.assets_to_review(),
        builder.goals_awaiting_agreement(),
        builder.client_decisions(),
        builder.calls(),
    ]
    return Queue(groups=[g for g in groups if g.total], coming_up=coming_up(projects.values(), now), project_count=len(projects))


def coming_up(projects, now: datetime, limit: int = COMING_UP) -> list[Send]:
    """Return the next weekly updates of ``projects`` (active ones of active clients), soonest first (no query)."""
    from portal.updates.weekly import next_slot  # the weekly module imports the feature's providers

    sends = [
        Send(p, next_slot(p, now).at)
        for p in projects
        if p.status is ProjectStatus.ACTIVE and p.archived_at is None and p.client.archived_at is None
    ]
    sends.sort(key=lambda s: (s.at, s.project.name, s.project.id))
    return sends[:limit]


def _total() -> Any:
    """Return a column counting every row the query matched, before its LIMIT."""
    return func.count().over().label("total")


def _todays(projects, now: datetime) -> dict[int, date]:
    """Return each project's calendar day at ``now`` in its own zone (each zone is looked up once)."""
    by_zone: dict[str, date] = {}
    todays = {}
    for p in projects:
        day = by_zone.get(p.timezone)
        if day is None:
            day = by_zone[p.timezone] = local_today(p.timezone, now)
        todays[p.id] = day
    return todays


def _day_start(day: date, zone_name: str) -> datetime:
    """Return midnight at the start of ``day`` in the zone called ``zone_name``."""
    return datetime.combine(day, time(0), tzinfo=zone_named(zone_name))


class _Builder:
    """Runs one query (sometimes two) per group, scoped by the subquery of visible project ids."""

    def __init__(self, projects: dict[int, Project], ids, todays: dict[int, date], now: datetime, expand: Kind | None) -> None:
        self.projects = projects
        self.ids = ids
        self.todays = todays
        self.now = now
        self.expand = expand

    def limit(self, kind: Kind) -> int:
        return EXPANDED_LIMIT if kind is self.expand else GROUP_LIMIT

    def _rows(self, query: Select, kind: Kind) -> tuple[list[Any], int]:
        """Run a query that ends with a ``total`` column; return its rows (limited) and the total."""
        rows = db.session.execute(query.add_columns(_total()).limit(self.limit(kind))).all()
        return rows, (rows[0].total if rows else 0)

    def _group(self, kind: Kind, items: list[Item], total: int | None = None) -> Group:
        return Group(kind, items[: self.limit(kind)], len(items) if total is None else total)

    # --- Bad news -------------------------------------------------------------------

    def concerns(self) -> Group:
        """Clients' concerns and "not accurate" answers no one of the agency has commented on since."""
        staff_answered = exists().where(
            UpdateComment.update_id == UpdateAcknowledgement.update_id,
            UpdateComment.created_at >= UpdateAcknowledgement.updated_at,
            UpdateComment.author_id.in_(select(User.id).where(User.role.in_([Role.ADMIN, Role.MANAGER]))),
        )
        rows, total = self._rows(
            select(UpdateAcknowledgement, Update)
            .join(Update, Update.id == UpdateAcknowledgement.update_id)
            .where(
                Update.project_id.in_(self.ids),
                Update.status == UpdateStatus.PUBLISHED,
                UpdateAcknowledgement.choice.in_(_FLAGS),
                ~staff_answered,
            )
            .options(joinedload(UpdateAcknowledgement.user))
            .order_by(UpdateAcknowledgement.updated_at, UpdateAcknowledgement.id),
            Kind.CONCERN,
        )
        items = [
            Item(
                Kind.CONCERN,
                update.title or update.week_label,
                self.projects[update.project_id],
                ack.updated_at,
                "updates.show",
                {"project_id": update.project_id, "update_id": update.id, "_anchor": f"acknowledgements-{update.id}"},
                {"person": ack.user.display_name, "choice": ack.choice.value, "comment": ack.comment},
            )
            for ack, update, _ in rows
        ]
        return self._group(Kind.CONCERN, items, total)

    def goals_off_track(self) -> Group:
        """Agreed goals off track on their project's today, the furthest behind first."""
        off = [
            goal
            for goal in statuses_for_projects(self.projects, self.todays, states=(GoalState.AGREED,))
            if goal.status is ProgressStatus.OFF_TRACK and goal.title is not None
        ]
        off.sort(key=lambda g: (-(g.behind_percent or 0), g.goal_id))
        items = []
        for goal in off[: self.limit(Kind.GOAL_OFF_TRACK)]:  # only the shown ones become items
            project = self.projects[goal.project_id]
            measured = _day_start(goal.measured_on, project.timezone) if goal.measured_on else None
            items.append(
                Item(
                    Kind.GOAL_OFF_TRACK,
                    goal.title,
                    project,
                    measured,
                    "goals.show",
                    {"goal_id": goal.goal_id},
                    {"behind": goal.behind_percent, "goal_id": goal.goal_id},
                )
            )
        return self._group(Kind.GOAL_OFF_TRACK, items, len(off))

    def changes_requested(self) -> Group:
        """Deliverables whose client asked for changes: the agency owes a new version, oldest request first."""
        rows, total = self._rows(
            select(Deliverable, DeliverableVersion)
            .join(
                DeliverableVersion,
                and_(DeliverableVersion.deliverable_id == Deliverable.id, DeliverableVersion.number == Deliverable.current_number),
            )
            .where(Deliverable.project_id.in_(self.ids), Deliverable.status == DeliverableStatus.CHANGES_REQUESTED)
            .order_by(func.coalesce(DeliverableVersion.settled_at, Deliverable.updated_at), Deliverable.id),
            Kind.CHANGES_REQUESTED,
        )
        items = [
            Item(
                Kind.CHANGES_REQUESTED,
                deliverable.title,
                self.projects[deliverable.project_id],
                version.settled_at or deliverable.updated_at,
                "deliverables.show",
                {"deliverable_id": deliverable.id},
                {"number": version.number},
            )
            for deliverable, version, _ in rows
        ]
        return self._group(Kind.CHANGES_REQUESTED, items, total)

    def assets_overdue(self) -> Group:
        """Asset requests past their due date (in the project's zone) still waiting on the client, oldest due first."""
        latest_today = max(self.todays.values(), default=self.now.date())
        rows = db.session.execute(
            select(AssetRequest.id, AssetRequest.project_id, AssetRequest.title, AssetRequest.due_date, AssetRequest.status)
            .where(
                AssetRequest.project_id.in_(self.ids),
                AssetRequest.status.in_([AssetRequestStatus.OPEN, AssetRequestStatus.RETURNED]),
                AssetRequest.due_date < latest_today,
            )
            .order_by(AssetRequest.due_date, AssetRequest.id)
        ).all()
        late = [row for row in rows if row.due_date < self.todays[row.project_id]]
        items = []
        for row in late[: self.limit(Kind.ASSET_OVERDUE)]:  # only the shown ones become items
            today = self.todays[row.project_id]
            project = self.projects[row.project_id]
            items.append(
                Item(
                    Kind.ASSET_OVERDUE,
                    row.title,
                    project,
                    _day_start(row.due_date + timedelta(days=1), project.timezone),  # late from the end of its due day
                    "assets.show_request",
                    {"request_id": row.id},
                    {"days": (today - row.due_date).days, "returned": row.status is AssetRequestStatus.RETURNED},
                )
            )
        return self._group(Kind.ASSET_OVERDUE, items, len(late))

    def silent(self) -> Group:
        """Active and planned projects with no published update for the silence days, the longest silent first."""
        days = Rules.from_config().silence_days
        last = dict(
            db.session.execute(
                select(Update.project_id, type_coerce(func.max(Update.published_at), UTCDateTime()))
                .where(Update.project_id.in_(self.ids), Update.status == UpdateStatus.PUBLISHED)
                .group_by(Update.project_id)
            ).all()
        )
        cutoff = self.now - timedelta(days=days)
        items = []
        for project in self.projects.values():
            if project.status not in _REPORTING:
                continue
            published = last.get(project.id)
            if (published or project.created_at) > cutoff:
                continue
            items.append(
                Item(
                    Kind.SILENT,
                    project.name,
                    project,
                    published,
                    "updates.create",
                    {"project_id": project.id},
                    {"started": project.created_at},
                )
            )
        items.sort(key=lambda i: (i.since or i.detail["started"], i.project.id))
        return self._group(Kind.SILENT, items)

    # --- The agency's turn ------------------------------------------------------------

    def assets_to_review(self) -> Group:
        """Requests whose files the client sent, waiting for the agency's review, oldest upload first."""
        rows, total = self._rows(
            select(AssetRequest)
            .where(AssetRequest.project_id.in_(self.ids), AssetRequest.status == AssetRequestStatus.SUBMITTED)
            .order_by(AssetRequest.submitted_at, AssetRequest.id),
            Kind.ASSET_REVIEW,
        )
        items = [
            Item(
                Kind.ASSET_REVIEW,
                request.title,
                self.projects[request.project_id],
                request.submitted_at,
                "assets.show_request",
                {"request_id": request.id},
            )
            for request, _ in rows
        ]
        return self._group(Kind.ASSET_REVIEW, items, total)

    def goals_awaiting_agreement(self) -> Group:
        """Goal proposals (new goals or new terms) missing a signature, with whose, oldest proposal first."""

        def signed(side: Side):
            return (
                exists()
                .where(GoalSignature.revision_id == GoalRevision.id, GoalSignature.side == side)
                .label(f"{side.value}_signed")
            )

        rows, total = self._rows(
            select(Goal, GoalRevision, signed(Side.AGENCY), signed(Side.CLIENT))
            .join(GoalRevision, and_(GoalRevision.goal_id == Goal.id, GoalRevision.number == Goal.current_number))
            .where(
                Goal.project_id.in_(self.ids),
                Goal.state.in_([GoalState.PROPOSED, GoalState.AGREED]),
                or_(Goal.agreed_number.is_(None), Goal.agreed_number != Goal.current_number),
                GoalRevision.declined_at.is_(None),
            )
            .order_by(GoalRevision.created_at, Goal.id),
            Kind.GOAL_AGREEMENT,
        )
        items = []
        for goal, revision, agency_signed, client_signed, _ in rows:
            missing = [side.value for side, done in ((Side.AGENCY, agency_signed), (Side.CLIENT, client_signed)) if not done]
            items.append(
                Item(
                    Kind.GOAL_AGREEMENT,
                    revision.title,
                    self.projects[goal.project_id],
                    revision.created_at,
                    "goals.show",
                    {"goal_id": goal.id},
                    {"missing": missing, "number": revision.number, "change": goal.agreed_number is not None},
                )
            )
        return self._group(Kind.GOAL_AGREEMENT, items, total)

    # --- The client's turn --------------------------------------------------------------

    def client_decisions(self) -> Group:
        """Deliverable versions waiting for the client's decision, the longest waiting first."""
        rows, total = self._rows(
            select(Deliverable, DeliverableVersion)
            .join(
                DeliverableVersion,
                and_(DeliverableVersion.deliverable_id == Deliverable.id, DeliverableVersion.number == Deliverable.current_number),
            )
            .where(
                Deliverable.project_id.in_(self.ids),
                Deliverable.status == DeliverableStatus.IN_REVIEW,
                DeliverableVersion.status == VersionStatus.IN_REVIEW,
            )
            .order_by(DeliverableVersion.submitted_at, Deliverable.id),
            Kind.CLIENT_DECISION,
        )
        items = [
            Item(
                Kind.CLIENT_DECISION,
                deliverable.title,
                self.projects[deliverable.project_id],
                version.submitted_at,
                "deliverables.show",
                {"deliverable_id": deliverable.id},
                {"number": version.number},
            )
            for deliverable, version, _ in rows
        ]
        return self._group(Kind.CLIENT_DECISION, items, total)

    def calls(self) -> Group:
        """Clients who prefer phone or meetings whose recent weekly update offered a call, the oldest offer first."""
        rows = db.session.execute(
            select(Update.id, Update.project_id, Update.published_at)
            .join(Project, Project.id == Update.project_id)
            .join(Client, Client.id == Project.client_id)
            .where(
                Update.project_id.in_(self.ids),
                Update.kind == UpdateKind.WEEKLY,
                Update.status == UpdateStatus.PUBLISHED,
                Update.suggests_call.is_(True),
                Update.published_at >= self.now - CALL_WITHIN,
                Client.preferred_channel.in_([PreferredChannel.PHONE, PreferredChannel.MEETING]),
            )
            .order_by(Update.published_at.desc(), Update.id.desc())
        ).all()
        latest: dict[int, Any] = {}
        for row in rows:
            latest.setdefault(row.project_id, row)
        items = [
            Item(
                Kind.CALL,
                self.projects[row.project_id].client.name,
                self.projects[row.project_id],
                row.published_at,
                "clients.show",
                {"client_id": self.projects[row.project_id].client_id},
                {"channel": self.projects[row.project_id].client.preferred_channel.value, "update_id": row.id},
            )
            for row in latest.values()
        ]
        items.sort(key=lambda i: (i.since, i.project.id))
        return self._group(Kind.CALL, items)
