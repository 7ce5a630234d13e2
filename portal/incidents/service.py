"""Incident commands: what staff and the client do to an incident and its recovery plan.

Every function takes the actor explicitly, adds to the session and never commits: the view
commits once, so the change, its activity event and its queued emails are saved together or
not at all. Each change first claims the incident's ``lock_version`` (``portal.claims``), so
of two simultaneous changes one wins and the other is told the incident changed meanwhile.

The rules:

- Only the project's account manager or an admin opens, edits, plans and closes; an incident
  is open until closed, and a closed one changes no more (but for the client's trust answer).
- Detection is never in the future; the impact on the client is required; a shared incident
  stays shared (bad news is never taken back from the client).
- Adding or changing a step changes the plan (``plan_version``): the client may accept the
  new plan again. Marking a step done is progress, not a change to the plan; it is posted to
  the client (timeline and email) when the incident is shared.
- The client (a member of the project) accepts each version of a shared plan once, and answers
  "trust restored?" once the incident is closed; a "no" needs a note. The manager is told.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import activity
from portal.access import can_manage_project, is_client_member
from portal.claims import claim
from portal.errors import Conflict, DomainError, NotAllowed
from portal.extensions import db
from portal.incidents import notifications
from portal.models import Incident, IncidentStatus, PlanAcceptance, Project, RecoveryStep, Role, TrustAnswer, User, Visibility
from portal.timeutil import utcnow

TITLE_MAX = 200
AFFECTED_MAX = 500
TEXT_MAX = 5_000
STEP_TITLE_MAX = 300
STEPS_MAX = 50
# The clock of the browser that typed "detected at" may run a little ahead of ours.
CLOCK_SLACK = timedelta(minutes=2)

CHANGED_MEANWHILE = _l("This incident changed in the meantime. Here is its latest state; check it and try again.")
CLOSED = _l("This incident is closed: it cannot change any more.")
FIELDS = ("title", "details", "detected_at", "affected", "impact", "cause", "visibility")


@dataclass(frozen=True)
class Owner:
    """Who a step belongs to: a staff person, or the client (``user`` None)."""

    user: User | None = None

    @property
    def is_client(self) -> bool:
        """Tell whether the client owns the step."""
        return self.user is None


CLIENT = Owner()


# --- Checks ---------------------------------------------------------------------------------


def _require_manager(actor: User, project: Project) -> None:
    """Refuse anyone but the project's account manager or an admin."""
    if not can_manage_project(actor, project):
        raise NotAllowed(_l("Only the project's account manager or an admin can do this."))


def _require_open(incident: Incident) -> None:
    if not incident.is_open:
        raise Conflict(CLOSED)


def _claim(incident: Incident) -> None:
    """Take the incident's next lock version, or raise Conflict when it changed since it was read."""
    if not claim(incident, Incident.lock_version):
        raise Conflict(CHANGED_MEANWHILE)


def _text(value: str | None, limit: int, field: str, *, required: Any = None) -> str:
    """Return ``value`` stripped, refusing it when too long or (with ``required``, the message) empty."""
    text = (value or "").strip()
    if required is not None and not text:
        raise DomainError(required, field=field)
    if len(text) > limit:
        raise DomainError(_l("This is too long: at most %(num)d characters.", num=limit), field=field)
    return text


def _detected(value: datetime | None, now: datetime) -> datetime:
    if value is None or value.tzinfo is None:
        raise DomainError(_l("Enter when the problem was detected: a date and a time."), field="detected_at")
    if value > now + CLOCK_SLACK:
        raise DomainError(_l("The detection time cannot be in the future."), field="detected_at")
    return value


def _visibility(value: Visibility | str | None) -> Visibility:
    try:
        return Visibility(str(value or ""))
    except ValueError:
        raise DomainError(_l("Choose whether the client sees the incident."), field="visibility") from None


