"""The expected-vs-actual chart of a metric goal, drawn on the server as SVG.

This module keeps what is the goal chart's own — its data (the agreed line, the
check-ins, the target, today) and its labels (dates in the viewer's language) — and
places them with the shared geometry of :mod:`portal.charts`.
``templates/goals/_chart.html`` draws it with CSS classes from ``static/css/app.css``
(no inline styles, no script: the CSP forbids them), with a title, a description
and a text summary for screen readers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import format_date

from portal.charts import PlotBox, nice_ticks, polyline_points
from portal.goals.units import format_measure, format_number
from portal.models import GoalCheckIn, GoalRevision, MeasureKind

BOX = PlotBox.with_margins(640, 300, left=72, right=20, top=20, bottom=48)


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


@dataclass(frozen=True)
class Chart(PlotBox):
    """Everything the template needs to draw one goal's chart: its plot box and what is drawn in it."""

    expected: list[tuple[float, float]]
    actual: list[Point]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    today_x: float | None
    today_anchor: str  # where the "Today" label sits against its line: start | end
    target: Point

    @property
    def expected_path(self) -> str:
        """Return the expected line as SVG polyline points."""
        return polyline_points(self.expected)

    @property
    def actual_path(self) -> str:
        """Return the actual line as SVG polyline points."""
        return polyline_points((p.x, p.y) for p in self.actual)


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
    measured = [(day, c.value) for day, c in sorted(by_day.items()) if c.value is not None]

    start = min([revision.agreed_on, *by_day])
    end = max([revision.target_date, *by_day])
    if end <= start:
        end = start + timedelta(days=1)
    span_days = (end - start).days
    values = [float(revision.baseline), float(revision.target), *(float(value) for _, value in measured)]
    y_values = nice_ticks(min(values), max(values))
    x_scale = BOX.x_scale(0, span_days)
    y_scale = BOX.y_scale(y_values[0], y_values[-1])

    def x_of(day: date) -> float:
        return x_scale((day - start).days)

    def y_of(value: float | Decimal) -> float:
        return y_scale(float(value))

    steps = min(5, span_days)
    days = sorted({start + timedelta(days=round(span_days * i / steps)) for i in range(steps + 1)})
    labels: dict[str, date] = {}
    for day, label in zip(days, _date_labels(days), strict=True):
        labels.setdefault(label, day)  # never the same label twice
    x_ticks = [Tick(x_of(day), label) for label, day in labels.items()]
    if len(x_ticks) > 1:
        x_ticks[-1] = Tick(x_ticks[-1].position, x_ticks[-1].label, "end")

    expected = [(x_of(revision.agreed_on), y_of(revision.baseline))]
    if revision.target_date > revision.agreed_on:
        expected.append((x_of(revision.target_date), y_of(revision.target)))
    if end > revision.target_date:
        expected.append((x_of(end), y_of(revision.target)))
    today_x = x_of(today) if start <= today <= end else None
    return Chart(
        **asdict(BOX),
        expected=expected,
        actual=[
            Point(x_of(day), y_of(value), f"{format_date(day, 'medium')}: {format_measure(value, revision.unit)}")
            for day, value in measured
        ],
        x_ticks=x_ticks,
        y_ticks=[Tick(y_of(v), format_number(Decimal(str(v)))) for v in y_values],
        today_x=today_x,
        today_anchor="end" if today_x is not None and today_x > (BOX.left + BOX.right) / 2 else "start",
        target=Point(
            x_of(revision.target_date),
            y_of(revision.target),
            f"{format_date(revision.target_date, 'medium')}: {format_measure(revision.target, revision.unit)}",
        ),
    )
