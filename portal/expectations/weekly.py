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
and on the client, as :func:`portal.waiting.month_splits` adds them up.

The providers that read the database take a whole batch of projects (``batch_provider``):
one query per provider, whatever the number of projects, each period filtered in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

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
from portal.waiting import Interval, Split, month_window, split, waiting_sources
from portal.weekly.facts import Fact, Period, batch_provider
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


def _window(periods: Sequence[Period]) -> tuple[list[int], datetime, datetime]:
    """Return the projects of a batch and the span covering every period (one query reads it; each period is filtered after)."""
    return (
        sorted({p.project.id for p in periods}),
        min(p.period_start for p in periods),
        max(p.period_end for p in periods),
    )


@batch_provider
def acknowledgements(periods: Sequence[Period]) -> list[list[Fact]]:
    """Count how the client answered the updates of the period: do they agree with what we tell them? (one query)"""
    ids, start, end = _window(periods)
    found: dict[int, list[tuple[int, datetime | None, AckChoice | None]]] = defaultdict(list)
    for project_id, update_id, published_at, choice in db.session.execute(
        select(Update.project_id, Update.id, Update.published_at, UpdateAcknowledgement.choice)
        .outerjoin(UpdateAcknowledgement, UpdateAcknowledgement.update_id == Update.id)
        .where(
            Update.project_id.in_(ids),
            Update.status == UpdateStatus.PUBLISHED,
            Update.published_at >= start,
            Update.published_at < end,
        )
    ):
        found[project_id].append((update_id, published_at, choice))
    return [_acknowledgements(period, found.get(period.project.id, [])) for period in periods]


def _acknowledgements(period: Period, found: list[tuple[int, datetime | None, AckChoice | None]]) -> list[Fact]:
    """Return one period's acknowledgement count from its project's updates."""
    rows = [(update_id, choice) for update_id, at, choice in found if at is not None and period.period_start <= at < period.period_end]
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
    link = portal_path("updates.index", project_id=period.project.id)
    return [Fact("client_acknowledgements", "bad" if disagreed else "progress", params, link)]


@batch_provider
def staff_notes(periods: Sequence[Period]) -> list[list[Fact]]:
    """Count the shared notes staff wrote in the period, by how reality compared (one query)."""
    ids, start, end = _window(periods)
    found: dict[int, list[tuple[Assessment | None, datetime]]] = defaultdict(list)
    for project_id, assessment, created_at in db.session.execute(
        select(ExpectationNote.project_id, ExpectationNote.assessment, ExpectationNote.created_at).where(
            ExpectationNote.project_id.in_(ids),
            ExpectationNote.source == NoteSource.MANUAL,
            ExpectationNote.visibility == Visibility.SHARED,
            ExpectationNote.created_at >= start,
            ExpectationNote.created_at < end,
        )
    ):
        found[project_id].append((assessment, created_at))
    results: list[list[Fact]] = []
    for period in periods:
        counts: dict[Assessment | None, int] = defaultdict(int)
        for assessment, at in found.get(period.project.id, []):
            if period.period_start <= at < period.period_end:
                counts[assessment] += 1
        if not counts:
            results.append([])
            continue
        params = {
            "worse": counts.get(Assessment.WORSE, 0),
            "as_expected": counts.get(Assessment.AS_EXPECTED, 0),
            "better": counts.get(Assessment.BETTER, 0),
        }
        link = portal_path("expectations.index", project_id=period.project.id)
        results.append([Fact("staff_notes_summary", "bad" if params["worse"] else "progress", params, link)])
    return results


@batch_provider
def waiting_this_month(periods: Sequence[Period]) -> list[list[Fact]]:
    """Say how many days this month waited on the agency and on the client, as of the end of the week.

    The month is the project's calendar month in its own zone, up to the end of the period
    (a week caught up late says what was true at its end); nothing is said before a day waited.
    Added up as :func:`portal.waiting.month_splits` does, each period as of its own end, with
    every waiting source read once for the whole batch.
    """
    ids = sorted({p.project.id for p in periods})
    items: dict[int, list[Sequence[Interval]]] = defaultdict(list)
    for source in waiting_sources.values():
        for project_id, found in source(ids).items():
            items[project_id].extend(found)
    results: list[list[Fact]] = []
    for period in periods:
        project = period.project
        as_of = min(period.now, period.period_end)
        window = month_window(project.timezone, as_of)
        waited = Split()
        for intervals in items.get(project.id, []):
            waited += split(intervals, as_of, window)
        if waited.is_empty:
            results.append([])
            continue
        params: dict[str, object] = {**waited.to_params(), "month": as_of.astimezone(zone_named(project.timezone)).strftime("%Y-%m")}
        results.append([Fact("waiting_month", "note", params)])
    return results


# --- What staff notes add to the weekly update ------------------------------------------


@batch_provider
def expectation_slips(periods: Sequence[Period]) -> list[list[Fact]]:
    """Lead the weekly update with every shared note of the period where reality was worse than expected (one query)."""
    ids, start, end = _window(periods)
    found: dict[int, list[ExpectationNote]] = defaultdict(list)
    for note in db.session.scalars(
        select(ExpectationNote)
        .where(
            ExpectationNote.project_id.in_(ids),
            ExpectationNote.source == NoteSource.MANUAL,
            ExpectationNote.visibility == Visibility.SHARED,
            ExpectationNote.assessment == Assessment.WORSE,
            ExpectationNote.created_at >= start,
            ExpectationNote.created_at < end,
        )
        .order_by(ExpectationNote.created_at, ExpectationNote.id)
    ):
        found[note.project_id].append(note)
    return [
        [
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
                portal_path("expectations.index", project_id=period.project.id) + f"#note-{note.id}",
            )
            for note in found.get(period.project.id, [])
            if period.period_start <= note.created_at < period.period_end
        ]
        for period in periods
    ]
