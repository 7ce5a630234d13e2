"""Writing the ledger: SQLAlchemy session listeners turn every dated commitment into promise rows.

No feature calls this module. Before each flush, :func:`before_flush` looks at the
deliverables, goals, asset requests and recovery steps whose dates or states change (and at
new plan acceptances) and moves or settles their promises, written by the same flush. After
it, :func:`after_flush` opens the promises of the sources just inserted (they have ids only
then); those rows go out with the next flush of the same commit. Each changed source costs
one query (its open promise), and only when it was written anyway.

See the package docstring for the rules (who owes what, when a date change counts as agreed).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, UOWTransaction

from portal.models import (
    AssetRequest,
    AssetRequestStatus,
    Deliverable,
    DeliverableStatus,
    Goal,
    GoalState,
    PlanAcceptance,
    Promise,
    PromiseEnd,
    PromiseKind,
    PromiseSide,
    RecoveryStep,
    Visibility,
)
from portal.timeutil import local_today, utcnow


def connect() -> None:
    """Listen to every session's flushes (once per process, however many apps are built)."""
    if not event.contains(Session, "before_flush", before_flush):
        event.listen(Session, "before_flush", before_flush)
    if not event.contains(Session, "after_flush", after_flush):
        event.listen(Session, "after_flush", after_flush)


def before_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    """Move or settle the promises of what this flush changes (changed promises must be written by this same flush)."""
    changed = [obj for obj in session.dirty if isinstance(obj, _WATCHED) and _touched(obj)]
    changed += [obj for obj in session.new if isinstance(obj, PlanAcceptance)]
    removed = [obj for obj in session.deleted if isinstance(obj, RecoveryStep)]
    if not changed and not removed:
        return
    now = utcnow()
    with session.no_autoflush:
        for obj in changed:
            _track(session, obj, now, fresh=False)
        for step in removed:
            _step_removed(session, step, now)


def after_flush(session: Session, _context: UOWTransaction) -> None:
    """Open the promises of what this flush added (only now do they have ids); the next flush of the commit writes them."""
    added = [obj for obj in session.new if isinstance(obj, _WATCHED) and not isinstance(obj, PlanAcceptance)]
    if not added:
        return
    now = utcnow()
    with session.no_autoflush:
        for obj in added:
            _track(session, obj, now, fresh=True)


def _track(session: Session, obj: Any, now: datetime, *, fresh: bool) -> None:
    """Follow one source (``fresh``: just inserted, so it has no promise yet)."""
    if isinstance(obj, Deliverable):
        _track_deliverable(session, obj, now, fresh)
    elif isinstance(obj, Goal):
        _track_goal(session, obj, now, fresh)
    elif isinstance(obj, AssetRequest):
        _track_asset_request(session, obj, now, fresh)
    elif isinstance(obj, RecoveryStep):
        _track_step(session, obj, now, fresh)
    else:
        _plan_accepted(session, obj, now)


# The columns whose change can open, move or settle a promise, per kind of source.
_COLUMNS: dict[type, tuple[str, ...]] = {
    Deliverable: ("due_date", "status", "approved_at", "title"),
    Goal: ("agreed_number", "state", "closed_at"),
    AssetRequest: ("due_date", "status", "submitted_at", "title"),
    RecoveryStep: ("due_on", "done_at", "title", "owner_is_client"),
    PlanAcceptance: (),
}
_WATCHED = tuple(_COLUMNS)


def _touched(obj: Any) -> bool:
    """Tell whether a changed object changed a column its promise follows (the scheduler touches goals' stored progress often)."""
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in _COLUMNS[type(obj)])


# --- One source each ---------------------------------------------------------------------------


def _track_deliverable(session: Session, d: Deliverable, now: datetime, fresh: bool) -> None:
    """An approval keeps the promise; a new date waits for the client's approvers to agree."""
    promise = None if fresh else open_promise(session, PromiseKind.DELIVERABLE, d.id)
    if d.status is DeliverableStatus.APPROVED:
        if promise is not None:
            settle(promise, PromiseEnd.KEPT, d.approved_at or now)
        return
    _follow(session, promise, PromiseKind.DELIVERABLE, d.id, d.project_id, d.project.timezone, PromiseSide.AGENCY, d.title, d.due_date, now, agreed=False)


def _track_goal(session: Session, goal: Goal, now: datetime, fresh: bool) -> None:
    """An agreed goal's target date is a promise; its dates only change through revisions both sides signed."""
    promise = None if fresh else open_promise(session, PromiseKind.GOAL, goal.id)
    revision = goal.agreed_revision
    if revision is None:
        return  # a proposal promises nothing yet
    if goal.state.is_closed:
        if promise is not None:
            at = goal.closed_at or now
            if goal.state is GoalState.ACHIEVED:
                settle(promise, PromiseEnd.KEPT, at)
            elif goal.state is GoalState.DROPPED and local_today(goal.project.timezone, at) <= promise.due_date:
                settle(promise, PromiseEnd.RENEGOTIATED, at)  # dropping an agreed goal takes both sides' signatures
            else:
                settle(promise, PromiseEnd.BROKEN, at)
        return
    _follow(
        session, promise, PromiseKind.GOAL, goal.id, goal.project_id, goal.project.timezone, PromiseSide.AGENCY,
        revision.title, revision.target_date, now, agreed=True,
    )


