"""The emails deliverable review queues: a version to review, a decision, a reopening, a message in the conversation.

Each is queued in the outbox inside the caller's transaction, once per recipient
(the key names the event and the person), and only to people who want activity emails.
"""

from __future__ import annotations

from portal.deliverables.review import approvers, review_state
from portal.models import Project, Role, User
from portal.models.deliverables import Decision, Deliverable, DeliverableComment, DeliverableReopening, DeliverableVersion, VersionStatus
from portal.notify.service import queue_each
from portal.urls import portal_url


def _review_link(deliverable: Deliverable) -> str:
    """Return the absolute link to the deliverable's review page."""
    return portal_url("deliverables.show", deliverable_id=deliverable.id)


def queue_submitted(version: DeliverableVersion, people: list[User], actor: User) -> None:
    """Tell the approvers ``people`` that ``version`` waits for their review."""
    deliverable = version.deliverable
    queue_each(
        (person for person in people if person.wants_activity_email),
        kind="deliverable_submitted",
        key=f"deliverable-version:{version.id}:to",
        template="emails/deliverable_submitted.html",
        project=deliverable.project,
        deliverable=deliverable,
        version=version,
        actor=actor,
        link=_review_link(deliverable),
    )


def _staff_recipients(deliverable: Deliverable, version: DeliverableVersion) -> list[User]:
    """Return the account manager and whoever submitted the version (if staff) who want activity emails."""
    people = (deliverable.project.manager, version.submitted_by)
    return [person for person in people if person is not None and person.is_staff and person.wants_activity_email]


def queue_decided(decision: Decision, deliverable: Deliverable, version: DeliverableVersion, settled: VersionStatus | None) -> None:
    """Tell staff about ``decision``: what it settled, or who still has to decide."""
    project = deliverable.project
    waiting = [] if settled is not None else review_state(project, version).waiting_for
    queue_each(
        _staff_recipients(deliverable, version),
        kind="deliverable_decided",
        key=f"deliverable-decision:{decision.id}:to",
        template="emails/deliverable_decided.html",
        project=project,
        deliverable=deliverable,
        version=version,
        decision=decision,
        settled=settled.value if settled else None,
        waiting=[p.display_name for p in waiting],
        link=_review_link(deliverable),
    )


def queue_reopened(reopening: DeliverableReopening, actor: User) -> None:
    """Tell the approvers and the account manager (but not ``actor``) that an approved deliverable is reopened."""
    deliverable = reopening.deliverable
    project = deliverable.project
    queue_each(
        (p for p in (*approvers(project), project.manager) if p.id != actor.id and p.wants_activity_email),
        kind="deliverable_reopened",
        key=f"deliverable-reopened:{reopening.id}:to",
        template="emails/deliverable_reopened.html",
        project=project,
        deliverable=deliverable,
        reopening=reopening,
        actor=actor,
        link=_review_link(deliverable),
    )


def _other_side(actor: User, project: Project) -> list[User]:
    """Return who hears of ``actor``'s message: the client members when staff write, else the account manager."""
    if actor.is_staff:
        return [m.user for m in project.members if m.user.role is Role.CLIENT and m.user.client_id == project.client_id]
    return [project.manager]


def queue_comment(comment: DeliverableComment, actor: User) -> None:
    """Tell the other side of the conversation (not ``actor``) about ``comment``."""
    deliverable = comment.deliverable
    project = deliverable.project
    queue_each(
        (p for p in _other_side(actor, project) if p.id != actor.id and p.wants_activity_email),
        kind="deliverable_comment",
        key=f"deliverable-comment:{comment.id}:to",
        template="emails/deliverable_comment.html",
        project=project,
        deliverable=deliverable,
        comment=comment,
        actor=actor,
        link=f"{_review_link(deliverable)}#comment-{comment.id}",
    )
