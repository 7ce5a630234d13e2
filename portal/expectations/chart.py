"""The expected-vs-reality chart: across a project's goals, week by week, drawn on the server as SVG.

It plots the mean of ``expected_pct`` and ``actual_pct`` (progress from baseline to
target, in percent) over every line of a weekly note that carries both numbers. Until
some provider writes such lines, the chart shows its empty state. The geometry shared
with the goal chart is in :mod:`portal.charts`; ``templates/expectations/_chart.html``
draws it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from portal.charts import PlotBox, even_ticks, path_data
from portal.models import ExpectationNote


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
    weekly = [(n.week_start, n) for n in notes if n.is_weekly and n.week_start]
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
    """Return a line's (expected, actual) percent of plan, or None when it carries no such numbers."""
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
