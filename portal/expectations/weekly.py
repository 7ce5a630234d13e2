"""Expectation vs reality, computed every week: the providers of the weekly note's lines.

The weekly run writes one note per project and week from the providers of
``portal.weekly.facts.expectation_facts`` (the same contract as ``weekly_facts``); a
goal's line, for example::

    Fact("goal_variance", "bad", {"goal_id": 7, "title": "Signups", "expected": 400, "actual": 310,
                                  "unit": "", "expected_pct": 40.0, "actual_pct": 31.0})

Lines that carry ``expected_pct`` and ``actual_pct`` are drawn week by week by
:mod:`portal.expectations.chart`.

This module also tells the weekly *update* about staff notes: a shared note whose
reality is worse than expected is bad news (kind ``expectation_slip``).

Both the note and the update say how this month's waiting was split (kind ``waiting_month``,
principle 10): the days the project's deliverables and asset requests waited on the agency
and on the client, from :func:`portal.waiting.month_splits`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    AckChoice,
    Assessment,
    ExpectationNote,
    NoteSource,
    Project,
    Update,
    UpdateAcknowledgement,
    UpdateStatus,
    Visibility,
)
from portal.timeutil import zone_named
from portal.urls import portal_path
from portal.waiting import month_splits
from portal.weekly.facts import Fact
from portal.weekly.slots import late_after

# The kinds whose sentences are in templates/expectations/_facts.html (portal.weekly.facts.fact_sentences).
SENTENCE_KINDS = frozenset(
    {
        "expectation_slip",
        "weekly_update_late",
        "weekly_update_on_time",
        "client_acknowledgements",
        "staff_notes_summary",
        "waiting_month",
    }
)

# --- Lines of the weekly expectation note -------------------------------------------------


def weekly_update_on_time(project: Project, period_start: datetime, period_end: datetime, now: datetime) -> list[Fact]:
    """Say whether this week's update went out at its slot (principle 3: we speak first, on time)."""
    late_by = now - period_end
    params = {"due": period_end.isoformat(), "sent": now.isoformat(), "hours": round(max(late_by.total_seconds(), 0) / 3600, 1)}
    if late_by > late_after():
        return [Fact("weekly_update_late", "bad", params)]
    return [Fact("weekly_update_on_time", "progress", params)]


def acknowledgements(project: Project, period_start: datetime, period_end: datetime, now: datetime) -> list[Fact]:
    """Count how the client answered the updates of the period: do they agree with what we tell them?"""
    rows = db.session.execute(
        select(Update.id, UpdateAcknowledgement.choice)
        .outerjoin(UpdateAcknowledgement, UpdateAcknowledgement.update_id == Update.id)
        .where(
            Update.project_id == project.id,
            Update.status == UpdateStatus.PUBLISHED,
            Update.published_at >= period_start,
            Update.published_at < period_end,
        )
    ).all()
    if not rows:
        return []
    updates = {update_id for update_id, _ in rows}
    answered = {update_id for update_id, choice in rows if choice is not None}
    choices = [choice for _, choice in rows if choice is not None]
    params = {
        "updates": len(updates),
        "accurate": choices.count(AckChoice.ACCURATE),
        "not_accurate": choices.count(AckChoice.NOT_ACCURATE),
        "concern": choices.count(AckChoice.CONCERN),
        "unanswered": len(updates - answered),
    }
    disagreed = params["not_accurate"] + params["concern"]
    link = portal_path("updates.index", project_id=project.id)
    return [Fact("client_acknowledgements", "bad" if disagreed else "progress", params, link)]


def staff_notes(project: Project, period_start: datetime, period_end: datetime, now: datetime) -> list[Fact]:
    """Count the shared notes staff wrote in the period, by how reality compared."""
    counts = dict(
        db.session.execute(
            select(ExpectationNote.assessment, func.count())
            .where(
                ExpectationNote.project_id == project.id,
                ExpectationNote.source == NoteSource.MANUAL,
                ExpectationNote.visibility == Visibility.SHARED,
                ExpectationNote.created_at >= period_start,
                ExpectationNote.created_at < period_end,
            )
            .group_by(ExpectationNote.assessment)
        ).all()
    )
    if not counts:
        return []
    params = {
        "worse": counts.get(Assessment.WORSE, 0),
        "as_expected": counts.get(Assessment.AS_EXPECTED, 0),
        "better": counts.get(Assessment.BETTER, 0),
    }
    link = portal_path("expectations.index", project_id=project.id)
    return [Fact("staff_notes_summary", "bad" if params["worse"] else "progress", params, link)]


def waiting_this_month(project: Project, period_start: datetime, period_end: datetime, now: datetime) -> list[Fact]:
    """Say how many days this month waited on the agency and on the client, as of the end of the week (six queries).

    The month is the project's calendar month in its own zone, up to the end of the period
    (a week caught up late says what was true at its end); nothing is said before a day waited.
    """
    as_of = min(now, period_end)
    waited = month_splits([project], as_of)[project.id]
    if waited.is_empty:
        return []
    params: dict[str, object] = {**waited.to_params(), "month": as_of.astimezone(zone_named(project.timezone)).strftime("%Y-%m")}
    return [Fact("waiting_month", "note", params)]


# --- What staff notes add to the weekly update ------------------------------------------


def expectation_slips(project: Project, period_start: datetime, period_end: datetime, now: datetime) -> list[Fact]:
    """Lead the weekly update with every shared note of the period where reality was worse than expected."""
    notes = db.session.scalars(
        select(ExpectationNote)
        .where(
            ExpectationNote.project_id == project.id,
            ExpectationNote.source == NoteSource.MANUAL,
            ExpectationNote.visibility == Visibility.SHARED,
            ExpectationNote.assessment == Assessment.WORSE,
            ExpectationNote.created_at >= period_start,
            ExpectationNote.created_at < period_end,
        )
        .order_by(ExpectationNote.created_at, ExpectationNote.id)
    )
    return [
        Fact(
            "expectation_slip",
            "bad",
            {
                "note_id": note.id,
                "expected": note.expected,
                "reality": note.reality,
                "variance": note.variance,
                "impact": note.impact,
                "next_step": note.next_step,
            },
            portal_path("expectations.index", project_id=project.id) + f"#note-{note.id}",
        )
        for note in notes
    ]
