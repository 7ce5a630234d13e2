"""Goal charter operations: propose, counter-propose, sign, decline, answer, check in, close.

Every function takes the actor explicitly, adds rows, writes an activity event and
queues emails to the other side in the caller's transaction; the caller commits once.
What the terms may say is checked in :mod:`portal.goals.terms`, the emails are queued
by :mod:`portal.goals.notifications`, and the pages read through :mod:`portal.goals.queries`.

Two sides act on a goal: the **agency** (the project's account manager or an admin)
and the **client** (a client approver of the project). Other client members read
and comment. A goal is agreed only when one revision carries both sides'
signatures; every change to who signed what claims the goal's version first
(``UPDATE goals SET version = version + 1 WHERE id = :id AND version = :seen``), so
of two simultaneous decisions one wins and the other gets a Conflict.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import activity
from portal.access import can_manage_project, is_client_member, is_project_approver
from portal.claims import claim
from portal.errors import Conflict, DomainError, NotAllowed
from portal.extensions import db
from portal.goals.notifications import notify
from portal.goals.progress import goal_progress
from portal.goals.terms import MAX_TEXT, TERM_FIELDS, Terms, check_terms
from portal.goals.units import MAX_ABS_VALUE
from portal.models import (
    ActivityEvent,
    AssumptionStatus,
    CloseOutcome,
    ClosureStatus,
    Goal,
    GoalAssumption,
    GoalCheckIn,
    GoalClosure,
    GoalComment,
    GoalRevision,
    GoalSignature,
    GoalState,
    MeasureKind,
    Project,
    Side,
    User,
)
from portal.timeutil import project_today, utcnow

# --- Who is who ------------------------------------------------------------------


def side_of(user: User, project: Project) -> Side | None:
    """Return the side ``user`` signs for on ``project``: agency, client (approvers), or None."""
    if can_manage_project(user, project):
        return Side.AGENCY
    if is_project_approver(user, project):
        return Side.CLIENT
    return None


def client_signers(project: Project) -> list[User]:
    """Return the people who may sign ``project``'s goals for the client: its active client approvers, in membership order."""
    return [m.user for m in project.members if m.user.active and side_of(m.user, project) is Side.CLIENT]


def is_participant(user: User, project: Project) -> bool:
    """Tell whether ``user`` takes part in ``project``'s goals (reads and comments): its staff or a client member."""
    return can_manage_project(user, project) or is_client_member(user, project)


def is_open(goal: Goal) -> bool:
    """Tell whether ``goal`` may still change: it is not closed and its project is not archived."""
    return not goal.state.is_closed and not goal.project.is_archived


def can_propose(user: User, project: Project) -> bool:
    """Tell whether ``user`` may propose a goal on ``project``: they sign for a side and the project is not archived."""
    return side_of(user, project) is not None and not project.is_archived


def can_act(user: User, goal: Goal) -> bool:
    """Tell whether ``user`` may act on ``goal`` now (sign, decline, counter-propose, answer, close): they sign for a side and it is open."""
    return side_of(user, goal.project) is not None and is_open(goal)


def can_check_in(user: User, goal: Goal) -> bool:
    """Tell whether ``user`` may record a check-in on ``goal`` now: the agency's side, on an agreed goal of a project not archived."""
    return side_of(user, goal.project) is Side.AGENCY and goal.state is GoalState.AGREED and is_open(goal)


def _require_side(actor: User, project: Project) -> Side:
    """Return the side ``actor`` acts for on ``project``, or refuse with NotAllowed saying why not."""
    if not actor.active:
        raise NotAllowed(_l("Your account is not active."))
    side = side_of(actor, project)
    if side is None:
        if is_participant(actor, project):
            raise NotAllowed(_l("Only the account manager and the client's approvers sign goals. You can read and comment."))
        raise NotAllowed(_l("Only members of this project act on its goals."))
    return side


def _require_open(goal: Goal) -> None:
    """Refuse any change to a closed goal or to a goal of an archived project."""
    if goal.state.is_closed:
        raise DomainError(_l("This goal is closed: it can no longer change."))
    if goal.project.is_archived:
        raise DomainError(_l("This project is archived: its goals can no longer change."))


