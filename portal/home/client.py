"""The client's home: a card per project and one "Needs your attention" list across them.

Everything is loaded for all of the client's projects at once: the page runs the
same number of queries for one project as for fifty, however many items they hold.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.goals import service as goals
from portal.health import Health, health_for
from portal.models import (
    ApprovalRule,
    AssetRequest,
    AssetRequestStatus,
    AssetReview,
    AssumptionStatus,
    ClosureStatus,
    CloseOutcome,
    Decision,
    Deliverable,
    DeliverableStatus,
    DeliverableVersion,
    Goal,
    GoalAssumption,
    GoalClosure,
    GoalRevision,
    GoalState,
    Project,
    ProjectMember,
    ReviewDecision,
    Side,
    Update,
    UpdateAcknowledgement,
    UpdateKind,
    UpdateStatus,
    User,
    VersionStatus,
)
from portal.timeutil import local_today



class AttentionKind(enum.StrEnum):
    """What the client is asked to do."""

    REVIEW = "review"  # decide on a deliverable version
    SIGN = "sign"  # sign a goal's proposed terms
    ASSUMPTION = "assumption"  # confirm or deny an assumption
    CLOSURE = "closure"  # confirm or refuse closing a goal as missed or dropped
    ASSET = "asset"  # provide files (open or returned request)
    ACKNOWLEDGE = "acknowledge"  # answer a weekly update


@dataclass(frozen=True)
class AttentionItem:
    """One thing waiting on the client, where to resolve it, and since when.

    ``deciders`` names the people who must act when not every member can (approvers);
    ``yours`` tells whether the viewer is one of them (or anyone may act).
    """

    kind: AttentionKind
    title: str
    project: Project
    since: datetime
    url: str
    deciders: list[str] = field(default_factory=list)
    yours: bool = True
    due: date | None = None
    overdue: bool = False
    returned: bool = False  # asset requests sent back with a note


@dataclass(frozen=True)
class Deadline:
    """The next date something is due on a project."""

    title: str
    due: date
    url: str


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
    attention: list[AttentionItem]


def client_home(viewer: User, projects: Sequence[Project], now: datetime) -> ClientHome:
    """Return the client's home for ``projects`` (those ``viewer`` may see), in a constant number of queries."""
    if not projects:
        return ClientHome(cards=[], attention=[])
    ids = [p.id for p in projects]
    by_id = {p.id: p for p in projects}
    todays = {p.id: local_today(p.timezone, now) for p in projects}
    health = health_for(projects, now)
    latest = latest_updates(ids)
    deadlines = next_deadlines(projects, todays)
    cards = [ProjectCard(p, health[p.id], latest.get(p.id), deadlines.get(p.id)) for p in projects]
    approvers = _approvers(ids)
    items = [
        *_reviews(viewer, ids, by_id, approvers, todays),
        *_signatures(viewer, ids, by_id, approvers),
        *_assumptions(viewer, ids, by_id, approvers),
        *_closures(viewer, ids, by_id, approvers),
        *_asset_requests(ids, by_id, todays),
        *_acknowledgements(viewer, ids, by_id),
    ]
    order = list(AttentionKind)
    items.sort(key=lambda item: (item.since, order.index(item.kind), item.title))
    return ClientHome(cards=cards, attention=items)


# --- Cards ------------------------------------------------------------------------------------


def latest_updates(project_ids: Sequence[int]) -> dict[int, Update]:
    """Return each project's latest published update (one query)."""
    ranked = (
        select(
            Update.id,
            func.row_number()
            .over(partition_by=Update.project_id, order_by=(Update.published_at.desc(), Update.id.desc()))
            .label("rank"),
        )
        .where(Update.project_id.in_(project_ids), Update.status == UpdateStatus.PUBLISHED)
        .subquery()
    )
    rows = db.session.scalars(select(Update).join(ranked, ranked.c.id == Update.id).where(ranked.c.rank == 1))
    return {update.project_id: update for update in rows}


