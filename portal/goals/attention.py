"""What goals put on the home pages: signatures, assumptions and closures the client owes, goals off track, agreements missing a signature."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import Label, and_, exists, func, or_, select

from portal.attention import ClientItem, ClientScope, Deadline, Group, Item, StaffScope
from portal.extensions import db
from portal.goals.progress import GoalStatus, ProgressStatus, statuses_for_projects
from portal.goals.queries import awaiting_signature
from portal.models import (
    AssumptionStatus,
    CloseOutcome,
    ClosureStatus,
    Goal,
    GoalAssumption,
    GoalClosure,
    GoalRevision,
    GoalSignature,
    GoalState,
    Project,
    Side,
)
from portal.timeutil import day_start, local_today

# --- The client's turn ------------------------------------------------------------------------


def signatures(scope: ClientScope) -> list[ClientItem]:
    """Goals whose latest proposal waits for the client's signature (one query)."""
    return [
        ClientItem(
            kind="sign",
            title=revision.title,
            project=scope.by_id[goal.project_id],
            since=revision.created_at,
            url=url_for("goals.show", goal_id=goal.id),
            **scope.for_approvers(goal.project_id),
        )
        for goal, revision in awaiting_signature(Side.CLIENT, scope.ids)
    ]


def assumptions(scope: ClientScope) -> list[ClientItem]:
    """The agency's assumptions the client has not answered yet, on open goals (one query)."""
    rows = db.session.execute(
        select(GoalAssumption, Goal.project_id, GoalRevision.title)
        .join(Goal, Goal.id == GoalAssumption.goal_id)
        .join(GoalRevision, and_(GoalRevision.goal_id == Goal.id, GoalRevision.number == Goal.current_number))
        .where(
            Goal.project_id.in_(scope.ids),
            Goal.state.in_((GoalState.PROPOSED, GoalState.AGREED)),
            GoalAssumption.side == Side.AGENCY,
            GoalAssumption.status == AssumptionStatus.OPEN,
            GoalAssumption.removed_in.is_(None),
        )
    ).all()
    return [
        ClientItem(
            kind="assumption",
            title=_("“%(assumption)s” (goal: %(goal)s)", assumption=assumption.text, goal=goal_title),
            project=scope.by_id[project_id],
            since=assumption.created_at,
            url=url_for("goals.show", goal_id=assumption.goal_id, _anchor="assumptions"),
            **scope.for_approvers(project_id),
        )
        for assumption, project_id, goal_title in rows
    ]


def closures(scope: ClientScope) -> list[ClientItem]:
    """The agency asks to close a goal as missed or dropped: it needs the client's answer (one query)."""
    rows = db.session.execute(
        select(GoalClosure, Goal.project_id, GoalRevision.title)
        .join(Goal, Goal.id == GoalClosure.goal_id)
        .join(GoalRevision, and_(GoalRevision.goal_id == Goal.id, GoalRevision.number == Goal.current_number))
        .where(
            Goal.project_id.in_(scope.ids),
            Goal.state == GoalState.AGREED,
            GoalClosure.status == ClosureStatus.PENDING,
            GoalClosure.side == Side.AGENCY,
        )
    ).all()
    return [
        ClientItem(
            kind="closure",
            title=(
                _("Close “%(goal)s” as missed?", goal=goal_title)
                if closure.outcome is CloseOutcome.MISSED
                else _("Drop “%(goal)s”?", goal=goal_title)
            ),
            project=scope.by_id[project_id],
            since=closure.created_at,
            url=url_for("goals.show", goal_id=closure.goal_id),
            **scope.for_approvers(project_id),
        )
        for closure, project_id, goal_title in rows
    ]


# --- The agency's turn ------------------------------------------------------------------------


