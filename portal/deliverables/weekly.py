"""What deliverables contribute to the weekly update and to the weekly expectation note (registered on import).

Weekly update kinds (sentences in ``templates/updates/_facts.html``), from
:func:`portal.deliverables.service.deliverable_facts`:

- ``deliverable_overdue`` (bad): not approved and past its due date — days late, whose turn it is.
- ``deliverable_over_rounds`` (bad): more revision rounds used than agreed, with the impact note
  the agency wrote when it submitted the version.
- ``deliverable_waiting`` (waiting): the current version waits for the client's review — days
  waiting, the approvers who still have to decide.
- ``deliverable_decision`` (decision): an approval or a change request of the period, with the
  reason category and the approver's text.
- ``deliverable_due`` (deadline): not approved, due within six weeks.

Expectation note kind: ``deliverable_schedule`` — every deliverable with a due date: approved on
it, early or late (or late so far), and the rounds used against those included.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, select

from portal.deliverables.service import deliverable_facts, rows_for
from portal.extensions import db
from portal.models import Deliverable, DeliverableStatus, DeliverableVersion, Project
from portal.timeutil import local_today, zone_named
from portal.urls import portal_path
from portal.weekly.facts import Fact

DUE_HORIZON = timedelta(weeks=6)


def deliverable_weekly_facts(project: Project, period_start: datetime, period_end: datetime, now: datetime) -> list[Fact]:
    """Return overdue work and rounds beyond the agreement, reviews waiting on the client, the week's decisions, due dates."""
    state = deliverable_facts(project, period_start, period_end, now)  # four queries at most
    facts: list[Fact] = []

    def fact(kind: str, severity: str, entry: dict, **extra) -> Fact:
        params = {k: v for k, v in entry.items() if k != "link"}
        return Fact(kind, severity, {**params, **extra}, entry["link"])

    for entry in state["overdue"]:
        facts.append(fact("deliverable_overdue", "bad", entry))
    over = [entry for entry in state["rounds"] if entry["over"]]
    if over:
        impact = dict(
            db.session.execute(
                select(Deliverable.id, DeliverableVersion.impact_note)
                .join(
                    DeliverableVersion,
                    and_(DeliverableVersion.deliverable_id == Deliverable.id, DeliverableVersion.number == Deliverable.current_number),
                )
                .where(Deliverable.id.in_([entry["deliverable_id"] for entry in over]))
            ).all()
        )
        for entry in over:
            facts.append(fact("deliverable_over_rounds", "bad", entry, impact=impact.get(entry["deliverable_id"]) or ""))
    for entry in state["waiting_on_client"]:
        facts.append(fact("deliverable_waiting", "waiting", entry))
    for entry in state["decisions"]:
        facts.append(fact("deliverable_decision", "decision", entry))
    for entry in state["next_due"]:
        if entry["days_left"] <= DUE_HORIZON.days:
            facts.append(fact("deliverable_due", "deadline", entry))
    return facts


def deliverable_lines(project: Project, period_start: datetime, period_end: datetime, now: datetime) -> list[Fact]:
    """Return every deliverable's due date against its approval (days late or early) and its rounds (one query)."""
    today = local_today(project.timezone, now)
    zone = zone_named(project.timezone)
    lines = []
    for row in sorted(rows_for([project]).get(project.id, []), key=lambda r: r.deliverable.id):
        d = row.deliverable
        if d.due_date is None and row.current is None:
            continue  # nothing promised and nothing shown yet: no line to measure
        approved_on = d.approved_at.astimezone(zone).date() if d.status is DeliverableStatus.APPROVED and d.approved_at else None
        params = {
            "deliverable_id": d.id,
            "title": d.title,
            "due_date": d.due_date.isoformat() if d.due_date else None,
            "approved_on": approved_on.isoformat() if approved_on else None,
            "rounds_used": row.rounds_used,
            "rounds_included": d.included_rounds,
            "over_rounds": row.over_rounds,
            "status": d.status.value,
        }
        if d.due_date is not None:
            # Positive: days late; negative: days early. Not approved yet: late so far, or days left.
            params["days_late"] = ((approved_on or today) - d.due_date).days
        late = params.get("days_late", 0) > 0
        if approved_on is not None:
            severity = "bad" if late or row.over_rounds else "progress"
        elif late or row.over_rounds:
            severity = "bad"
        else:
            severity = "deadline"
        lines.append(Fact("deliverable_schedule", severity, params, portal_path("deliverables.show", deliverable_id=d.id)))
    return lines
