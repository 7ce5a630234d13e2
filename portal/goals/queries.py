"""Read models for the goal pages and for other features' blocks: rows for lists, the goal page's loader.

Everything here reads; nothing adds or changes a row. List rows are built for many
goals at once in a constant number of queries (``count_queries`` tests hold them to it).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import CompoundSelect, Integer, and_, cast, func, literal_column, null, or_, select, union_all
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.goals.progress import GoalProgress, ProgressStatus, progress_for
from portal.models import (
    AssumptionStatus,
    ClosureStatus,
    Goal,
    GoalAssumption,
    GoalClosure,
    GoalComment,
    GoalRevision,
    GoalSignature,
    GoalState,
    Project,
    ProjectMember,
    Side,
)

# --- One goal ------------------------------------------------------------------------


def goal_page(goal_id: int) -> Goal:
    """Return goal ``goal_id`` with everything its page shows, freshly read (the caller checked access)."""
    return db.session.scalars(
        select(Goal)
        .where(Goal.id == goal_id)
        .options(
            joinedload(Goal.project).joinedload(Project.manager),
            joinedload(Goal.project).selectinload(Project.members).joinedload(ProjectMember.user),
            selectinload(Goal.revisions).options(
                selectinload(GoalRevision.signatures).joinedload(GoalSignature.user),
                joinedload(GoalRevision.proposed_by),
                joinedload(GoalRevision.declined_by),
            ),
            selectinload(Goal.assumptions).joinedload(GoalAssumption.answered_by),
            selectinload(Goal.check_ins),
            selectinload(Goal.comments).joinedload(GoalComment.author),
            selectinload(Goal.closures),
        )
        .execution_options(populate_existing=True)
    ).one()


def missing_sides(revision: GoalRevision) -> list[Side]:
    """Return the sides that have not signed ``revision`` yet."""
    return [side for side in (Side.AGENCY, Side.CLIENT) if revision.signature(side) is None]


# --- Lists -------------------------------------------------------------------------


class Group(enum.StrEnum):
    """Where a goal appears in lists, in the order lists show them (bad news first within "in progress")."""

    WAITING = "waiting"  # proposed, waiting for a signature
    IN_PROGRESS = "in_progress"  # agreed (a change may be pending)
    DECLINED = "declined"
    CLOSED = "closed"


_SEVERITY = {
    ProgressStatus.OFF_TRACK: 0,
    ProgressStatus.AT_RISK: 1,
    ProgressStatus.NO_DATA: 2,
    ProgressStatus.NOT_DONE: 3,
    ProgressStatus.ON_TRACK: 4,
    ProgressStatus.DONE: 5,
}


@dataclass(frozen=True)
class GoalRow:
    """What a list shows about one goal, loaded for many goals at once."""

    goal: Goal
    current: GoalRevision
    agreed: GoalRevision | None
    progress: GoalProgress
    waiting_for: list[Side]  # sides still to sign the latest proposal
    unconfirmed: int  # active assumptions not confirmed (open or denied)
    denied: int
    closure_pending: bool

    @property
    def terms(self) -> GoalRevision:
        """Return the terms in force, else the latest proposal."""
        return self.agreed or self.current

    @property
    def change_pending(self) -> bool:
        """Tell whether newer terms than the agreed ones wait for signatures."""
        return self.agreed is not None and bool(self.waiting_for)

    @property
    def group(self) -> Group:
        """Return the list group of this goal."""
        state = self.goal.state
        if state.is_closed:
            return Group.CLOSED
        if state is GoalState.DECLINED:
            return Group.DECLINED
        return Group.IN_PROGRESS if self.agreed is not None else Group.WAITING


def goal_rows(goals: Sequence[Goal], on: date) -> list[GoalRow]:
    """Return a row per goal with its revisions, signatures, progress and assumption flags, in constant queries."""
    ids = [g.id for g in goals]
    if not ids:
        return []
    revisions = db.session.scalars(
        select(GoalRevision)
        .join(
            Goal,
            and_(
                Goal.id == GoalRevision.goal_id,
                or_(GoalRevision.number == Goal.current_number, GoalRevision.number == Goal.agreed_number),
            ),
        )
        .where(Goal.id.in_(ids))
        .options(selectinload(GoalRevision.signatures))
    ).all()
    by_key = {(r.goal_id, r.number): r for r in revisions}
    agreed_terms = {g.id: by_key[(g.id, g.agreed_number)] for g in goals if g.agreed_number is not None and (g.id, g.agreed_number) in by_key}
    progress = progress_for(goals, on, agreed=agreed_terms)
    counts: dict[int, dict[AssumptionStatus, int]] = {}
    pending: set[int] = set()
    # The assumptions' counts by status and the pending closures, in one round trip (a closure's row has no status).
    flag_rows: CompoundSelect[Any] = union_all(
        select(GoalAssumption.goal_id.label("goal_id"), GoalAssumption.status.label("status"), func.count().label("number"))
        .where(GoalAssumption.goal_id.in_(ids), GoalAssumption.removed_in.is_(None))
        .group_by(GoalAssumption.goal_id, GoalAssumption.status),
        select(GoalClosure.goal_id, cast(null(), GoalAssumption.status.type), literal_column("0", Integer)).where(
            GoalClosure.goal_id.in_(ids), GoalClosure.status == ClosureStatus.PENDING
        ),
    )
    for goal_id, status, number in db.session.execute(flag_rows):
        if status is None:
            pending.add(goal_id)
        else:
            counts.setdefault(goal_id, {})[status] = number
    rows = []
    for goal in goals:
        current = by_key[(goal.id, goal.current_number)]
        agreed = by_key.get((goal.id, goal.agreed_number)) if goal.agreed_number is not None else None
        open_for_signature = (
            not goal.state.is_closed and goal.current_number != goal.agreed_number and current.declined_at is None
        )
        flags = counts.get(goal.id, {})
        rows.append(
            GoalRow(
                goal=goal,
                current=current,
                agreed=agreed,
                progress=progress[goal.id],
                waiting_for=missing_sides(current) if open_for_signature else [],
                unconfirmed=flags.get(AssumptionStatus.OPEN, 0) + flags.get(AssumptionStatus.DENIED, 0),
                denied=flags.get(AssumptionStatus.DENIED, 0),
                closure_pending=goal.id in pending,
            )
        )
    order = list(Group)
    rows.sort(
        key=lambda r: (
            order.index(r.group),
            _SEVERITY.get(r.progress.status, 9),
            r.terms.target_date,
            r.goal.id,
        )
    )
    return rows


def awaiting_signature(side: Side, project_ids: Sequence[int]) -> list[tuple[Goal, GoalRevision]]:
    """Return the goals of ``project_ids`` whose latest proposal waits for ``side``'s signature, oldest first."""
    if not project_ids:
        return []
    signed = (
        select(GoalSignature.id)
        .where(GoalSignature.revision_id == GoalRevision.id, GoalSignature.side == side)
        .exists()
    )
    rows = db.session.execute(
        select(Goal, GoalRevision)
        .join(GoalRevision, and_(GoalRevision.goal_id == Goal.id, GoalRevision.number == Goal.current_number))
        .where(
            Goal.project_id.in_(project_ids),
            Goal.state.in_([GoalState.PROPOSED, GoalState.AGREED]),
            GoalRevision.declined_at.is_(None),
            ~signed,
        )
        .order_by(GoalRevision.created_at, Goal.id)
    ).all()
    return [(goal, revision) for goal, revision in rows]


def project_rows(project: Project, on: date) -> list[GoalRow]:
    """Return a row for every goal of ``project`` on ``on``, in list order."""
    goals = db.session.scalars(select(Goal).where(Goal.project_id == project.id)).all()
    return goal_rows(goals, on)


def grouped(rows: list[GoalRow]) -> list[tuple[Group, list[GoalRow]]]:
    """Return the rows by group, in display order, leaving out empty groups."""
    return [(group, [r for r in rows if r.group is group]) for group in Group if any(r.group is group for r in rows)]