def _new_revision(goal: Goal, number: int, terms: Terms, actor: User, side: Side, note: str) -> GoalRevision:
    """Add revision ``number`` with ``terms``, signed by the proposer's side."""
    revision = GoalRevision(
        goal=goal,
        number=number,
        proposed_by=actor,
        side=side,
        note=note.strip()[:MAX_TEXT],
        **{name: getattr(terms, name) for name in TERM_FIELDS},
    )
    db.session.add(revision)
    # The proposer's signature is implied.
    db.session.add(GoalSignature(revision=revision, side=side, user=actor, implied=True, signed_at=utcnow()))
    return revision


def _record(actor: User, verb: str, goal: Goal, **data: Any) -> ActivityEvent:
    """Add the activity event of ``actor`` doing ``verb`` to ``goal``."""
    return activity.record(actor, verb, goal, project=goal.project, data=data)


# --- Concurrency -------------------------------------------------------------------


def _stale(current: int | None) -> Conflict:
    """Return the Conflict that names the revision now current."""
    return Conflict(
        _l(
            "This goal changed in the meantime: revision %(number)s is now the current one. Read it, then decide again.",
            number=current,
        )
    )


def _claim(goal: Goal) -> None:
    """Take the goal's next version, or raise Conflict when someone changed it since it was read.

    The conditional UPDATE waits for a concurrent writer (row lock on PostgreSQL,
    the database lock on SQLite) and then matches nothing: the later of two
    simultaneous decisions is refused instead of mixing signatures of two revisions.
    """
    if not claim(goal, Goal.version):
        raise _stale(db.session.scalar(select(Goal.current_number).where(Goal.id == goal.id)))


def _current(goal: Goal, seen: int) -> GoalRevision:
    """Return the current revision if it is the one the actor saw, else raise Conflict naming it."""
    if seen != goal.current_number:
        raise _stale(goal.current_number)
    return goal.current_revision


# --- Proposing and agreeing --------------------------------------------------------


def propose_goal(actor: User, project: Project, terms: Terms, *, today: date | None = None) -> Goal:
    """Propose a new goal on ``project`` (revision 1, signed by the proposer's side); the caller commits."""
    side = _require_side(actor, project)
    if project.is_archived:
        raise DomainError(_l("This project is archived: its goals can no longer change."))
    terms = check_terms(terms, today or project_today(project))
    goal = Goal(project=project, created_by=actor, state=GoalState.PROPOSED, current_number=1, version=1)
    db.session.add(goal)
    revision = _new_revision(goal, 1, terms, actor, side, note="")
    for text in terms.assumptions:
        db.session.add(GoalAssumption(goal=goal, text=text, side=side, added_in=1))
    db.session.flush()
    _record(actor, "goal.proposed", goal, revision=1, side=side.value, title=revision.title)
    notify(goal, actor, side.other, kind="goal_proposed", key=f"goal:{goal.id}:r1:proposed", template="emails/goal_proposed.html", revision=revision)
    return goal


def revise_goal(
    actor: User, goal: Goal, terms: Terms, *, seen: int, note: str = "", today: date | None = None
) -> GoalRevision:
    """Propose new terms for ``goal`` (a counter-proposal): a new revision; earlier signatures no longer count.

    ``seen`` is the revision number the actor's edit started from. An agreed goal
    keeps its agreed revision in force until both sides sign the new one.
    """
    side = _require_side(actor, goal.project)
    _require_open(goal)
    current = _current(goal, seen)
    if goal.pending_closure is not None:
        raise DomainError(_l("A request to close this goal waits for an answer. Settle it before changing the terms."))
    terms = check_terms(terms, today or project_today(goal.project))
    active = goal.active_assumptions
    if terms.same_as(Terms.of(current, [a.text for a in active])) and current.declined_at is None:
        raise DomainError(_l("Nothing changed. Change at least one term, or agree to the current revision."))
    _claim(goal)
    number = goal.current_number + 1
    revision = _new_revision(goal, number, terms, actor, side, note)
    kept = {a.text.casefold(): a for a in active}
    wanted = {text.casefold() for text in terms.assumptions}
    for assumption in active:
        if assumption.text.casefold() not in wanted:
            assumption.removed_in = number
    for text in terms.assumptions:
        if text.casefold() not in kept:
            db.session.add(GoalAssumption(goal=goal, text=text, side=side, added_in=number))
    goal.current_number = number
    if goal.state is GoalState.DECLINED:
        goal.state = GoalState.PROPOSED
    db.session.flush()
    _record(actor, "goal.revised", goal, revision=number, side=side.value, previous=current.number)
    notify(
        goal,
        actor,
        side.other,
        kind="goal_revised",
        key=f"goal:{goal.id}:r{number}:proposed",
        template="emails/goal_revised.html",
        revision=revision,
        previous=current,
    )
    return revision