def _track_asset_request(session: Session, request: AssetRequest, now: datetime, fresh: bool) -> None:
    """The client keeps the promise by sending the files; the agency, owed the files, may move or drop the date."""
    promise = None if fresh else open_promise(session, PromiseKind.ASSET_REQUEST, request.id)
    if request.status in (AssetRequestStatus.SUBMITTED, AssetRequestStatus.ACCEPTED):
        if promise is not None:
            settle(promise, PromiseEnd.KEPT, request.submitted_at or now)
        return
    zone = request.project.timezone
    if request.status is AssetRequestStatus.CANCELLED:
        if promise is not None:
            late = local_today(zone, now) > promise.due_date
            settle(promise, PromiseEnd.BROKEN if late else PromiseEnd.RENEGOTIATED, now)
        return
    if request.status is AssetRequestStatus.RETURNED and promise is None:
        return  # sent once already: the promise was kept (a return asks for better files, not for a new promise)
    _follow(
        session, promise, PromiseKind.ASSET_REQUEST, request.id, request.project_id, zone, PromiseSide.CLIENT,
        request.title, request.due_date, now, agreed=True,
    )


def _track_step(session: Session, step: RecoveryStep, now: datetime, fresh: bool) -> None:
    """A step of a shared incident's plan: the owner keeps it by doing it; the agency's new dates wait for the client's acceptance."""
    incident = step.incident
    if incident is None or incident.visibility is not Visibility.SHARED:
        return
    promise = None if fresh else open_promise(session, PromiseKind.RECOVERY_STEP, step.id)
    if step.done_at is not None:
        if promise is not None:
            settle(promise, PromiseEnd.KEPT, step.done_at)
        return
    side = PromiseSide.CLIENT if step.owner_is_client else PromiseSide.AGENCY
    # A client's step is owed to the agency, which sets the dates: its change is agreed at once.
    agreed = side is PromiseSide.CLIENT
    _follow(
        session, promise, PromiseKind.RECOVERY_STEP, step.id, incident.project_id, incident.project.timezone, side, step.title, step.due_on, now, agreed=agreed,
    )


def _plan_accepted(session: Session, acceptance: PlanAcceptance, now: datetime) -> None:
    """The client accepting the plan agrees to the new dates of its steps proposed until then."""
    incident = acceptance.incident
    if incident is None or incident.id is None:
        return
    steps = select(RecoveryStep.id).where(RecoveryStep.incident_id == incident.id)
    zone = incident.project.timezone
    for promise in session.scalars(
        select(Promise).where(
            Promise.kind == PromiseKind.RECOVERY_STEP,
            Promise.source_id.in_(steps),
            Promise.ended.is_(None),
            Promise.proposed_at.is_not(None),
        )
    ):
        if local_today(zone, now) <= promise.due_date:
            renegotiate(session, promise, now, agreed_by_id=acceptance.user.id if acceptance.user else acceptance.user_id)


def _step_removed(session: Session, step: RecoveryStep, now: datetime) -> None:
    """A step taken out of the plan ends its promise: renegotiated before its date, broken after."""
    promise = open_promise(session, PromiseKind.RECOVERY_STEP, step.id)
    if promise is not None:
        late = local_today(promise.project.timezone, now) > promise.due_date
        settle(promise, PromiseEnd.BROKEN if late else PromiseEnd.RENEGOTIATED, now)


# --- The shared rules --------------------------------------------------------------------------


def open_promise(session: Session, kind: PromiseKind, source_id: int) -> Promise | None:
    """Return the open promise of one source (the latest), or None (one query)."""
    return session.scalars(
        select(Promise).where(Promise.kind == kind, Promise.source_id == source_id, Promise.ended.is_(None)).order_by(Promise.id.desc()).limit(1)
    ).first()


def settle(promise: Promise, end: PromiseEnd, at: datetime) -> None:
    """End ``promise`` as ``end`` at ``at``; a pending proposal lapses with it."""
    promise.ended = end
    promise.ended_at = at
    promise.proposed_at = None
    promise.proposed_due = None


def renegotiate(session: Session, promise: Promise, now: datetime, *, agreed_by_id: int | None = None) -> Promise | None:
    """End ``promise`` as renegotiated and open its successor at the agreed date (none when the date was dropped)."""
    new_due = promise.proposed_due if promise.proposed_at is not None else None
    promise.agreed_by_id = agreed_by_id
    settle(promise, PromiseEnd.RENEGOTIATED, now)
    if new_due is None:
        return None
    successor = Promise(
        project_id=promise.project_id, kind=promise.kind, source_id=promise.source_id, side=promise.side, title=promise.title, due_date=new_due
    )
    session.add(successor)
    return successor


def _follow(
    session: Session,
    promise: Promise | None,
    kind: PromiseKind,
    source_id: int,
    project_id: int,
    zone: str,
    side: PromiseSide,
    title: str,
    due: date | None,
    now: datetime,
    *,
    agreed: bool,
) -> None:
    """Keep the open promise in step with the source's due date ``due``.

    No promise yet: one is opened for the date (unless it already passed). The same date: nothing to do (a proposal
    back to the promised date is withdrawn). Another date before the promised one passed:
    renegotiated at once when ``agreed``, else proposed to the other side. After it passed:
    the promise is broken, and the new date is a new promise.
    """
    if promise is None:
        # A date already past promises nothing new (an approved deliverable reopened long after its date).
        if due is not None and due >= local_today(zone, now):
            session.add(Promise(project_id=project_id, kind=kind, source_id=source_id, side=side, title=title[:300], due_date=due))
        return
    promise.title = title[:300]
    if due == promise.due_date:
        promise.proposed_at = None
        promise.proposed_due = None
        return
    if local_today(zone, now) > promise.due_date:
        settle(promise, PromiseEnd.BROKEN, now)
        if due is not None:
            session.add(Promise(project_id=project_id, kind=kind, source_id=source_id, side=side, title=title[:300], due_date=due))
        return
    if promise.proposed_at is not None and promise.proposed_due == due:
        return
    promise.proposed_due = due
    promise.proposed_at = now
    if agreed:
        renegotiate(session, promise, now)
