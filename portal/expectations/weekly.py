"""Expectation vs reality, computed every week: providers, the weekly note's lines, and the chart.

The weekly run writes one note per project and week from the providers of
``portal.weekly.facts.expectation_facts`` (the same contract as ``weekly_facts``); a
goal's line, for example::

    Fact("goal_variance", "bad", {"goal_id": 7, "title": "Signups", "expected": 400, "actual": 310,
                                  "unit": "", "expected_pct": 40.0, "actual_pct": 31.0})

The chart plots, week by week, the mean of ``expected_pct`` and ``actual_pct`` (progress
from baseline to target, in percent) over every line of a weekly note that carries
both numbers. Until some provider writes such lines, the chart shows its empty state.

This module also tells the weekly *update* about staff notes: a shared note whose
reality is worse than expected is bad news (kind ``expectation_slip``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from portal.charts import PlotBox, even_ticks, path_data
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
from portal.urls import portal_path
from portal.weekly.facts import Fact
from portal.weekly.slots import late_after

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


# --- The chart: expected against actual across the goals, week by week --------------------


@dataclass(frozen=True)
class ChartPoint:
    """One week of the chart: mean expected and actual progress (percent) over the goals measured."""

    week_of: date
    label: str
    expected: float
    actual: float
    lines: int


def chart_points(notes: list[ExpectationNote]) -> list[ChartPoint]:
    """Return the chart's points from weekly notes (any order): weeks with at least one measured line."""
    points = []
    weekly = [(n.week_of, n) for n in notes if n.is_weekly and n.week_of]
    for week_of, note in sorted(weekly, key=lambda pair: pair[0]):
        measured = [_measured(fact.get("params") or {}) for fact in note.facts or []]
        pairs = [pair for pair in measured if pair is not None]
        if not pairs:
            continue
        expected = sum(e for e, _ in pairs) / len(pairs)
        actual = sum(a for _, a in pairs) / len(pairs)
        points.append(ChartPoint(week_of, f"{note.iso_year}-W{note.iso_week:02d}", expected, actual, len(pairs)))
    return points


def _measured(params: dict[str, Any]) -> tuple[float, float] | None:
    expected, actual = params.get("expected_pct"), params.get("actual_pct")
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)) and not isinstance(expected, bool):
        return float(expected), float(actual)
    return None


@dataclass(frozen=True)
class Chart(PlotBox):
    """The chart's plot box and what is drawn in it: percent of plan, week by week (no script, no inline style)."""

    y_max: float
    y_ticks: list[tuple[float, float]]  # (value, y)
    x_labels: list[tuple[float, str]]  # (x, label)
    expected_path: str
    actual_path: str
    dots: list[tuple[float, float, float, ChartPoint]]  # (x, y expected, y actual, point)


def layout_chart(points: list[ChartPoint], *, width: int = 640, height: int = 260) -> Chart | None:
    """Return the chart's geometry for ``points``, or None when there is nothing to draw."""
    if not points:
        return None
    box = PlotBox.with_margins(width, height, left=44, right=12, top=12, bottom=36)
    # The percent axis shows at least 0–100 % (the target) and grows in steps of 25 %.
    y_max = max(100.0, max(max(p.expected, p.actual) for p in points))
    y_max = float(int((y_max + 24.999) // 25 * 25))
    # One week per step; a single week sits in the middle.
    x_scale = box.x_scale(0, len(points) - 1) if len(points) > 1 else box.x_scale(-1, 1)
    y_scale = box.y_scale(0, y_max, clamp=True)

    def x(i: int) -> float:
        return round(x_scale(i), 1)

    def y(value: float) -> float:
        return round(y_scale(value), 1)

    every = max(1, len(points) // 8)
    return Chart(
        **asdict(box),
        y_max=y_max,
        y_ticks=[(v, y(v)) for v in even_ticks(0, y_max, 4)],
        x_labels=[(x(i), p.label) for i, p in enumerate(points) if i % every == 0 or i == len(points) - 1],
        expected_path=path_data((x(i), y(p.expected)) for i, p in enumerate(points)),
        actual_path=path_data((x(i), y(p.actual)) for i, p in enumerate(points)),
        dots=[(x(i), y(p.expected), y(p.actual), p) for i, p in enumerate(points)],
    )