def sign_revision(actor: User, goal: Goal, *, seen: int) -> GoalSignature:
    """Sign the current revision for the actor's side; with both sides on it, the goal is agreed.

    ``seen`` is the revision number the signer read: a newer one is refused with a
    Conflict naming it, so nobody signs terms they have not seen.
    """
    side = _require_side(actor, goal.project)
    _require_open(goal)
    revision = _current(goal, seen)
    if revision.declined_at is not None:
        raise DomainError(_l("Revision %(number)s was declined. Propose new terms instead.", number=revision.number))
    if revision.signature(side) is not None:
        raise DomainError(_l("Your side has already signed revision %(number)s.", number=revision.number))
    _claim(goal)
    now = utcnow()
    signature = GoalSignature(revision=revision, side=side, user=actor, signed_at=now)
    db.session.add(signature)
    agreed = revision.signature(side.other) is not None
    if agreed:
        revision.agreed_at = now
        revision.agreed_on = project_today(goal.project)
        goal.agreed_number = revision.number
        goal.state = GoalState.AGREED
    db.session.flush()
    _record(actor, "goal.agreed" if agreed else "goal.signed", goal, revision=revision.number, side=side.value)
    notify(
        goal,
        actor,
        side.other,
        kind="goal_signed",
        key=f"goal:{goal.id}:r{revision.number}:signed:{side.value}",
        template="emails/goal_signed.html",
        approvers_only=not agreed,
        revision=revision,
        agreed=agreed,
    )
    return signature


def decline_revision(actor: User, goal: Goal, *, seen: int, reason: str) -> GoalRevision:
    """Decline the other side's current proposal with a reason; agreed terms, if any, stay in force."""
    side = _require_side(actor, goal.project)
    _require_open(goal)
    revision = _current(goal, seen)
    reason = reason.strip()
    if revision.declined_at is not None:
        raise DomainError(_l("Revision %(number)s was already declined.", number=revision.number))
    if revision.is_agreed:
        raise DomainError(_l("Revision %(number)s is agreed. To change it, propose new terms.", number=revision.number))
    if revision.signature(side) is not None:
        raise DomainError(
            _l("Your side proposed or signed revision %(number)s. Propose new terms or drop the goal instead.", number=revision.number)
        )
    if not reason:
        raise DomainError(_l("Say why you decline, so the other side can answer."), field="reason")
    if len(reason) > MAX_TEXT:
        raise DomainError(_l("Keep this under %(num)d characters.", num=MAX_TEXT), field="reason")
    _claim(goal)
    revision.declined_at = utcnow()
    revision.declined_by = actor
    revision.decline_reason = reason
    if goal.agreed_number is None:
        goal.state = GoalState.DECLINED
    db.session.flush()
    _record(actor, "goal.declined", goal, revision=revision.number, side=side.value)
    notify(
        goal,
        actor,
        side.other,
        kind="goal_declined",
        key=f"goal:{goal.id}:r{revision.number}:declined",
        template="emails/goal_declined.html",
        revision=revision,
        reason=reason,
    )
    return revision


# --- Assumptions -------------------------------------------------------------------


