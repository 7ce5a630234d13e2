"""The emails incidents queue: a step done and the incident closed (to the client), the plan accepted and the trust answer (to the manager).

Each is queued in the outbox inside the caller's transaction, once per recipient (the key
names the event and the person), and only to people who want activity emails. Clients hear
only of shared incidents.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Incident, PlanAcceptance, ProjectMember, RecoveryStep, Role, TrustAnswer, User
from portal.notify.service import queue_each
from portal.urls import portal_url


def _link(incident: Incident) -> str:
    return portal_url("incidents.show", incident_id=incident.id)


def client_recipients(incident: Incident) -> list[User]:
    """Return the project's active client members who want activity emails."""
    project = incident.project
    return list(
        db.session.scalars(
            select(User)
            .join(ProjectMember, ProjectMember.user_id == User.id)
            .where(
                ProjectMember.project_id == project.id,
                User.role == Role.CLIENT,
                User.client_id == project.client_id,
                User.active.is_(True),
                User.notify_activity.is_(True),
            )
            .order_by(User.id)
        )
    )


def _progress(incident: Incident) -> tuple[int, int]:
    return sum(1 for step in incident.steps if step.is_done), len(incident.steps)


def queue_step_done(incident: Incident, step: RecoveryStep, actor: User) -> None:
    """Tell the client's people that a step of the recovery plan is done."""
    done, total = _progress(incident)
    upcoming = next((s for s in incident.steps if not s.is_done), None)
    queue_each(
        client_recipients(incident),
        kind="incident_step_done",
        key=f"incident-step-done:{step.id}:to",
        template="emails/incident_step_done.html",
        project=incident.project,
        incident=incident,
        step=step,
        actor=actor,
        done=done,
        total=total,
        upcoming=upcoming,
        link=_link(incident),
    )


def queue_closed(incident: Incident, actor: User) -> None:
    """Tell the client's people that the incident is closed, and ask whether trust is restored."""
    queue_each(
        client_recipients(incident),
        kind="incident_closed",
        key=f"incident-closed:{incident.id}:to",
        template="emails/incident_closed.html",
        project=incident.project,
        incident=incident,
        actor=actor,
        link=_link(incident),
    )


def _manager(incident: Incident) -> list[User]:
    manager = incident.project.manager
    return [manager] if manager is not None and manager.wants_activity_email else []


def queue_accepted(incident: Incident, acceptance: PlanAcceptance) -> None:
    """Tell the account manager that the client accepted the plan."""
    queue_each(
        _manager(incident),
        kind="incident_accepted",
        key=f"incident-accepted:{incident.id}:{acceptance.plan_version}:to",
        template="emails/incident_accepted.html",
        project=incident.project,
        incident=incident,
        acceptance=acceptance,
        link=_link(incident),
    )


def queue_trust(incident: Incident, answer: TrustAnswer) -> None:
    """Tell the account manager the client's answer to "trust restored?"."""
    queue_each(
        _manager(incident),
        kind="incident_trust",
        key=f"incident-trust:{incident.id}:to",
        template="emails/incident_trust.html",
        project=incident.project,
        incident=incident,
        answer=answer,
        link=_link(incident),
    )
