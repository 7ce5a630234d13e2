"""Access matrix rows of promises: the project's promises page and agreeing to a deliverable's new date.

The page is the project's (404 to another organisation's people and to the other manager);
only the client's approvers agree to a new date (staff: 403). The proposals the rows act on
are made directly (a deliverable whose due date staff moved), without activity events, one
per visitor: an agreement is used up.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

LOGIN = "/login"
DONE = "done"


def _proposal(scene: Any) -> int:
    """Make a deliverable due in ten days, then move its date (a proposal the client's approvers may agree to)."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Deliverable, Promise, PromiseKind
    from portal.timeutil import project_today

    project = scene.world.project
    today = project_today(project)
    deliverable = Deliverable(project=project, title="Landing page", due_date=today + timedelta(days=10), created_by=scene.world.manager, lock_version=1)
    db.session.add(deliverable)
    db.session.commit()
    deliverable.due_date = today + timedelta(days=20)
    db.session.commit()
    return db.session.scalars(select(Promise.id).where(Promise.kind == PromiseKind.DELIVERABLE, Promise.source_id == deliverable.id)).one()


def extend(scene_class: type) -> list:
    """Return the feature's rows (and teach the scene the proposal they act on)."""
    from tests.integration.test_access_matrix import row

    scene_class.proposal = _proposal
    # fmt: off
    return [
        row("GET",  "/projects/{project}/promises/",                    LOGIN, 404, 200,  200, 404, 200),
        row("GET",  "/projects/{project}/promises/?side=client",        LOGIN, 404, 200,  200, 404, 200),
        row("POST", "/projects/{project}/promises/{proposal}/agree",    LOGIN, 404, DONE, 403, 404, 403),
    ]
    # fmt: on