def _clean(values: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Return the checked fields of an incident."""
    return {
        "title": _text(values.get("title"), TITLE_MAX, "title", required=_l("Say in a line what happened.")),
        "details": _text(values.get("details"), TEXT_MAX, "details"),
        "detected_at": _detected(values.get("detected_at"), now),
        "affected": _text(values.get("affected"), AFFECTED_MAX, "affected"),
        "impact": _text(values.get("impact"), TEXT_MAX, "impact", required=_l("Say how this affects the client: it is what they read first.")),
        "cause": _text(values.get("cause"), TEXT_MAX, "cause"),
        "visibility": _visibility(values.get("visibility")),
    }


def _internal(incident: Incident) -> bool:
    """Tell whether the incident's events stay with staff."""
    return not incident.is_shared


# --- Opening, editing, closing -----------------------------------------------------------------


def open_incident(actor: User, project: Project, values: Mapping[str, Any], *, now: datetime | None = None) -> Incident:
    """Open an incident on ``project`` (account manager or admin); the caller commits."""
    _require_manager(actor, project)
    if project.is_archived:
        raise Conflict(_l("This project is archived: it takes no new incidents."))
    fields = _clean(values, now or utcnow())
    incident = Incident(project=project, opened_by=actor, **fields)
    db.session.add(incident)
    db.session.flush()
    activity.record(actor, "incident.opened", incident, project=project, data={"title": incident.title}, internal=_internal(incident))
    return incident


def update_incident(actor: User, incident: Incident, values: Mapping[str, Any], *, now: datetime | None = None) -> list[str]:
    """Change an open incident's details (the cause, once known, most often); return the names of the fields that changed."""
    project = incident.project
    _require_manager(actor, project)
    _require_open(incident)
    fields = _clean(values, now or utcnow())
    if incident.is_shared and fields["visibility"] is Visibility.INTERNAL:
        raise DomainError(_l("The client has seen this incident: it stays shared with them until it is closed."), field="visibility")
    changed = [name for name in FIELDS if getattr(incident, name) != fields[name]]
    if not changed:
        return []
    _claim(incident)
    for name in changed:
        setattr(incident, name, fields[name])
    activity.record(actor, "incident.edited", incident, project=project, data={"title": incident.title, "fields": changed}, internal=_internal(incident))
    return changed


def close_incident(actor: User, incident: Incident, note: str, *, now: datetime | None = None) -> Incident:
    """Close an open incident whose plan is done, with a closing note; the client is told (shared incidents)."""
    project = incident.project
    _require_manager(actor, project)
    _require_open(incident)
    text = _text(note, TEXT_MAX, "note", required=_l("Write a closing note: what was put right, and what changes from now on."))
    if any(not step.is_done for step in incident.steps):
        raise DomainError(_l("Every step of the plan must be done before the incident is closed."))
    _claim(incident)
    incident.status = IncidentStatus.CLOSED
    incident.closed_at = now or utcnow()
    incident.closed_by = actor
    incident.closing_note = text
    activity.record(actor, "incident.closed", incident, project=project, data={"title": incident.title}, internal=_internal(incident))
    if incident.is_shared:
        notifications.queue_closed(incident, actor)
    return incident


# --- The recovery plan -----------------------------------------------------------------------


def step_owners(project: Project) -> list[User]:
    """Return the staff people a step can belong to: active admins and managers (the project's manager first)."""
    people = list(db.session.scalars(select(User).where(User.role.in_((Role.ADMIN, Role.MANAGER)), User.active.is_(True)).order_by(User.name, User.id)))
    people.sort(key=lambda person: person.id != project.manager_id)
    return people


def _owner(project: Project, owner: Owner) -> Owner:
    if owner.user is not None and (not owner.user.is_staff or not owner.user.active):
        raise DomainError(_l("Choose who does this step: someone at the agency, or the client."), field="owner")
    return owner


def _step_values(project: Project, title: str, due_on: date | None, owner: Owner) -> tuple[str, date, Owner]:
    text = _text(title, STEP_TITLE_MAX, "title", required=_l("Say what the step is, for example “Restore last week’s backup”."))
    if due_on is None:
        raise DomainError(_l("Give the step a date."), field="due_on")
    return text, due_on, _owner(project, owner)


def add_step(actor: User, incident: Incident, *, title: str, due_on: date | None, owner: Owner) -> RecoveryStep:
    """Add a dated step to the plan of an open incident: the plan changes, so the client may accept it again."""
    project = incident.project
    _require_manager(actor, project)
    _require_open(incident)
    text, day, who = _step_values(project, title, due_on, owner)
    if len(incident.steps) >= STEPS_MAX:
        raise DomainError(_l("A plan has at most %(num)d steps.", num=STEPS_MAX))
    _claim(incident)
    step = RecoveryStep(incident=incident, title=text, due_on=day, owner=who.user, owner_is_client=who.is_client)
    db.session.add(step)
    incident.plan_version += 1
    db.session.flush()
    activity.record(
        actor, "incident.step_added", incident, project=project, data={"title": incident.title, "step": text, "step_id": step.id}, internal=_internal(incident)
    )
    return step


def edit_step(actor: User, step: RecoveryStep, *, title: str, due_on: date | None, owner: Owner) -> bool:
    """Change a step that is not done yet; return whether anything changed (then the plan has a new version)."""
    incident = step.incident
    project = incident.project
    _require_manager(actor, project)
    _require_open(incident)
    if step.is_done:
        raise Conflict(_l("This step is done: it stays as it was done."))
    text, day, who = _step_values(project, title, due_on, owner)
    new = {"title": text, "due_on": day, "owner_id": who.user.id if who.user else None, "owner_is_client": who.is_client}
    changed = [name for name, value in new.items() if getattr(step, name) != value]
    if not changed:
        return False
    _claim(incident)
    step.title, step.due_on, step.owner, step.owner_is_client = text, day, who.user, who.is_client
    incident.plan_version += 1
    activity.record(
        actor, "incident.step_edited", incident, project=project, data={"title": incident.title, "step": text, "step_id": step.id}, internal=_internal(incident)
    )
    return True


def mark_step_done(actor: User, step: RecoveryStep, *, now: datetime | None = None) -> RecoveryStep:
    """Mark a step done; shared incidents post it to the client (timeline and email to who wants activity emails)."""
    incident = step.incident
    project = incident.project
    _require_manager(actor, project)
    _require_open(incident)
    if step.is_done:
        raise Conflict(_l("This step is already marked done."))
    _claim(incident)
    step.done_at = now or utcnow()
    step.done_by = actor
    data = {"title": incident.title, "step": step.title, "step_id": step.id}
    activity.record(actor, "incident.step_done", incident, project=project, data=data, internal=_internal(incident))
    if incident.is_shared:
        notifications.queue_step_done(incident, step, actor)
    return step


# --- The client's answers ----------------------------------------------------------------------


def _require_client(actor: User, incident: Incident) -> None:
    if not is_client_member(actor, incident.project) or not incident.is_shared:
        raise NotAllowed(_l("Only the client’s people on this project can answer this."))


def latest_acceptance(incident: Incident) -> PlanAcceptance | None:
    """Return the client's latest acceptance of the incident's plan."""
    return db.session.scalar(
        select(PlanAcceptance).where(PlanAcceptance.incident_id == incident.id).order_by(PlanAcceptance.plan_version.desc()).limit(1)
    )


def accept_plan(actor: User, incident: Incident, *, now: datetime | None = None) -> PlanAcceptance:
    """Record that the client accepts the plan as it is now (once per version of the plan); the manager is told."""
    _require_client(actor, incident)
    _require_open(incident)
    if not incident.steps:
        raise Conflict(_l("There is no plan to accept yet: the agency adds its steps first."))
    latest = latest_acceptance(incident)
    if latest is not None and latest.plan_version >= incident.plan_version:
        raise Conflict(_l("This plan is already accepted."))
    _claim(incident)
    acceptance = PlanAcceptance(incident=incident, plan_version=incident.plan_version, user=actor, created_at=now or utcnow())
    db.session.add(acceptance)
    db.session.flush()  # a twin sent at the same moment fails here, on (incident, plan version)
    activity.record(actor, "incident.plan_accepted", incident, project=incident.project, data={"title": incident.title, "plan_version": incident.plan_version})
    notifications.queue_accepted(incident, acceptance)
    return acceptance


def trust_answer(incident: Incident) -> TrustAnswer | None:
    """Return the client's answer to "trust restored?", if given."""
    return db.session.scalar(select(TrustAnswer).where(TrustAnswer.incident_id == incident.id))


def answer_trust(actor: User, incident: Incident, *, restored: bool | None, note: str, now: datetime | None = None) -> TrustAnswer:
    """Record the client's answer to "trust restored?" on a closed incident (once; a "no" needs a note); the manager is told."""
    _require_client(actor, incident)
    if incident.is_open:
        raise Conflict(_l("The incident is not closed yet: you can answer once the plan is done."))
    if restored is None:
        raise DomainError(_l("Choose yes or no."), field="restored")
    text = _text(note, TEXT_MAX, "note", required=None if restored else _l("Tell us what is still missing: the agency reads it."))
    if trust_answer(incident) is not None:
        raise Conflict(_l("This question is already answered."))
    answer = TrustAnswer(incident=incident, user=actor, restored=restored, note=text, created_at=now or utcnow())
    db.session.add(answer)
    db.session.flush()  # one answer per incident: a twin fails here
    activity.record(actor, "incident.trust_answered", incident, project=incident.project, data={"title": incident.title, "restored": restored})
    notifications.queue_trust(incident, answer)
    return answer
