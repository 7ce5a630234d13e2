"""Read-only questions about incidents that other features ask (project health, the weekly update)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Incident, IncidentStatus, RecoveryStep, Visibility


def recovery_for(project_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Return (steps done, steps in all) of the open shared incidents of each project that has one, in one query.

    A project with no open shared incident is left out; one whose incident has no plan yet gets (0, 0).
    Two open shared incidents on one project add up.
    """
    ids = list(dict.fromkeys(project_ids))
    if not ids:
        return {}
    query = (
        select(Incident.project_id, func.count(RecoveryStep.id), func.count(RecoveryStep.done_at))
        .select_from(Incident)
        .outerjoin(RecoveryStep, RecoveryStep.incident_id == Incident.id)
        .where(Incident.project_id.in_(ids), Incident.status == IncidentStatus.OPEN, Incident.visibility == Visibility.SHARED)
        .group_by(Incident.project_id)
    )
    return {project_id: (int(done), int(total)) for project_id, total, done in db.session.execute(query)}