def next_deadlines(projects: Sequence[Project], todays: dict[int, date]) -> dict[int, Deadline]:
    """Return each project's next due date from today on: deliverables, asset requests, goals (three queries)."""
    ids = [p.id for p in projects]
    earliest = min(todays.values())
    candidates: list[tuple[int, date, str, str]] = []
    for row in db.session.execute(
        select(Deliverable.project_id, Deliverable.due_date, Deliverable.title, Deliverable.id).where(
            Deliverable.project_id.in_(ids), Deliverable.status != DeliverableStatus.APPROVED, Deliverable.due_date >= earliest
        )
    ):
        candidates.append((row.project_id, row.due_date, row.title, url_for("deliverables.show", deliverable_id=row.id)))
    for row in db.session.execute(
        select(AssetRequest.project_id, AssetRequest.due_date, AssetRequest.title, AssetRequest.id).where(
            AssetRequest.project_id.in_(ids),
            AssetRequest.status.in_((AssetRequestStatus.OPEN, AssetRequestStatus.RETURNED, AssetRequestStatus.SUBMITTED)),
            AssetRequest.due_date >= earliest,
        )
    ):
        candidates.append((row.project_id, row.due_date, row.title, url_for("assets.show_request", request_id=row.id)))
    for row in db.session.execute(
        select(Goal.project_id, GoalRevision.target_date, GoalRevision.title, Goal.id)
        .join(GoalRevision, and_(GoalRevision.goal_id == Goal.id, GoalRevision.number == Goal.agreed_number))
        .where(Goal.project_id.in_(ids), Goal.state == GoalState.AGREED, GoalRevision.target_date >= earliest)
    ):
        candidates.append((row.project_id, row.target_date, row.title, url_for("goals.show", goal_id=row.id)))
    found: dict[int, Deadline] = {}
    for project_id, due, title, url in sorted(candidates, key=lambda c: (c[1], c[2])):
        if project_id not in found and due >= todays[project_id]:
            found[project_id] = Deadline(title=title, due=due, url=url)
    return found


# --- Needs your attention ---------------------------------------------------------------------


def _approvers(project_ids: Sequence[int]) -> dict[int, list[User]]:
    """Return each project's client approvers (one query)."""
    found: dict[int, list[User]] = defaultdict(list)
    for member in db.session.scalars(
        select(ProjectMember)
        .where(ProjectMember.project_id.in_(project_ids), ProjectMember.is_approver.is_(True))
        .options(joinedload(ProjectMember.user))
        .order_by(ProjectMember.id)
    ):
        if member.user.active:
            found[member.project_id].append(member.user)
    return found


def _reviews(
    viewer: User, ids: Sequence[int], by_id: dict[int, Project], approvers: dict[int, list[User]], todays: dict[int, date]
) -> list[AttentionItem]:
    """Deliverable versions waiting for the client's decision, with who still has to decide (two queries)."""
    rows = db.session.execute(
        select(Deliverable, DeliverableVersion)
        .join(
            DeliverableVersion,
            and_(DeliverableVersion.deliverable_id == Deliverable.id, DeliverableVersion.number == Deliverable.current_number),
        )
        .where(
            Deliverable.project_id.in_(ids),
            Deliverable.status == DeliverableStatus.IN_REVIEW,
            DeliverableVersion.status == VersionStatus.IN_REVIEW,
        )
    ).all()
    if not rows:
        return []
    decided: dict[int, set[int]] = defaultdict(set)
    for version_id, approver_id in db.session.execute(
        select(Decision.version_id, Decision.approver_id).where(Decision.version_id.in_([v.id for _d, v in rows]))
    ):
        decided[version_id].add(approver_id)
    items = []
    for deliverable, version in rows:
        project = by_id[deliverable.project_id]
        people = approvers.get(project.id, [])
        if project.approval_rule is ApprovalRule.ALL:
            people = [p for p in people if p.id not in decided[version.id]]
        items.append(
            AttentionItem(
                kind=AttentionKind.REVIEW,
                title=_("%(title)s, version %(number)s", title=deliverable.title, number=version.number),
                project=project,
                since=version.submitted_at or version.created_at,
                url=url_for("deliverables.show", deliverable_id=deliverable.id),
                deciders=[p.display_name for p in people],
                yours=any(p.id == viewer.id for p in people),
                due=deliverable.due_date,
                overdue=deliverable.is_overdue(todays[project.id]),
            )
        )
    return items


def _signatures(viewer: User, ids: Sequence[int], by_id: dict[int, Project], approvers: dict[int, list[User]]) -> list[AttentionItem]:
    """Goals whose latest proposal waits for the client's signature (one query)."""
    items = []
    for goal, revision in goals.awaiting_signature(Side.CLIENT, ids):
        people = approvers.get(goal.project_id, [])
        items.append(
            AttentionItem(
                kind=AttentionKind.SIGN,
                title=revision.title,
                project=by_id[goal.project_id],
                since=revision.created_at,
                url=url_for("goals.show", goal_id=goal.id),
                deciders=[p.display_name for p in people],
                yours=any(p.id == viewer.id for p in people),
            )
        )
    return items


def _assumptions(viewer: User, ids: Sequence[int], by_id: dict[int, Project], approvers: dict[int, list[User]]) -> list[AttentionItem]:
    """The agency's assumptions the client has not answered yet, on open goals (one query)."""
    rows = db.session.execute(
        select(GoalAssumption, Goal.project_id, GoalRevision.title)
        .join(Goal, Goal.id == GoalAssumption.goal_id)
        .join(GoalRevision, and_(GoalRevision.goal_id == Goal.id, GoalRevision.number == Goal.current_number))
        .where(
            Goal.project_id.in_(ids),
            Goal.state.in_((GoalState.PROPOSED, GoalState.AGREED)),
            GoalAssumption.side == Side.AGENCY,
            GoalAssumption.status == AssumptionStatus.OPEN,
            GoalAssumption.removed_in.is_(None),
        )
    ).all()
    items = []
    for assumption, project_id, goal_title in rows:
        people = approvers.get(project_id, [])
        items.append(
            AttentionItem(
                kind=AttentionKind.ASSUMPTION,
                title=_("“%(assumption)s” (goal: %(goal)s)", assumption=assumption.text, goal=goal_title),
                project=by_id[project_id],
                since=assumption.created_at,
                url=url_for("goals.show", goal_id=assumption.goal_id, _anchor="assumptions"),
                deciders=[p.display_name for p in people],
                yours=any(p.id == viewer.id for p in people),
            )
        )
    return items


