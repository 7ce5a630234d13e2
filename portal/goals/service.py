"""Goal charter operations: propose, counter-propose, sign, decline, answer, check in, close.

Every function takes the actor explicitly, adds rows, writes an activity event and
queues emails to the other side in the caller's transaction; the caller commits once.

Two sides act on a goal: the **agency** (the project's account manager or an admin)
and the **client** (a client approver of the project). Other client members read
and comment. A goal is agreed only when one revision carries both sides'
signatures; every change to who signed what claims the goal's version first
(``UPDATE goals SET version = version + 1 WHERE id = :id AND version = :seen``), so
of two simultaneous decisions one wins and the other gets a Conflict.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from portal import activity
from portal.access import can_manage_project
from portal.errors import Conflict, DomainError, NotAllowed
from portal.extensions import db
from portal.goals.progress import (
    GoalProgress,
    ProgressStatus,
    goal_progress,
    progress_for,
)
from portal.goals.units import MAX_ABS_VALUE, is_unit
from portal.models import (
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
    Role,
    Side,
    User,
)
from portal.notify.service import queue_email
from portal.urls import portal_url
from portal.timeutil import project_today, utcnow

MAX_ASSUMPTIONS = 20
MAX_ASSUMPTION_LENGTH = 500
MAX_TEXT = 4000
MAX_TITLE = 200
MAX_METRIC_NAME = 120

# The fields of a revision that make up the terms, in the order the history shows them.
TERM_FIELDS = ("title", "why", "measure", "metric_name", "baseline", "target", "unit", "done_when", "target_date")


# --- Who is who ------------------------------------------------------------------


def side_of(user: User, project: Project) -> Side | None:
    """Return the side ``user`` signs for on ``project``: agency, client (approvers), or None."""
    if can_manage_project(user, project):
        return Side.AGENCY
    approver = any(m.user_id == user.id and m.is_approver for m in project.members)
    if user.role is Role.CLIENT and user.client_id == project.client_id and approver:
        return Side.CLIENT
    return None


def is_participant(user: User, project: Project) -> bool:
    """Tell whether ``user`` takes part in ``project``'s goals (reads and comments): its staff or a client member."""
    if can_manage_project(user, project):
        return True
    return user.role is Role.CLIENT and user.client_id == project.client_id and any(
        m.user_id == user.id for m in project.members
    )


def _require_side(actor: User, project: Project) -> Side:
    if not actor.active:
        raise NotAllowed(_l("Your account is not active."))
    side = side_of(actor, project)
    if side is None:
        if is_participant(actor, project):
            raise NotAllowed(_l("Only the account manager and the client's approvers sign goals. You can read and comment."))
        raise NotAllowed(_l("Only members of this project act on its goals."))
    return side


def _require_open(goal: Goal) -> None:
    if goal.state.is_closed:
        raise DomainError(_l("This goal is closed: it can no longer change."))
    if goal.project.is_archived:
        raise DomainError(_l("This project is archived: its goals can no longer change."))


# --- Terms -------------------------------------------------------------------------


@dataclass
class Terms:
    """What a revision proposes; built from a form, checked here before it is stored."""

    title: str
    target_date: date | None
    measure: MeasureKind = MeasureKind.METRIC
    why: str = ""
    metric_name: str = ""
    baseline: Decimal | None = None
    target: Decimal | None = None
    unit: str = ""
    done_when: str = ""
    assumptions: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, revision: GoalRevision, assumptions: list[str]) -> Terms:
        """Return the terms of a stored ``revision`` with its ``assumptions``."""
        return cls(**{name: getattr(revision, name) for name in TERM_FIELDS}, assumptions=list(assumptions))

    def normalised(self) -> Terms:
        """Return a copy with text trimmed and the fields of the other kind of measure emptied."""
        metric = self.measure is MeasureKind.METRIC
        seen: set[str] = set()
        assumptions = []
        for line in self.assumptions:
            text = " ".join(line.split())
            if text and text.casefold() not in seen:
                seen.add(text.casefold())
                assumptions.append(text)
        return Terms(
            title=" ".join(self.title.split()),
            target_date=self.target_date,
            measure=self.measure,
            why=self.why.strip(),
            metric_name=" ".join(self.metric_name.split()) if metric else "",
            baseline=self.baseline if metric else None,
            target=self.target if metric else None,
            unit=(self.unit or "").strip() if metric else "",
            done_when=self.done_when.strip() if not metric else "",
            assumptions=assumptions,
        )

    def same_as(self, other: Terms) -> bool:
        """Tell whether both say the same thing (numbers compared by value)."""
        a, b = self.normalised(), other.normalised()
        return all(getattr(a, n) == getattr(b, n) for n in TERM_FIELDS) and a.assumptions == b.assumptions