def off_track(scope: StaffScope) -> Group:
    """Agreed goals off track on their project's today, the furthest behind first.

    Reads the stored statuses (``portal.goals.stored``) in SQL, the shown goals and their
    count; the projects with an agreed goal not fresh for their today are computed on the
    spot instead, as ``stored.statuses`` does (none once the refresh job has run).
    """
    kind = "goal_off_track"
    fresh = scope.each_today(lambda today: Goal.progress_on == today)
    stale = dict(
        db.session.execute(
            select(Goal.project_id, Project.timezone)
            .join(Project, Project.id == Goal.project_id)
            .where(
                scope.visible,
                Goal.state == GoalState.AGREED,
                or_(Goal.progress_status.is_(None), Goal.progress_on.is_(None), ~fresh),
            )
            .distinct()
        ).all()
    )
    query = (
        select(Goal.id, Goal.project_id, Goal.progress_on, Goal.progress_behind, Goal.progress_measured_on, GoalRevision.title)
        .join(GoalRevision, and_(GoalRevision.goal_id == Goal.id, GoalRevision.number == Goal.agreed_number))
        .where(
            Goal.state == GoalState.AGREED,
            Goal.progress_status == ProgressStatus.OFF_TRACK.value,
            GoalRevision.measure.is_not(None),
            GoalRevision.title.is_not(None),
        )
    )
    if stale:
        query = query.where(Goal.project_id.not_in(stale))
    rows, total = scope.rows(
        scope.with_project(query, Goal.project_id).where(fresh).order_by(func.coalesce(Goal.progress_behind, 0).desc(), Goal.id), kind, Goal.id
    )
    projects = {row.Project.id: row.Project for row in rows}
    off = [GoalStatus(row.id, row.project_id, row.progress_on, ProgressStatus.OFF_TRACK, row.title, row.progress_behind, row.progress_measured_on)
           for row in rows]
    if stale:
        todays = {project_id: scope.zones.get(zone) or local_today(zone, scope.now) for project_id, zone in stale.items()}
        computed = [
            goal
            for goal in statuses_for_projects(sorted(stale), todays, states=(GoalState.AGREED,))
            if goal.status is ProgressStatus.OFF_TRACK and goal.title is not None
        ]
        total += len(computed)
        off = sorted(off + computed, key=lambda goal: (-(goal.behind_percent or 0), goal.goal_id))[: scope.limit(kind)]
        projects |= scope.projects_of({goal.project_id for goal in off} - projects.keys())
    items = []
    for goal in off:
        project = projects[goal.project_id]
        items.append(
            Item(
                kind,
                goal.title or "",  # never None: untitled goals are not listed
                project,
                day_start(goal.measured_on, project.timezone) if goal.measured_on else None,
                "goals.show",
                {"goal_id": goal.goal_id},
                {"behind": goal.behind_percent, "goal_id": goal.goal_id},
            )
        )
    return scope.group(kind, items, total)


def awaiting_agreement(scope: StaffScope) -> Group:
    """Goal proposals (new goals or new terms) missing a signature, with whose, oldest proposal first."""
    kind = "goal_agreement"

    def signed(side: Side) -> Label[bool]:
        """Return a column telling whether ``side`` signed the current revision."""
        return exists().where(GoalSignature.revision_id == GoalRevision.id, GoalSignature.side == side).label(f"{side.value}_signed")

    rows, total = scope.rows(
        scope.with_project(
            select(Goal, GoalRevision, signed(Side.AGENCY), signed(Side.CLIENT))
            .join(GoalRevision, and_(GoalRevision.goal_id == Goal.id, GoalRevision.number == Goal.current_number))
            .where(
                Goal.state.in_([GoalState.PROPOSED, GoalState.AGREED]),
                or_(Goal.agreed_number.is_(None), Goal.agreed_number != Goal.current_number),
                GoalRevision.declined_at.is_(None),
            ),
            Goal.project_id,
        ).order_by(GoalRevision.created_at, Goal.id),
        kind,
        Goal.id,
    )
    items = []
    for goal, revision, agency_signed, client_signed, project, _total in rows:
        missing = [side.value for side, done in ((Side.AGENCY, agency_signed), (Side.CLIENT, client_signed)) if not done]
        items.append(
            Item(
                kind,
                revision.title,
                project,
                revision.created_at,
                "goals.show",
                {"goal_id": goal.id},
                {"missing": missing, "number": revision.number, "change": goal.agreed_number is not None},
            )
        )
    return scope.group(kind, items, total)


# --- Deadlines --------------------------------------------------------------------------------


def target_dates(project_ids: Sequence[int], earliest: date) -> list[Deadline]:
    """The target dates of agreed goals, from ``earliest`` on (one query)."""
    rows = db.session.execute(
        select(Goal.project_id, GoalRevision.target_date, GoalRevision.title, Goal.id)
        .join(GoalRevision, and_(GoalRevision.goal_id == Goal.id, GoalRevision.number == Goal.agreed_number))
        .where(Goal.project_id.in_(project_ids), Goal.state == GoalState.AGREED, GoalRevision.target_date >= earliest)
    )
    return [Deadline(row.project_id, row.target_date, row.title, url_for("goals.show", goal_id=row.id)) for row in rows]
