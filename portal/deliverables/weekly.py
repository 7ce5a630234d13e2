"""What deliverables contribute to the weekly update and to the weekly expectation note (registered by ``init_app``).

Weekly update kinds (sentences in ``templates/deliverables/_facts.html``), from
:func:`deliverable_facts`:

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

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import joinedload

from portal.deliverables.queries import Row, rows_for
from portal.extensions import db
from portal.models import (
    Decision,
    Deliverable,
    DeliverableStatus,
    DeliverableVersion,
    Project,
    ProjectMember,
    Role,
    User,
)
from portal.timeutil import project_today, zone_named
from portal.urls import portal_path
from portal.weekly.facts import Fact, Period, batch_provider

# The kinds whose sentences are in templates/deliverables/_facts.html (portal.weekly.facts.fact_sentences).
SENTENCE_KINDS = frozenset(
    {
        "deliverable_overdue",
        "deliverable_over_rounds",
        "deliverable_waiting",
        "deliverable_decision",
        "deliverable_due",
        "deliverable_schedule",
    }
)

DUE_HORIZON = timedelta(weeks=6)


def deliverable_facts(project: Project, period_start: datetime, period_end: datetime, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Return the state of ``project``'s deliverables as plain, JSON-ready data for the weekly update.

    ``period_start`` (inclusive) and ``period_end`` (exclusive) bound the week being
    reported, ``now`` is the moment of composing; all aware UTC. "Today" is the
    calendar day of ``now`` in the project's time zone. Four queries, whatever the
    number of deliverables. Dates are ISO strings, ``link`` a path inside the portal.
    Every list is in the order a reader needs it:

    - ``overdue``: not approved, due date before today, most overdue first —
      ``{deliverable_id, title, due_date, days_late, status, waiting_on: "client"|"agency", link}``.
    - ``waiting_on_client``: the current version waits for the approvers, longest waiting first —
      ``{deliverable_id, title, version, since (ISO datetime), days_waiting, waiting_for: [names], link}``
      (``waiting_for``: every approver who has not decided on that version).
    - ``decisions``: every decision made in the period, oldest first —
      ``{deliverable_id, title, version, approver, outcome: "approve"|"changes_requested",
      reason: "off_brief"|"quality"|"factual_error"|"new_request"|"other"|None, text,
      decided_at (ISO datetime), version_status, link}``.
    - ``next_due``: not approved, due today or later, soonest first —
      ``{deliverable_id, title, due_date, days_left, status, waiting_on, link}``.
    - ``rounds``: every deliverable with a submitted version —
      ``{deliverable_id, title, used, included, over: used > included, link}``.

    ``status`` is a :class:`~portal.models.deliverables.DeliverableStatus` value.
    """
    return deliverable_states([Period(project, period_start, period_end, now)])[0]


def _rows_of(periods: Sequence[Period], *, with_now: bool) -> dict[tuple[int, datetime | None], list[Row]]:
    """Return each project's deliverable rows (``rows_for``), keyed by (project, now): one query per distinct moment."""
    found: dict[tuple[int, datetime | None], list[Row]] = {}
    moments: dict[datetime | None, list[Project]] = defaultdict(list)
    for period in periods:
        moments[period.now if with_now else None].append(period.project)
    for moment, projects in moments.items():
        for project_id, rows in rows_for(projects, now=moment).items():
            found[(project_id, moment)] = rows
    return found


def approvers_of(project_ids: Sequence[int]) -> dict[int, list[User]]:
    """Return each project's active client approvers, by name (``portal.deliverables.review.approvers``, one query for all)."""
    found: dict[int, list[User]] = defaultdict(list)
    if not project_ids:
        return found
    for project_id, user in db.session.execute(
        select(ProjectMember.project_id, User)
        .join(User, User.id == ProjectMember.user_id)
        .join(Project, Project.id == ProjectMember.project_id)
        .where(
            ProjectMember.project_id.in_(project_ids),
            ProjectMember.is_approver.is_(True),
            User.role == Role.CLIENT,
            User.client_id == Project.client_id,
            User.active.is_(True),
        )
        .order_by(User.name, User.id)
    ):
        found[project_id].append(user)
    return found


