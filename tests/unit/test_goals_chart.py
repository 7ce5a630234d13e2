"""The expected-vs-actual chart's geometry and labels, in English and Turkish."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale

from portal.charts import nice_ticks
from portal.goals.chart import build_chart
from portal.models import GoalCheckIn, GoalRevision, MeasureKind


def revision(**values) -> GoalRevision:
    """Return terms agreed on 1 March 2026: visits from 1000 to 2000 by 30 May 2026."""
    defaults = {
        "number": 1,
        "title": "Visits",
        "measure": MeasureKind.METRIC,
        "metric_name": "Monthly visits",
        "baseline": Decimal(1000),
        "target": Decimal(2000),
        "unit": "visits",
        "target_date": date(2026, 5, 30),
        "agreed_on": date(2026, 3, 1),
    }
    defaults.update(values)
    return GoalRevision(**defaults)


CHECK_INS = [
    GoalCheckIn(id=1, measured_on=date(2026, 3, 15), value=Decimal(1100)),
    GoalCheckIn(id=2, measured_on=date(2026, 4, 1), value=Decimal(1250)),
    GoalCheckIn(id=3, measured_on=date(2026, 4, 1), value=Decimal(1300)),  # a correction the same day
]


def test_the_expected_line_runs_from_baseline_at_agreement_to_target_at_the_target_date(app):
    """The dashed line starts bottom-left and ends top-right of the plot; check-ins sit between."""
    with force_locale("en"):
        chart = build_chart(revision(), CHECK_INS, today=date(2026, 4, 10))
    assert chart is not None
    (x0, y0), (x1, y1) = chart.expected
    assert (x0, x1) == (chart.left, chart.right)
    assert y0 > y1  # higher values are drawn higher up
    assert [p.label for p in chart.actual] == ["Mar 15, 2026: 1,100 visits", "Apr 1, 2026: 1,300 visits"]
    assert all(chart.left < p.x < chart.right and chart.top <= p.y <= chart.bottom for p in chart.actual)
    assert chart.left < chart.today_x < chart.right
    assert [t.label for t in chart.x_ticks][:2] == ["1 Mar 2026", "19 Mar"]  # the year once, then day and month
    assert chart.x_ticks[-1].anchor == "end"  # the last date stays inside the drawing


def test_axis_dates_are_written_in_the_readers_language(app):
    """The same chart read in Turkish names the months in Turkish."""
    with force_locale("tr"):
        chart = build_chart(revision(), CHECK_INS, today=date(2026, 4, 10))
    labels = " ".join(t.label for t in chart.x_ticks)
    assert "Mar" in labels and "Nis" in labels  # Mart, Nisan
    assert chart.actual[0].label == "15 Mar 2026: 1.100 ziyaret"


def test_a_lower_is_better_goal_draws_its_line_downwards(app):
    """Page load time from 3000 ms to 1500 ms: the expected line falls."""
    with force_locale("en"):
        chart = build_chart(revision(baseline=Decimal(3000), target=Decimal(1500), unit="ms"), [], today=date(2026, 3, 2))
    (_, y0), (_, y1) = chart.expected
    assert y0 < y1
    assert chart.actual == []


def test_check_ins_after_the_target_date_extend_the_chart(app):
    """A late measurement widens the time axis and the expected line stays flat at the target."""
    late = [GoalCheckIn(id=1, measured_on=date(2026, 6, 20), value=Decimal(1900))]
    with force_locale("en"):
        chart = build_chart(revision(), late, today=date(2026, 6, 21))
    assert len(chart.expected) == 3 and chart.expected[1][1] == chart.expected[2][1]
    assert chart.actual[0].x == pytest.approx(chart.right)
    assert chart.today_x is None  # after the last day drawn


def test_only_agreed_metric_goals_have_a_chart(app):
    """A "done when" goal or terms never agreed have nothing to draw."""
    assert build_chart(revision(measure=MeasureKind.DONE_WHEN), [], today=date(2026, 4, 1)) is None
    assert build_chart(revision(agreed_on=None), [], today=date(2026, 4, 1)) is None


@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [(1000, 2000, [1000, 1250, 1500, 1750, 2000]), (0, 7, [0, 2, 4, 6, 8]), (120, 200, [120, 140, 160, 180, 200]), (5, 5, [5, 5.25, 5.5, 5.75, 6])],
)
def test_axis_ticks_are_round_numbers_spanning_the_values(low, high, ticks):
    """The value axis uses round steps that include both ends."""
    assert nice_ticks(low, high) == ticks