def _closures(viewer: User, ids: Sequence[int], by_id: dict[int, Project], approvers: dict[int, list[User]]) -> list[AttentionItem]:
    """The agency asks to close a goal as missed or dropped: it needs the client's answer (one query)."""
    rows = db.session.execute(
        select(GoalClosure, Goal.project_id, GoalRevision.title)
        .join(Goal, Goal.id == GoalClosure.goal_id)
        .join(GoalRevision, and_(GoalRevision.goal_id == Goal.id, GoalRevision.number == Goal.current_number))
        .where(
            Goal.project_id.in_(ids),
            Goal.state == GoalState.AGREED,
            GoalClosure.status == ClosureStatus.PENDING,
            GoalClosure.side == Side.AGENCY,
        )
    ).all()
    items = []
    for closure, project_id, goal_title in rows:
        people = approvers.get(project_id, [])
        title = (
            _("Close “%(goal)s” as missed?", goal=goal_title)
            if closure.outcome is CloseOutcome.MISSED
            else _("Drop “%(goal)s”?", goal=goal_title)
        )
        items.append(
            AttentionItem(
                kind=AttentionKind.CLOSURE,
                title=title,
                project=by_id[project_id],
                since=closure.created_at,
                url=url_for("goals.show", goal_id=closure.goal_id),
                deciders=[p.display_name for p in people],
                yours=any(p.id == viewer.id for p in people),
            )
        )
    return items


def _asset_requests(ids: Sequence[int], by_id: dict[int, Project], todays: dict[int, date]) -> list[AttentionItem]:
    """Asset requests waiting for the client's files: open since requested, returned since the note (one query)."""
    returned_at = (
        select(AssetReview.request_id, func.max(AssetReview.created_at).label("at"))
        .where(AssetReview.decision == ReviewDecision.RETURNED)
        .group_by(AssetReview.request_id)
        .subquery()
    )
    rows = db.session.execute(
        select(AssetRequest, returned_at.c.at)
        .outerjoin(returned_at, returned_at.c.request_id == AssetRequest.id)
        .where(AssetRequest.project_id.in_(ids), AssetRequest.status.in_((AssetRequestStatus.OPEN, AssetRequestStatus.RETURNED)))
    ).all()
    items = []
    for asset_request, returned in rows:
        returned_flag = asset_request.status is AssetRequestStatus.RETURNED
        since = _as_utc(returned) if returned_flag and returned is not None else asset_request.created_at
        items.append(
            AttentionItem(
                kind=AttentionKind.ASSET,
                title=asset_request.title,
                project=by_id[asset_request.project_id],
                since=since,
                url=url_for("assets.show_request", request_id=asset_request.id),
                due=asset_request.due_date,
                overdue=asset_request.is_overdue(todays[asset_request.project_id]),
                returned=returned_flag,
            )
        )
    return items


def _acknowledgements(viewer: User, ids: Sequence[int], by_id: dict[int, Project]) -> list[AttentionItem]:
    """Each project's latest weekly update, if the viewer has not answered it yet (one query).

    Only the latest counts: an older week is superseded by the newer one.
    """
    ranked = (
        select(
            Update.id,
            func.row_number()
            .over(partition_by=Update.project_id, order_by=(Update.published_at.desc(), Update.id.desc()))
            .label("rank"),
        )
        .where(Update.project_id.in_(ids), Update.status == UpdateStatus.PUBLISHED, Update.kind == UpdateKind.WEEKLY)
        .subquery()
    )
    answered = select(UpdateAcknowledgement.id).where(
        UpdateAcknowledgement.update_id == Update.id, UpdateAcknowledgement.user_id == viewer.id
    )
    rows = db.session.scalars(
        select(Update).join(ranked, ranked.c.id == Update.id).where(ranked.c.rank == 1, ~answered.exists())
    ).all()
    return [
        AttentionItem(
            kind=AttentionKind.ACKNOWLEDGE,
            title=update.title or _("Weekly update"),
            project=by_id[update.project_id],
            since=update.published_at or update.created_at,
            url=url_for("updates.show", project_id=update.project_id, update_id=update.id, _anchor=f"ack-{update.id}"),
        )
        for update in rows
    ]


def _as_utc(value: datetime) -> datetime:
    """Return an aggregate's datetime as aware UTC (aggregates may come back naive)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
