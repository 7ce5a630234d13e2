"""Goal sentences in the reader's language, as plain text (escaped by templates, raw in text emails).

Other features (the weekly update, expectation notes) use these to say how a goal
is doing in the same words as the goal page::

    from portal.goals.texts import progress_text
    progress_text(goal_progress(goal, on=today))   # "Expected on 12 March 2026: 1,200 visits. …"
"""

from __future__ import annotations

from flask_babel import format_date, gettext
from flask_babel import lazy_gettext as _l

from portal.goals.progress import GoalProgress, ProgressStatus
from portal.goals.units import format_computed, format_measure, format_percentage
from portal.models import GoalRevision, MeasureKind

STATUS_LABELS = {
    ProgressStatus.ON_TRACK: _l("On track"),
    ProgressStatus.AT_RISK: _l("At risk"),
    ProgressStatus.OFF_TRACK: _l("Off track"),
    ProgressStatus.NO_DATA: _l("No check-in yet"),
    ProgressStatus.DONE: _l("Done"),
    ProgressStatus.NOT_DONE: _l("Not done yet"),
    ProgressStatus.NOT_AGREED: _l("Not agreed yet"),
    ProgressStatus.ACHIEVED: _l("Achieved"),
    ProgressStatus.MISSED: _l("Missed"),
    ProgressStatus.DROPPED: _l("Dropped"),
}


def measure_text(revision: GoalRevision) -> str:
    """Return the success measure in one line: "Orders: from 120 orders to 200 orders" or "Done when: …"."""
    if revision.measure is MeasureKind.METRIC:
        return gettext(
            "%(metric)s: from %(baseline)s to %(target)s",
            metric=revision.metric_name,
            baseline=format_measure(revision.baseline, revision.unit),
            target=format_measure(revision.target, revision.unit),
        )
    return gettext("Done when: %(statement)s", statement=revision.done_when)


def variance_text(progress: GoalProgress) -> str:
    """Return how far ahead or behind plan the goal is, or "" before the first check-in."""
    revision = progress.revision
    if revision is None or progress.variance is None or progress.behind_percent is None:
        return ""
    amount = format_computed(abs(progress.variance), revision.unit)
    if progress.is_behind:
        return gettext(
            "Behind plan by %(amount)s, %(percent)s of the planned change.",
            amount=amount,
            percent=format_percentage(progress.behind_percent),
        )
    if progress.is_ahead:
        return gettext("Ahead of plan by %(amount)s.", amount=amount)
    return gettext("Exactly on plan.")


def progress_text(progress: GoalProgress) -> str:
    """Return expected, actual, variance and status as sentences, for readers of text and screen readers."""
    status = gettext("Status: %(status)s.", status=STATUS_LABELS[progress.status])
    revision = progress.revision
    if revision is None or progress.expected is None:
        return status
    expected = format_computed(progress.expected, revision.unit)
    if progress.actual is None or progress.measured_on is None:
        return " ".join(
            [gettext("Expected on %(date)s: %(expected)s. No check-in yet.", date=format_date(progress.on, "long"), expected=expected), status]
        )
    return " ".join(
        [
            gettext(
                "Expected on %(date)s: %(expected)s. Actual on %(measured)s: %(actual)s.",
                date=format_date(progress.on, "long"),
                expected=expected,
                measured=format_date(progress.measured_on, "long"),
                actual=format_measure(progress.actual, revision.unit),
            ),
            variance_text(progress),
            status,
        ]
    )
