"""The emails deliverable review queues: a version to review, a decision, a reopening, a message in the conversation.

Each is queued in the outbox inside the caller's transaction, once per recipient
(the key names the event and the person), and only to people who want activity emails.
"""

from __future__ import annotations

from portal.deliverables.review import approvers, review_state
from portal.models import Project, Role, User
from portal.models.deliverables import Decision, Deliverable, DeliverableComment, DeliverableReopening, DeliverableVersion, VersionStatus
from portal.notify.service import queue_email
from portal.urls import portal_url


def _wants_email(user: User | None) -> bool:
    """Tell whether ``user`` gets activity emails (active, and asked for them)."""
    return user is not None and user.active and user.notify_activity


def _review_link(deliverable: Deliverable) -> str:
    """Return the absolute link to the deliverable's review page."""
    return portal_url("deliverables.show", deliverable_id=deliverable.id)


def queue_submitted(version: DeliverableVersion, people: list[User], actor: User) -> None:
    """Tell the approvers ``people`` that ``version`` waits for their review."""
    deliverable = version.deliverable
    link = _review_link(deliverable)
    for person in people:
        if _wants_email(person):
            queue_email(
                person,
                kind="deliverable_submitted",
                key=f"deliverable-version:{version.id}:to:{person.id}",
                template="emails/deliverable_submitted.html",
                project=deliverable.project,
                deliverable=deliverable,
                version=version,
                actor=actor,
                link=link,
            )


def _staff_recipients(deliverable: Deliverable, version: DeliverableVersion) -> list[User]:
    """Return the account manager and whoever submitted the version (if staff), once each."""
    people: dict[int, User] = {}
    for person in (deliverable.project.manager, version.submitted_by):
        if person is not None and person.is_staff and _wants_email(person):
            people.setdefault(person.id, person)
    return list(people.values())


def queue_decided(decision: Decision, deliverable: Deliverable, version: DeliverableVersion, settled: VersionStatus | None) -> None:
    """Tell staff about ``decision``: what it settled, or who still has to decide."""
    project = deliverable.project
    waiting = [] if settled is not None else review_state(project, version).waiting_for
    link = _review_link(deliverable)
    for person in _staff_recipients(deliverable, version):
        queue_email(
            person,
            kind="deliverable_decided",
            key=f"deliverable-decision:{decision.id}:to:{person.id}",
            template="emails/deliverable_decided.html",
            project=project,
            deliverable=deliverable,
            version=version,
            decision=decision,
            settled=settled.value if settled else None,
            waiting=[p.display_name for p in waiting],
            link=link,
        )


def queue_reopened(reopening: DeliverableReopening, actor: User) -> None:
    """Tell the approvers and the account manager (but not ``actor``) that an approved deliverable is reopened."""
    deliverable = reopening.deliverable
    project = deliverable.project
    people: dict[int, User] = {p.id: p for p in approvers(project)}
    people.setdefault(project.manager.id, project.manager)
    link = _review_link(deliverable)
    for person in people.values():
        if person.id != actor.id and _wants_email(person):
            queue_email(
                person,
                kind="deliverable_reopened",
                key=f"deliverable-reopened:{reopening.id}:to:{person.id}",
                template="emails/deliverable_reopened.html",
                project=project,
                deliverable=deliverable,
                reopening=reopening,
                actor=actor,
                link=link,
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
    link = f"{_review_link(deliverable)}#comment-{comment.id}"
    for person in _other_side(actor, project):
        if person.id != actor.id and _wants_email(person):
            queue_email(
                person,
                kind="deliverable_comment",
                key=f"deliverable-comment:{comment.id}:to:{person.id}",
                template="emails/deliverable_comment.html",
                project=project,
                deliverable=deliverable,
                comment=comment,
                actor=actor,
                link=link,
            )
