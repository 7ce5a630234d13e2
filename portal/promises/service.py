"""What people do with promises: the client agrees to a deliverable's new date."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from portal.access import is_project_approver
from portal.activity import record
from portal.claims import rows_changed
from portal.errors import Conflict, NotAllowed
from portal.extensions import db
from portal.models import Promise, PromiseKind, User
from portal.promises.ledger import renegotiate
from portal.timeutil import local_today


def agree(actor: User, promise: Promise, now: datetime) -> Promise | None:
    """Agree, as an approver of the client, to the agency's new date of a deliverable; return the new promise (None: no date).

    Refused once the promised date has passed: a date moved after it passed does not
    renegotiate the promise, which stays broken (or kept late).
    """
    project = promise.project
    if not is_project_approver(actor, project) or promise.kind is not PromiseKind.DELIVERABLE:
        raise NotAllowed(_l("Only the project's approvers can agree to a new date."))
    if not promise.is_open or promise.proposed_at is None:
        raise Conflict(_l("There is no new date waiting for your agreement any more."))
    if local_today(project.timezone, now) > promise.due_date:
        raise Conflict(_l("The promised date has passed: the new date can no longer replace it."))
    # Claim the proposal: of two simultaneous agreements (a double click, two approvers) only one goes on.
    claimed = rows_changed(
        update(Promise)
        .where(Promise.id == promise.id, Promise.ended.is_(None), Promise.proposed_at == promise.proposed_at)
        .values(proposed_at=promise.proposed_at),
        synchronize_session=False,
    )
    if claimed != 1:
        raise Conflict(_l("There is no new date waiting for your agreement any more."))
    successor = renegotiate(db.session(), promise, now, agreed_by_id=actor.id)
    db.session.flush()
    record(actor, "promise.renegotiated", promise, project=project, data={"title": promise.title, "due": successor.due_date.isoformat() if successor else None})
    return successor
