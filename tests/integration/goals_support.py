"""Builders for goal tests: goals seeded through the service, as the product makes them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from portal.extensions import db
from portal.goals import service
from portal.goals.terms import Terms
from portal.models import Goal, Project, User
from portal.timeutil import local_today


def terms(**values: Any) -> Terms:
    """Return metric terms (orders from 120 to 200 in 90 days), with ``values`` changed."""
    today = local_today("Europe/Istanbul")  # the test projects' zone
    defaults: dict[str, Any] = {
        "title": "More online orders",
        "why": "The shop must pay for itself this year.",
        "metric_name": "Online orders per month",
        "baseline": Decimal(120),
        "target": Decimal(200),
        "unit": "orders",
        "target_date": today + timedelta(days=90),
        "assumptions": ["Product photos arrive by the end of the month"],
    }
    defaults.update(values)
    return Terms(**defaults)


def propose(actor: User, project: Project, **values: Any) -> Goal:
    """Propose a goal through the service and commit."""
    goal = service.propose_goal(actor, project, terms(**values))
    db.session.commit()
    return goal


def agree(goal: Goal, signer: User) -> Goal:
    """Sign the goal's current revision as ``signer`` and commit."""
    service.sign_revision(signer, goal, seen=goal.current_number)
    db.session.commit()
    return goal


def agreed_goal(manager: User, approver: User, project: Project, **values: Any) -> Goal:
    """Return a goal the manager proposed and the approver agreed."""
    return agree(propose(manager, project, **values), approver)