def answer_assumption(actor: User, assumption: GoalAssumption, *, confirmed: bool, note: str = "") -> GoalAssumption:
    """Confirm or deny an assumption the other side wrote (a denial needs a note); the caller commits."""
    goal = assumption.goal
    side = _require_side(actor, goal.project)
    _require_open(goal)
    if assumption.removed_in is not None:
        raise DomainError(_l("This assumption was withdrawn in revision %(number)s.", number=assumption.removed_in))
    if assumption.side is side:
        raise NotAllowed(_l("Your side wrote this assumption: the other side confirms or denies it."))
    note = note.strip()
    if not confirmed and not note:
        raise DomainError(_l("Say what is not right, so the assumption can be fixed."), field="note")
    if len(note) > MAX_TEXT:
        raise DomainError(_l("Keep this under %(num)d characters.", num=MAX_TEXT), field="note")
    assumption.status = AssumptionStatus.CONFIRMED if confirmed else AssumptionStatus.DENIED
    assumption.answer_note = note
    assumption.answered_by = actor
    assumption.answered_at = utcnow()
    event = _record(actor, "goal.assumption_answered", goal, assumption=assumption.id, answer=assumption.status.value)
    db.session.flush()
    notify(
        goal,
        actor,
        side.other,
        kind="goal_assumption",
        key=f"goal:{goal.id}:assumption:{assumption.id}:event:{event.id}",
        template="emails/goal_assumption_answered.html",
        approvers_only=False,
        assumption=assumption,
    )
    return assumption


# --- Progress ------------------------------------------------------------------------


def record_check_in(
    actor: User,
    goal: Goal,
    *,
    measured_on: date | None,
    value: Decimal | None = None,
    done: bool | None = None,
    note: str = "",
    today: date | None = None,
) -> GoalCheckIn:
    """Record the actual value (or done / not done) of an agreed goal on a date; staff only."""
    side = _require_side(actor, goal.project)
    if side is not Side.AGENCY:
        raise NotAllowed(_l("Check-ins are recorded by the agency."))
    _require_open(goal)
    revision = goal.agreed_revision
    if goal.state is not GoalState.AGREED or revision is None:
        raise DomainError(_l("Check-ins start once both sides have agreed the goal."))
    today = today or project_today(goal.project)
    if measured_on is None:
        raise DomainError(_l("Enter the date of the measurement."), field="measured_on")
    if measured_on > today:
        raise DomainError(_l("The date cannot be in the future."), field="measured_on")
    first_agreed = min((r.agreed_on for r in goal.revisions if r.agreed_on is not None), default=today)
    if measured_on < first_agreed:
        raise DomainError(_l("The date cannot be before the goal was agreed."), field="measured_on")
    if revision.measure is MeasureKind.METRIC:
        if value is None:
            raise DomainError(_l("Enter the actual value."), field="value")
        if not value.is_finite() or abs(value) >= MAX_ABS_VALUE:
            raise DomainError(_l("Enter a number below one trillion."), field="value")
        done = None
    else:
        if done is None:
            raise DomainError(_l("Say whether it is done."), field="done")
        value = None
    note = note.strip()
    if len(note) > MAX_TEXT:
        raise DomainError(_l("Keep this under %(num)d characters.", num=MAX_TEXT), field="note")
    check_in = GoalCheckIn(
        goal=goal,
        revision_number=revision.number,
        measured_on=measured_on,
        value=value,
        done=done,
        note=note,
        recorded_by=actor,
    )
    db.session.add(check_in)
    db.session.flush()
    _record(actor, "goal.checked_in", goal, check_in=check_in.id, on=measured_on.isoformat())
    notify(
        goal,
        actor,
        Side.CLIENT,
        kind="goal_check_in",
        key=f"goal:{goal.id}:check-in:{check_in.id}",
        template="emails/goal_check_in.html",
        approvers_only=False,
        check_in=check_in,
        revision=revision,
        progress=goal_progress(goal, today),
    )
    return check_in


# --- Conversation ------------------------------------------------------------------


def add_comment(actor: User, goal: Goal, body: str) -> GoalComment:
    """Add a message to the goal's conversation; any member of the project may write."""
    if not actor.active or not is_participant(actor, goal.project):
        raise NotAllowed(_l("Only members of this project act on its goals."))
    body = body.strip()
    if not body:
        raise DomainError(_l("Write a message first."), field="body")
    if len(body) > MAX_TEXT:
        raise DomainError(_l("Keep this under %(num)d characters.", num=MAX_TEXT), field="body")
    comment = GoalComment(goal=goal, author=actor, body=body)
    db.session.add(comment)
    db.session.flush()
    _record(actor, "goal.commented", goal, comment=comment.id)
    # The other side hears of it: every client member (not only approvers) or the manager.
    to = Side.CLIENT if actor.is_staff else Side.AGENCY
    notify(
        goal,
        actor,
        to,
        kind="goal_comment",
        key=f"goal:{goal.id}:comment:{comment.id}",
        template="emails/goal_comment.html",
        approvers_only=False,
        comment=comment,
        revision=goal.current_revision,
    )
    return comment


