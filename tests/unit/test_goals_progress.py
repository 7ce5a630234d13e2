"""Expected against actual: the interpolation, the variance and the status thresholds."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal import create_app
from portal.config import ConfigError
from portal.goals.progress import (
    ProgressStatus,
    Thresholds,
    compute_progress,
    expected_value,
    latest_check_in,
)
from portal.models import GoalCheckIn, GoalRevision, GoalState, MeasureKind

START = date(2026, 1, 1)
END = date(2026, 4, 11)  # 100 days later
THRESHOLDS = Thresholds(at_risk=Decimal(10), off_track=Decimal(25))


def revision(baseline: str | None = "100", target: str | None = "200", **values) -> GoalRevision:
    """Return agreed metric terms: baseline on 1 January, target on 11 April (100 days)."""
    defaults = {
        "number": 1,
        "title": "Orders",
        "measure": MeasureKind.METRIC,
        "metric_name": "Orders",
        "baseline": Decimal(baseline) if baseline is not None else None,
        "target": Decimal(target) if target is not None else None,
        "unit": "orders",
        "target_date": END,
        "agreed_on": START,
    }
    defaults.update(values)
    return GoalRevision(**defaults)


def check_in(day: date, value: str | None = None, done: bool | None = None, id: int = 1) -> GoalCheckIn:
    """Return a check-in on ``day``."""
    return GoalCheckIn(id=id, measured_on=day, value=Decimal(value) if value is not None else None, done=done)


def progress_on(day: date, actual: str | None, terms: GoalRevision | None = None, state: GoalState = GoalState.AGREED):
    """Return the progress of an agreed goal with one check-in of ``actual`` on ``day``."""
    terms = terms or revision()
    latest = check_in(day, actual) if actual is not None else None
    return compute_progress(state, terms, latest, day, THRESHOLDS)


# --- The expected line ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (START - timedelta(days=5), "100"),  # before the agreement: the baseline
        (START, "100"),
        (START + timedelta(days=25), "125"),
        (START + timedelta(days=50), "150"),
        (END, "200"),
        (END + timedelta(days=30), "200"),  # after the target date: the target
    ],
)
def test_expected_value_moves_in_a_straight_line_from_agreement_to_target_date(day, expected):
    """The expected value is the baseline on the day of agreement and the target on the target date."""
    assert expected_value(revision(), day) == Decimal(expected)


def test_expected_value_of_a_lower_is_better_goal_goes_down():
    """Page load time from 3000 ms to 1500 ms: halfway, 2250 ms are expected."""
    assert expected_value(revision("3000", "1500", unit="ms"), START + timedelta(days=50)) == Decimal(2250)


def test_expected_value_rounds_to_the_stored_precision():
    """A third of the way is rounded to four decimals, not left as a long fraction."""
    terms = revision("0", "1", target_date=START + timedelta(days=3))
    assert expected_value(terms, START + timedelta(days=1)) == Decimal("0.3333")


def test_agreement_after_the_target_date_expects_the_target():
    """A goal agreed late expects its target straight away instead of dividing by a negative span."""
    terms = revision(agreed_on=END + timedelta(days=3))
    assert expected_value(terms, END + timedelta(days=4)) == Decimal(200)


# --- Variance and status ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "status", "behind"),
    [
        ("150", ProgressStatus.ON_TRACK, "0.0"),  # exactly on plan
        ("170", ProgressStatus.ON_TRACK, "-20.0"),  # ahead is on track
        ("140", ProgressStatus.ON_TRACK, "10.0"),  # 10 % of the planned change behind: the edge stays on track
        ("139", ProgressStatus.AT_RISK, "11.0"),
        ("125", ProgressStatus.AT_RISK, "25.0"),  # 25 % behind: still at risk
        ("124", ProgressStatus.OFF_TRACK, "26.0"),
        ("90", ProgressStatus.OFF_TRACK, "60.0"),  # below the baseline
    ],
)
def test_status_follows_how_far_behind_plan_the_actual_value_is(actual, status, behind):
    """Halfway (150 expected), the status follows the shortfall as a share of the planned change (100)."""
    progress = progress_on(START + timedelta(days=50), actual)
    assert progress.expected == Decimal(150)
    assert progress.actual == Decimal(actual)
    assert progress.variance == Decimal(actual) - Decimal(150)
    assert progress.behind_percent == Decimal(behind)
    assert progress.status is status


@pytest.mark.parametrize(
    ("actual", "status"),
    [
        ("2250", ProgressStatus.ON_TRACK),
        ("2000", ProgressStatus.ON_TRACK),  # faster than planned
        ("2400", ProgressStatus.ON_TRACK),  # 150 ms slow: exactly 10 % of the 1500 ms planned change
        ("2500", ProgressStatus.AT_RISK),  # 16.7 % behind
        ("2700", ProgressStatus.OFF_TRACK),  # 30 % behind
    ],
)
def test_lower_is_better_goals_are_judged_in_their_direction(actual, status):
    """For a goal whose target is below its baseline, a higher actual value is the bad news."""
    terms = revision("3000", "1500", unit="ms")
    assert progress_on(START + timedelta(days=50), actual, terms).status is status


def test_thresholds_are_configurable():
    """Stricter thresholds turn the same shortfall into worse news."""
    strict = Thresholds(at_risk=Decimal(2), off_track=Decimal(5))
    progress = compute_progress(GoalState.AGREED, revision(), check_in(START + timedelta(days=50), "144"), START + timedelta(days=50), strict)
    assert progress.status is ProgressStatus.OFF_TRACK
    assert progress_on(START + timedelta(days=50), "144").status is ProgressStatus.ON_TRACK


def test_percent_complete_is_clamped_for_progress_bars():
    """The bar shows 0–100 % of the way from baseline to target, whatever the actual value."""
    assert progress_on(START + timedelta(days=50), "130").percent_complete == 30
    assert progress_on(START + timedelta(days=50), "80").percent_complete == 0
    assert progress_on(START + timedelta(days=50), "260").percent_complete == 100
    assert progress_on(START + timedelta(days=50), "2100", revision("3000", "1500")).percent_complete == 60


def test_no_check_in_yet_has_an_expected_value_but_no_status_verdict():
    """Before the first measurement the goal says so, instead of guessing."""
    progress = progress_on(START + timedelta(days=20), None)
    assert (progress.status, progress.expected, progress.actual, progress.variance) == (
        ProgressStatus.NO_DATA,
        Decimal(120),
        None,
        None,
    )


def test_the_latest_check_in_on_or_before_the_date_counts():
    """Later measurements are ignored for an earlier date; on the same day the last one recorded wins."""
    ins = [check_in(START + timedelta(days=10), "110", id=1), check_in(START + timedelta(days=20), "115", id=2),
           check_in(START + timedelta(days=20), "118", id=3), check_in(START + timedelta(days=40), "150", id=4)]
    assert latest_check_in(ins, START + timedelta(days=25)).value == Decimal(118)
    assert latest_check_in(ins, START + timedelta(days=5)) is None


def test_done_when_goals_are_done_or_not_done():
    """A statement goal has no numbers: its latest check-in says done or not."""
    terms = revision(measure=MeasureKind.DONE_WHEN, baseline=None, target=None, done_when="Checkout live")
    day = START + timedelta(days=10)
    done = compute_progress(GoalState.AGREED, terms, check_in(day, done=True), day, THRESHOLDS)
    not_done = compute_progress(GoalState.AGREED, terms, check_in(day, done=False), day, THRESHOLDS)
    nothing = compute_progress(GoalState.AGREED, terms, None, day, THRESHOLDS)
    assert (done.status, done.percent_complete, done.expected) == (ProgressStatus.DONE, 100, None)
    assert not_done.status is ProgressStatus.NOT_DONE and nothing.status is ProgressStatus.NOT_DONE


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (GoalState.PROPOSED, ProgressStatus.NOT_AGREED),
        (GoalState.DECLINED, ProgressStatus.NOT_AGREED),
        (GoalState.DROPPED, ProgressStatus.DROPPED),
    ],
)
def test_goals_without_agreed_terms_are_not_measured(state, status):
    """Nothing is in force before agreement, so there is nothing to be behind on."""
    assert compute_progress(state, None, None, START, THRESHOLDS).status is status


def test_closed_goals_report_their_outcome_with_their_last_numbers():
    """An achieved or missed goal keeps its expected and actual values but reports its outcome."""
    day = START + timedelta(days=50)
    progress = compute_progress(GoalState.MISSED, revision(), check_in(day, "120"), day, THRESHOLDS)
    assert progress.status is ProgressStatus.MISSED and progress.actual == Decimal(120)
    assert progress.status.needs_attention


# --- Configuration ------------------------------------------------------------------------


def test_thresholds_come_from_the_configuration():
    """GOAL_AT_RISK_PERCENT and GOAL_OFF_TRACK_PERCENT set the thresholds, and nonsense is refused."""
    assert Thresholds.from_config({"GOAL_AT_RISK_PERCENT": 5, "GOAL_OFF_TRACK_PERCENT": "12.5"}) == Thresholds(
        Decimal(5), Decimal("12.5")
    )
    for bad in ({"GOAL_AT_RISK_PERCENT": 30, "GOAL_OFF_TRACK_PERCENT": 20}, {"GOAL_AT_RISK_PERCENT": "lots"}, {"GOAL_AT_RISK_PERCENT": -1}):
        with pytest.raises(ConfigError):
            Thresholds.from_config(bad)


def test_the_app_refuses_to_start_with_inverted_thresholds(tmp_path):
    """A deployment with at-risk above off-track fails loudly at start, not on the first goal page."""
    with pytest.raises(ConfigError):
        create_app(
            {
                "ENV": "testing",
                "SECRET_KEY": "x",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                "GOAL_AT_RISK_PERCENT": 40,
                "GOAL_OFF_TRACK_PERCENT": 20,
            }
        )
