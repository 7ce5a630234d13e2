"""What incidents contribute to the weekly update (registered by ``init_app``).

Kinds (sentences in ``templates/incidents/_facts.html``):

- ``incident_open`` (bad): an open shared incident, until it is closed — what happened, the impact on
  the client, the plan's progress ("2 of 5 steps done") and its next step with the step's date. It is
  registered first of the bad news, so it leads every weekly update; the preview shows it and offers
  no way to take it out, and the dispatch composes it again from the incident when the update goes.
- ``incident_closed`` (progress): a shared incident closed during the period, with the closing note.

Internal incidents never reach the weekly update.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import Incident, IncidentStatus, Visibility
from portal.urls import portal_path
from portal.weekly.facts import Fact, Period, batch_provider

SENTENCE_KINDS = frozenset({"incident_open", "incident_closed"})


def _open_fact(incident: Incident) -> Fact:
    steps = incident.steps
    upcoming = next((step for step in steps if not step.is_done), None)
    params = {
        "incident_id": incident.id,
        "title": incident.title,
        "impact": incident.impact,
        "detected_at": incident.detected_at.isoformat(),
        "done": sum(1 for step in steps if step.is_done),
        "total": len(steps),
        "next_step": upcoming.title if upcoming else None,
        "next_due": upcoming.due_on.isoformat() if upcoming else None,
        "next_by_client": bool(upcoming and upcoming.owner_is_client),
    }
    return Fact("incident_open", "bad", params, link=portal_path("incidents.show", incident_id=incident.id))


def _closed_fact(incident: Incident) -> Fact:
    params = {"incident_id": incident.id, "title": incident.title, "note": incident.closing_note}
    return Fact("incident_closed", "progress", params, link=portal_path("incidents.show", incident_id=incident.id))


@batch_provider
def incident_facts(periods: Sequence[Period]) -> list[list[Fact]]:
    """Return each period's incident facts: every open shared incident, and those closed in the period (two queries for the batch)."""
    if not periods:
        return []
    earliest = min(period.period_start for period in periods)
    incidents = db.session.scalars(
        select(Incident)
        .where(
            Incident.project_id.in_({period.project.id for period in periods}),
            Incident.visibility == Visibility.SHARED,
            or_(Incident.status == IncidentStatus.OPEN, Incident.closed_at >= earliest),
        )
        .options(selectinload(Incident.steps))
        .order_by(Incident.detected_at, Incident.id)
    )
    by_project: dict[int, list[Incident]] = defaultdict(list)
    for incident in incidents:
        by_project[incident.project_id].append(incident)
    results = []
    for period in periods:
        facts = []
        for incident in by_project.get(period.project.id, []):
            if incident.is_open:
                facts.append(_open_fact(incident))
            elif incident.closed_at is not None and period.period_start <= incident.closed_at < period.period_end:
                facts.append(_closed_fact(incident))
        results.append(facts)
    return results
