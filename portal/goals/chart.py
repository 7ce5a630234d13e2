"""The expected-vs-actual chart of a metric goal, drawn on the server as SVG.

This module only computes geometry and labels (dates in the viewer's language);
``templates/goals/_chart.html`` draws it with CSS classes from ``static/css/app.css``
(no inline styles, no script: the CSP forbids them), with a title, a description
and a text summary for screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import format_date

from portal.goals.units import format_measure, format_number
from portal.models import GoalCheckIn, GoalRevision, MeasureKind

WIDTH = 640
HEIGHT = 300
LEFT, RIGHT, TOP, BOTTOM = 72, 20, 20, 48


@dataclass(frozen=True)
class Tick:
    """A labelled position on an axis; ``anchor`` keeps the outermost labels inside the drawing."""

    position: float
    label: str
    anchor: str = "middle"  # start | middle | end


@dataclass(frozen=True)
class Point:
    """A check-in on the chart."""

    x: float
    y: float
    label: str  # "12 Mar 2026: 1,050 visits"


@dataclass
class Chart:
    """Everything the template needs to draw one goal's chart."""

    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    expected: list[tuple[float, float]] = field(default_factory=list)
    actual: list[Point] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    today_x: float | None = None
    today_anchor: str = "start"
    target: Point | None = None

    @property
    def expected_path(self) -> str:
        """Return the expected line as SVG polyline points."""
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.expected)

    @property
    def actual_path(self) -> str:
        """Return the actual line as SVG polyline points."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.actual)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Return round numbers spanning ``low``–``high`` (1, 2, 2.5 or 5 × a power of ten apart)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def _date_labels(days: list[date]) -> list[str]:
    """Return short axis labels: day and month, with the year on the first and whenever it changes."""
    if days and (days[-1] - days[0]).days > 400:
        return [format_date(day, "MMM y") for day in days]
    labels = []
    for index, day in enumerate(days):
        with_year = index == 0 or day.year != days[index - 1].year
        labels.append(format_date(day, "d MMM y" if with_year else "d MMM"))
    return labels


def build_chart(revision: GoalRevision, check_ins: Iterable[GoalCheckIn], today: date) -> Chart | None:
    """Return the chart of an agreed metric ``revision`` with its ``check_ins``, or None for other goals."""
    if (
        revision.measure is not MeasureKind.METRIC
        or revision.agreed_on is None
        or revision.baseline is None
        or revision.target is None
    ):
        return None
    # One value per day: the last one recorded that day.
    by_day: dict[date, GoalCheckIn] = {}
    for check_in in sorted(check_ins, key=lambda c: (c.measured_on, c.id or 0)):
        if check_in.value is not None:
            by_day[check_in.measured_on] = check_in
    measured = sorted(by_day.items())

    start = min([revision.agreed_on, *by_day])
    end = max([revision.target_date, *by_day])
    if end <= start:
        end = start + timedelta(days=1)
    values = [float(revision.baseline), float(revision.target), *(float(c.value) for _, c in measured if c.value is not None)]
    y_ticks = nice_ticks(min(values), max(values))
    y_low, y_high = y_ticks[0], y_ticks[-1]

    chart = Chart()
    span_days = (end - start).days

    def x_of(day: date) -> float:
        return chart.left + (chart.right - chart.left) * (day - start).days / span_days

    def y_of(value: float | Decimal) -> float:
        return chart.bottom - (chart.bottom - chart.top) * (float(value) - y_low) / (y_high - y_low)

    chart.y_ticks = [Tick(y_of(v), format_number(Decimal(str(v)))) for v in y_ticks]
    steps = min(5, span_days)
    days = sorted({start + timedelta(days=round(span_days * i / steps)) for i in range(steps + 1)})
    labels: dict[str, date] = {}
    for day, label in zip(days, _date_labels(days), strict=True):
        labels.setdefault(label, day)  # never the same label twice
    chart.x_ticks = [Tick(x_of(day), label) for label, day in labels.items()]
    if len(chart.x_ticks) > 1:
        last = chart.x_ticks[-1]
        chart.x_ticks[-1] = Tick(last.position, last.label, "end")

    chart.expected = [(x_of(revision.agreed_on), y_of(revision.baseline))]
    if revision.target_date > revision.agreed_on:
        chart.expected.append((x_of(revision.target_date), y_of(revision.target)))
    if end > revision.target_date:
        chart.expected.append((x_of(end), y_of(revision.target)))
    chart.target = Point(
        x_of(revision.target_date),
        y_of(revision.target),
        f"{format_date(revision.target_date, 'medium')}: {format_measure(revision.target, revision.unit)}",
    )
    chart.actual = [
        Point(x_of(day), y_of(c.value), f"{format_date(day, 'medium')}: {format_measure(c.value, revision.unit)}")
        for day, c in measured
        if c.value is not None
    ]
    if start <= today <= end:
        chart.today_x = x_of(today)
        chart.today_anchor = "end" if chart.today_x > (chart.left + chart.right) / 2 else "start"
    return chart