def deliverable_states(periods: Sequence[Period]) -> list[dict[str, list[dict[str, Any]]]]:
    """Return :func:`deliverable_facts` for each period of a batch, in four queries for the whole batch."""
    rows_by_project = _rows_of(periods, with_now=True)
    prepared = []
    waiting_projects: set[int] = set()
    versions: list[int] = []
    for period in periods:
        project, now = period.project, period.now
        today = project_today(project, now)
        rows = rows_by_project.get((project.id, now), [])
        overdue: list[dict[str, Any]] = []
        next_due: list[dict[str, Any]] = []
        rounds: list[dict[str, Any]] = []
        waiting: list[tuple[Deliverable, DeliverableVersion, datetime]] = []
        for row in rows:
            d = row.deliverable
            if d.due_date is not None and d.status is not DeliverableStatus.APPROVED:
                due = d.due_date.isoformat()
                turn = {"status": d.status.value, "waiting_on": _waiting_on(d)}
                if d.due_date < today:
                    overdue.append({**_base(d), "due_date": due, "days_late": (today - d.due_date).days, **turn})
                else:
                    next_due.append({**_base(d), "due_date": due, "days_left": (d.due_date - today).days, **turn})
            if row.current is not None:
                rounds.append({**_base(d), "used": row.rounds_used, "included": d.included_rounds, "over": row.over_rounds})
                if row.waiting_since is not None:
                    waiting.append((d, row.current, row.waiting_since))
        if waiting:
            waiting_projects.add(project.id)
            versions.extend(version.id for _d, version, _since in waiting)
        prepared.append((overdue, next_due, rounds, waiting))

    people = approvers_of(sorted(waiting_projects))
    decided: dict[int, set[int]] = defaultdict(set)
    if versions:
        for version_id, approver_id in db.session.execute(
            select(Decision.version_id, Decision.approver_id).where(Decision.version_id.in_(sorted(set(versions))))
        ):
            decided[version_id].add(approver_id)
    decisions_of: dict[int, list[Decision]] = defaultdict(list)
    for decision in db.session.scalars(
        select(Decision)
        .join(Deliverable, Deliverable.id == Decision.deliverable_id)
        .where(
            Deliverable.project_id.in_(sorted({p.project.id for p in periods})),
            Decision.decided_at >= min(p.period_start for p in periods),
            Decision.decided_at < max(p.period_end for p in periods),
        )
        .options(joinedload(Decision.approver), joinedload(Decision.version), joinedload(Decision.deliverable))
        .order_by(Decision.decided_at, Decision.id)
    ):
        decisions_of[decision.deliverable.project_id].append(decision)

    states = []
    for period, (overdue, next_due, rounds, waiting) in zip(periods, prepared, strict=True):
        now = period.now
        waiting_entries = []
        for d, version, since in sorted(waiting, key=lambda entry: (entry[2], entry[0].id)):
            waiting_entries.append(
                {
                    **_base(d),
                    "version": version.number,
                    "since": since.isoformat(),
                    "days_waiting": (now - since).days,
                    "waiting_for": [p.display_name for p in people.get(period.project.id, []) if p.id not in decided[version.id]],
                }
            )
        decision_entries = [
            {
                **_base(decision.deliverable),
                "version": decision.version.number,
                "approver": decision.approver.display_name,
                "outcome": decision.outcome.value,
                "reason": decision.reason_category.value if decision.reason_category else None,
                "text": decision.text,
                "decided_at": decision.decided_at.isoformat(),
                "version_status": decision.version.status.value,
            }
            for decision in decisions_of.get(period.project.id, [])
            if period.period_start <= decision.decided_at < period.period_end
        ]
        overdue.sort(key=lambda item: (-item["days_late"], item["deliverable_id"]))
        next_due.sort(key=lambda item: (item["days_left"], item["deliverable_id"]))
        states.append({
            "overdue": overdue,
            "waiting_on_client": waiting_entries,
            "decisions": decision_entries,
            "next_due": next_due,
            "rounds": rounds,
        })
    return states


def _base(d: Deliverable) -> dict[str, Any]:
    """Return what every entry says about its deliverable."""
    return {"deliverable_id": d.id, "title": d.title, "link": portal_path("deliverables.show", deliverable_id=d.id)}


def _waiting_on(d: Deliverable) -> str:
    """Return whose turn it is: "client" or "agency"."""
    return "client" if d.status.waiting_on_client else "agency"


@batch_provider
def deliverable_weekly_facts(periods: Sequence[Period]) -> list[list[Fact]]:
    """Return overdue work and rounds beyond the agreement, reviews waiting on the client, the week's decisions, due dates."""
    states = deliverable_states(periods)  # four queries at most, for the whole batch
    over_ids = sorted({entry["deliverable_id"] for state in states for entry in state["rounds"] if entry["over"]})
    impact: dict[int, str] = {}
    if over_ids:
        impact = dict(
            db.session.execute(
                select(Deliverable.id, DeliverableVersion.impact_note)
                .join(
                    DeliverableVersion,
                    and_(DeliverableVersion.deliverable_id == Deliverable.id, DeliverableVersion.number == Deliverable.current_number),
                )
                .where(Deliverable.id.in_(over_ids))
            ).all()
        )

    def fact(kind: str, severity: str, entry: dict[str, Any], **extra: Any) -> Fact:
        """Return a fact of ``kind`` saying what ``entry`` says (and ``extra``), linking where the entry links."""
        params = {k: v for k, v in entry.items() if k != "link"}
        return Fact(kind, severity, {**params, **extra}, entry["link"])

    results = []
    for state in states:
        facts: list[Fact] = []
        for entry in state["overdue"]:
            facts.append(fact("deliverable_overdue", "bad", entry))
        for entry in state["rounds"]:
            if entry["over"]:
                facts.append(fact("deliverable_over_rounds", "bad", entry, impact=impact.get(entry["deliverable_id"]) or ""))
        for entry in state["waiting_on_client"]:
            facts.append(fact("deliverable_waiting", "waiting", entry))
        for entry in state["decisions"]:
            facts.append(fact("deliverable_decision", "decision", entry))
        for entry in state["next_due"]:
            if entry["days_left"] <= DUE_HORIZON.days:
                facts.append(fact("deliverable_due", "deadline", entry))
        results.append(facts)
    return results


@batch_provider
def deliverable_lines(periods: Sequence[Period]) -> list[list[Fact]]:
    """Return every deliverable's due date against its approval (days late or early) and its rounds (one query for the batch)."""
    rows_by_project = _rows_of(periods, with_now=False)
    results = []
    for period in periods:
        project, now = period.project, period.now
        today = project_today(project, now)
        zone = zone_named(project.timezone)
        lines = []
        for row in sorted(rows_by_project.get((project.id, None), []), key=lambda r: r.deliverable.id):
            d = row.deliverable
            if d.due_date is None and row.current is None:
                continue  # nothing promised and nothing shown yet: no line to measure
            approved_on = d.approved_at.astimezone(zone).date() if d.status is DeliverableStatus.APPROVED and d.approved_at else None
            params: dict[str, Any] = {
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
        results.append(lines)
    return results