# --- Closing -------------------------------------------------------------------------


def _finish(goal: Goal, outcome: CloseOutcome) -> None:
    """Close ``goal`` with ``outcome`` now."""
    goal.state = GoalState(outcome.value)
    goal.closed_at = utcnow()


def close_goal(actor: User, goal: Goal, *, outcome: CloseOutcome, reason: str = "", impact: str = "") -> GoalClosure:
    """Close a goal, or ask the other side to: missing or dropping an agreed goal needs both sides.

    Achieved (agreed goals) and dropping a goal that was never agreed take effect
    at once; missed and dropping an agreed goal wait for the other side's confirmation.
    """
    side = _require_side(actor, goal.project)
    _require_open(goal)
    reason, impact = reason.strip(), impact.strip()
    agreed = goal.agreed_number is not None
    if outcome in (CloseOutcome.ACHIEVED, CloseOutcome.MISSED) and not agreed:
        raise DomainError(_l("Only an agreed goal can be achieved or missed. Drop it instead."), field="outcome")
    if goal.pending_closure is not None:
        raise DomainError(_l("A request to close this goal already waits for an answer."))
    if outcome is not CloseOutcome.ACHIEVED and not reason:
        raise DomainError(_l("Give the reason."), field="reason")
    if outcome is CloseOutcome.MISSED and not impact:
        raise DomainError(_l("Say how this affects the client."), field="impact")
    for name, text in (("reason", reason), ("impact", impact)):
        if len(text) > MAX_TEXT:
            raise DomainError(_l("Keep this under %(num)d characters.", num=MAX_TEXT), field=name)
    _claim(goal)
    immediate = outcome is CloseOutcome.ACHIEVED or not agreed
    closure = GoalClosure(
        goal=goal,
        outcome=outcome,
        reason=reason,
        impact=impact,
        side=side,
        proposed_by=actor,
        status=ClosureStatus.CONFIRMED if immediate else ClosureStatus.PENDING,
    )
    db.session.add(closure)
    if immediate:
        _finish(goal, outcome)
    db.session.flush()
    _record(actor, "goal.closed" if immediate else "goal.close_proposed", goal, outcome=outcome.value, closure=closure.id)
    notify(
        goal,
        actor,
        side.other,
        kind="goal_closure",
        key=f"goal:{goal.id}:closure:{closure.id}:{closure.status.value}",
        template="emails/goal_closure.html",
        approvers_only=not immediate,
        closure=closure,
    )
    return closure


def answer_closure(actor: User, closure: GoalClosure, *, accept: bool) -> GoalClosure:
    """Confirm the other side's request to close the goal, or keep the goal open (the proposer may withdraw)."""
    goal = closure.goal
    side = _require_side(actor, goal.project)
    _require_open(goal)
    if closure.status is not ClosureStatus.PENDING:
        raise DomainError(_l("This request was already answered."))
    if accept and closure.side is side:
        raise NotAllowed(_l("Your side asked for this: the other side confirms it."))
    _claim(goal)
    closure.status = ClosureStatus.CONFIRMED if accept else ClosureStatus.REJECTED
    closure.answered_by = actor
    closure.answered_at = utcnow()
    if accept:
        _finish(goal, closure.outcome)
    db.session.flush()
    _record(actor, "goal.closed" if accept else "goal.closure_rejected", goal, outcome=closure.outcome.value, closure=closure.id)
    notify(
        goal,
        actor,
        side.other,
        kind="goal_closure",
        key=f"goal:{goal.id}:closure:{closure.id}:{closure.status.value}",
        template="emails/goal_closure.html",
        approvers_only=False,
        closure=closure,
    )
    return closure
