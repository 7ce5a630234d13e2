"""The emails a goal's changes send: who on the other side hears of them, and the one way to queue them.

Emails go through the outbox in the caller's transaction, once per idempotency key
and person, each in the reader's language.
"""

from __future__ import annotations

from typing import Any

from portal.access import is_project_approver
from portal.models import Goal, Side, User
from portal.notify.service import queue_email
from portal.urls import portal_url


def audience(goal: Goal, to: Side, *, approvers_only: bool) -> list[User]:
    """Return the people of side ``to`` who want activity emails."""
    project = goal.project
    people = [project.manager] if to is Side.AGENCY else [m.user for m in project.members if m.is_approver or not approvers_only]
    return [p for p in people if p.wants_activity_email]


def notify(
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
    for person in audience(goal, to, approvers_only=approvers_only):
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
            can_sign=to is Side.AGENCY or is_project_approver(person, goal.project),
            **context,
        )
