"""The reviewers' due date of a version: when staff ask the approvers to have decided (shown in their daily digest)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from portal.access import can_manage_project
from portal.errors import DomainError, NotAllowed
from portal.models import User
from portal.models.deliverables import DeliverableVersion
from portal.timeutil import project_today


def set_review_due(actor: User, version: DeliverableVersion, day: date | None, *, today: date | None = None) -> None:
    """Set (or clear, with None) the date the approvers should decide on ``version`` by; the caller commits.

    Refused on an archived project, and before the project's today: a review cannot be due in the past.
    """
    project = version.deliverable.project
    if not can_manage_project(actor, project):
        raise NotAllowed(_l("Only the project's account manager or an admin can do this."))
    if project.is_archived:
        raise DomainError(_l("This project is archived. Restore it to work on its deliverables again."))
    today = today or project_today(project)
    if day is not None and day < today:
        raise DomainError(_l("The review date cannot be in the past. Choose today or a later day."), field="review_due")
    version.review_due = day