def check_terms(terms: Terms, today: date) -> Terms:
    """Return the normalised terms, or raise a DomainError naming the first field that is wrong."""
    t = terms.normalised()
    if not t.title:
        raise DomainError(_l("Give the goal a title."), field="title")
    if len(t.title) > MAX_TITLE:
        raise DomainError(_l("Keep the title under %(num)d characters.", num=MAX_TITLE), field="title")
    if len(t.why) > MAX_TEXT:
        raise DomainError(_l("Keep this under %(num)d characters.", num=MAX_TEXT), field="why")
    if t.measure is MeasureKind.METRIC:
        if not t.metric_name:
            raise DomainError(_l("Name the metric, for example “Online orders per month”."), field="metric_name")
        if len(t.metric_name) > MAX_METRIC_NAME:
            raise DomainError(_l("Keep the metric's name under %(num)d characters.", num=MAX_METRIC_NAME), field="metric_name")
        for name in ("baseline", "target"):
            value = getattr(t, name)
            if value is None:
                raise DomainError(_l("Enter a number."), field=name)
            if not value.is_finite() or abs(value) >= MAX_ABS_VALUE:
                raise DomainError(_l("Enter a number below one trillion."), field=name)
        if t.baseline == t.target:
            raise DomainError(
                _l("The target must differ from the baseline. To keep a level, use a “done when” statement."), field="target"
            )
        if not is_unit(t.unit):
            raise DomainError(_l("Choose a unit from the list."), field="unit")
    else:
        if not t.done_when:
            raise DomainError(_l("Say when the goal counts as done."), field="done_when")
        if len(t.done_when) > MAX_TEXT:
            raise DomainError(_l("Keep this under %(num)d characters.", num=MAX_TEXT), field="done_when")
    if t.target_date is None:
        raise DomainError(_l("Enter the target date."), field="target_date")
    if t.target_date < today:
        raise DomainError(_l("The target date cannot be in the past."), field="target_date")
    if len(t.assumptions) > MAX_ASSUMPTIONS:
        raise DomainError(_l("Write at most %(num)d assumptions.", num=MAX_ASSUMPTIONS), field="assumptions")
    if any(len(a) > MAX_ASSUMPTION_LENGTH for a in t.assumptions):
        raise DomainError(
            _l("Keep each assumption under %(num)d characters.", num=MAX_ASSUMPTION_LENGTH), field="assumptions"
        )
    return t


def _new_revision(goal: Goal, number: int, terms: Terms, actor: User, side: Side, note: str) -> GoalRevision:
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


# --- Concurrency -------------------------------------------------------------------


def _stale(current: int | None) -> Conflict:
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
    seen = goal.version
    result = db.session.execute(
        update(Goal).where(Goal.id == goal.id, Goal.version == seen).values(version=seen + 1),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        raise _stale(db.session.scalar(select(Goal.current_number).where(Goal.id == goal.id)))
    set_committed_value(goal, "version", seen + 1)


def _current(goal: Goal, seen: int) -> GoalRevision:
    """Return the current revision if it is the one the actor saw, else raise Conflict naming it."""
    if seen != goal.current_number:
        raise _stale(goal.current_number)
    return goal.current_revision


# --- Emails ------------------------------------------------------------------------


def _audience(goal: Goal, to: Side, *, approvers_only: bool) -> list[User]:
    """Return the people of side ``to`` who want activity emails."""
    project = goal.project
    if to is Side.AGENCY:
        people = [project.manager]
    else:
        people = [m.user for m in project.members if m.is_approver or not approvers_only]
    return [p for p in people if p.active and p.notify_activity]


def _notify(
    goal: Goal,
    actor: User,
    to: Side,
    *,
    kind: str,
    key: str,
    template: str,
    approvers_only: bool = True,
    **context: Any,
) -> None:
    """Queue one email per person of side ``to``, each in their language, once per ``key``."""
    link = portal_url("goals.show", goal_id=goal.id)
    for person in _audience(goal, to, approvers_only=approvers_only):
        if person.id == actor.id:
            continue
        queue_email(
            person,
            kind=kind,
            key=f"{key}:to:{person.id}",
            template=template,
            goal=goal,
            project=goal.project,
            actor=actor,
            link=link,
            can_sign=to is Side.AGENCY or any(m.user_id == person.id and m.is_approver for m in goal.project.members),
            **context,
        )


def _record(actor: User, verb: str, goal: Goal, **data: Any):
    return activity.record(actor, verb, goal, project=goal.project, data=data)


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
    _notify(goal, actor, side.other, kind="goal_proposed", key=f"goal:{goal.id}:r1:proposed", template="emails/goal_proposed.html", revision=revision)
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
    _notify(
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
    _notify(
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
    _notify(
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
    _notify(
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
    _notify(
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
    _notify(
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
    _notify(
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
    _notify(
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


# --- Reading -------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    """One term that differs between two revisions."""

    name: str
    old: Any
    new: Any


def changes(previous: GoalRevision | None, revision: GoalRevision) -> list[FieldChange]:
    """Return the terms ``revision`` changed compared with ``previous`` (all of them for the first)."""
    result = []
    for name in TERM_FIELDS:
        new = getattr(revision, name)
        old = getattr(previous, name) if previous is not None else None
        if previous is None:
            if new not in (None, ""):
                result.append(FieldChange(name, None, new))
        elif old != new:
            result.append(FieldChange(name, old, new))
    return result


def assumption_changes(goal: Goal, number: int) -> tuple[list[GoalAssumption], list[GoalAssumption]]:
    """Return the assumptions revision ``number`` added and the ones it withdrew."""
    added = [a for a in goal.assumptions if a.added_in == number]
    removed = [a for a in goal.assumptions if a.removed_in == number]
    return added, removed


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
    progress = progress_for(goals, on)
    counts: dict[int, dict[AssumptionStatus, int]] = {}
    for goal_id, status, number in db.session.execute(
        select(GoalAssumption.goal_id, GoalAssumption.status, func.count())
        .where(GoalAssumption.goal_id.in_(ids), GoalAssumption.removed_in.is_(None))
        .group_by(GoalAssumption.goal_id, GoalAssumption.status)
    ):
        counts.setdefault(goal_id, {})[status] = number
    pending = set(
        db.session.scalars(
            select(GoalClosure.goal_id).where(GoalClosure.goal_id.in_(ids), GoalClosure.status == ClosureStatus.PENDING)
        )
    )
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
