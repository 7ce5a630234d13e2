"""The perception gap on the staff home: the agency thinks all is well, the client keeps saying otherwise.

A project is flagged when, over the last three weeks (``GAP_DAYS``):

- the **client** answered negatively in at least two of the three weeks (``GAP_WEEKS``) —
  an update marked "not accurate", a concern, or a satisfaction score of ``LOW_SCORE`` or less; and
- the **agency's own view** stayed positive: no expectation note of those weeks said "worse
  than expected", and the project's health is on track now or a note said "as expected"
  (or better).

The item suggests a call in the client's preferred channel (email, phone, meeting) and links
to the client's profile, where the decision makers and sensitivities are. A constant number
of queries: the candidates are found in SQL (one query), and only they are loaded and judged.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, case, distinct, func, or_, select

from portal.attention import EXPANDED_LIMIT, Group, Item, StaffScope
from portal.extensions import db
from portal.models import AckChoice, Assessment, ExpectationNote, Update, UpdateAcknowledgement, UpdateStatus

GAP_DAYS = 21
GAP_WEEKS = 2  # of the three weeks, at least this many with a negative answer
LOW_SCORE = 2  # a satisfaction score this low or lower is a negative answer


def perception_gaps(scope: StaffScope) -> Group:
    """Projects whose client answered negatively for weeks while the agency's view stayed positive, the longest first."""
    from portal.health import HealthStatus, health_for  # health reads the ledger; the ledger's pages read health

    kind = "perception_gap"
    now = scope.now
    start = now - timedelta(days=GAP_DAYS)
    answered = UpdateAcknowledgement.updated_at
    week = case((answered >= now - timedelta(days=7), 0), (answered >= now - timedelta(days=14), 1), else_=2)
    negative = or_(
        UpdateAcknowledgement.choice.in_([AckChoice.NOT_ACCURATE, AckChoice.CONCERN]),
        and_(UpdateAcknowledgement.score.is_not(None), UpdateAcknowledgement.score <= LOW_SCORE),
    )
    candidates = {
        row.project_id: row
        for row in db.session.execute(
            select(
                Update.project_id,
                func.count(distinct(week)).label("weeks"),
                func.count().label("answers"),
                func.min(answered).label("first"),
            )
            .join(UpdateAcknowledgement, UpdateAcknowledgement.update_id == Update.id)
            .where(Update.project_id.in_(scope.ids), Update.status == UpdateStatus.PUBLISHED, answered >= start, answered <= now, negative)
            .group_by(Update.project_id)
            .having(func.count(distinct(week)) >= GAP_WEEKS)
            .order_by(func.min(answered), Update.project_id)
            .limit(EXPANDED_LIMIT)
        )
    }
    if not candidates:
        return scope.group(kind, [])
    views: dict[int, set[Assessment]] = {project_id: set() for project_id in candidates}
    for project_id, assessment in db.session.execute(
        select(ExpectationNote.project_id, ExpectationNote.assessment).where(
            ExpectationNote.project_id.in_(list(candidates)),
            ExpectationNote.created_at >= start,
            ExpectationNote.assessment.is_not(None),
        )
    ):
        if assessment is not None:
            views[project_id].add(assessment)
    projects = scope.projects_of(candidates)
    health = health_for(list(projects.values()), now)
    items = []
    for project_id, row in candidates.items():
        project = projects.get(project_id)
        seen = views[project_id]
        if project is None or Assessment.WORSE in seen:
            continue
        if health[project_id].status is not HealthStatus.ON_TRACK and not seen & {Assessment.AS_EXPECTED, Assessment.BETTER}:
            continue
        items.append(
            Item(
                kind,
                project.name,
                project,
                row.first,
                "clients.show",
                {"client_id": project.client_id},
                {"channel": project.client.preferred_channel.value, "weeks": row.weeks, "answers": row.answers, "client": project.client.name},
            )
        )
    return scope.group(kind, items)
