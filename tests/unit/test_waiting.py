"""Waiting time split between the agency and the client: calendar days, overlaps, windows and time zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from portal.assets.queries import request_turns
from portal.deliverables.queries import waiting_turns
from portal.models import VersionStatus
from portal.waiting import AGENCY, CLIENT, Interval, Split, month_window, split, whole_days


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """Return a moment of 2026, in UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


NOW = at(12, 1)


def days(waited: Split) -> tuple[int, int]:
    """Return (agency, client) in whole days, the order the sentences use."""
    return waited.agency_days, waited.client_days


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (timedelta(hours=11, minutes=59, seconds=59), 0),
        (timedelta(hours=12), 1),
        (timedelta(days=1, hours=11), 1),
        (timedelta(days=1, hours=12), 2),
        (timedelta(days=6), 6),
    ],
)
def test_a_partial_day_rounds_half_up(span, expected):
    """Exact time is kept; whole days round half up (12 hours make a day, 11:59:59 do not)."""
    assert whole_days(span) == expected


def test_two_rounds_alternate_between_the_sides():
    """Preparing, review, changes, review again: each turn goes to the side that had to act."""
    waited = split(
        [
            Interval(at(11, 2), at(11, 6), AGENCY),  # the first version took 4 days
            Interval(at(11, 6), at(11, 9), CLIENT),  # the review 3
            Interval(at(11, 9), at(11, 10, 21), AGENCY),  # the second version 1.5
            Interval(at(11, 10, 21), at(11, 13), CLIENT),  # its review 2.5
        ],
        NOW,
    )
    assert (waited.agency, waited.client) == (timedelta(days=5, hours=12), timedelta(days=5, hours=12))
    assert days(waited) == (6, 6)


def test_a_review_over_a_weekend_counts_every_calendar_day():
    """Sent on Friday evening, decided on Monday morning: 2 days 15 hours, so 3 days — Saturday and Sunday count."""
    friday_evening, monday_morning = at(11, 6, 18), at(11, 9, 9)
    assert friday_evening.weekday() == 4 and monday_morning.weekday() == 0
    waited = split([Interval(friday_evening, monday_morning, CLIENT)], NOW)
    assert waited.client == timedelta(days=2, hours=15) and days(waited) == (0, 3)


def test_overlapping_turns_of_one_side_count_once():
    """Two client turns covering the same days are merged: 6 days, not 8."""
    waited = split([Interval(at(11, 1), at(11, 5), CLIENT), Interval(at(11, 3), at(11, 7), CLIENT)], NOW)
    assert days(waited) == (0, 6)


def test_when_the_sides_overlap_the_later_started_turn_wins():
    """The turn passed when the later interval began: an instant is never counted for both sides."""
    inside = split([Interval(at(11, 1), at(11, 11), AGENCY), Interval(at(11, 4), at(11, 6), CLIENT)], NOW)
    assert days(inside) == (8, 2)
    # The client's turn started first; the agency's, started later, takes over until it ends.
    crossing = split([Interval(at(11, 1), at(11, 11), CLIENT), Interval(at(11, 5), None, AGENCY)], at(11, 8))
    assert days(crossing) == (3, 4)
    # At equal starts the later one in the sequence wins.
    tied = split([Interval(at(11, 1), at(11, 3), CLIENT), Interval(at(11, 1), at(11, 3), AGENCY)], NOW)
    assert days(tied) == (2, 0)


def test_an_open_turn_runs_until_now_and_nothing_counts_after_now():
    """A version still in review waits until now; an end in the future is cut at now."""
    waited = split([Interval(at(11, 20), None, CLIENT), Interval(at(11, 18), at(11, 30), AGENCY)], now=at(11, 24))
    # The agency's turn is overtaken by the client's (started later) on the 20th.
    assert days(waited) == (2, 4)


def test_a_window_clips_every_turn():
    """Only the part inside [start, end) counts, and nothing after now."""
    window = (at(11, 1, 0), at(12, 1, 0))
    turns = [Interval(at(10, 25, 0), at(11, 3, 0), AGENCY), Interval(at(11, 28, 0), None, CLIENT)]
    assert days(split(turns, at(12, 10), window)) == (2, 3)
    assert days(split(turns, at(11, 29, 0), window)) == (2, 1)


def test_a_month_is_the_projects_calendar_month_in_its_own_zone():
    """November in Istanbul starts at 21:00 UTC on 31 October; December rolls over into January."""
    start, end = month_window("Europe/Istanbul", at(11, 15))
    assert (start.astimezone(UTC), end.astimezone(UTC)) == (at(10, 31, 21), at(11, 30, 21))
    # 22:30 UTC on 30 November is already December in Istanbul.
    assert month_window("Europe/Istanbul", at(11, 30, 22, 30))[0].astimezone(UTC) == at(11, 30, 21)
    start, end = month_window("UTC", at(12, 31, 23))
    assert (start, end) == (at(12, 1, 0), datetime(2027, 1, 1, tzinfo=UTC))
    # Thirteen hours of the 1st of November in Istanbul, ten in UTC: one day there, none here.
    turn = [Interval(at(10, 30, 12), at(11, 1, 10), CLIENT)]
    assert split(turn, NOW, month_window("Europe/Istanbul", at(11, 15))).client_days == 1
    assert split(turn, NOW, month_window("UTC", at(11, 15))).client_days == 0


def test_totals_add_the_exact_time_and_round_once():
    """Two items waiting 7 hours each make 14 hours: one day, not 0 + 0."""
    item = split([Interval(at(11, 2, 0), at(11, 2, 7), CLIENT)], NOW)
    assert item.client_days == 0
    assert (item + item).client_days == 1 and (item + item).to_params() == {"agency_days": 0, "client_days": 1}


def version(number: int, submitted: datetime | None, settled: datetime | None, status: VersionStatus) -> SimpleNamespace:
    """Return what waiting time reads of a version."""
    return SimpleNamespace(number=number, submitted_at=submitted, settled_at=settled, status=status)


def test_a_deliverables_turns_follow_its_submissions_and_decisions():
    """Agency until the first version; client until each decision; agency until the next version; after approval nobody."""
    turns = waiting_turns(
        at(11, 1),
        [
            version(3, at(11, 10), at(11, 12), VersionStatus.APPROVED),
            version(1, at(11, 3), at(11, 5), VersionStatus.CHANGES_REQUESTED),
            version(2, at(11, 7), at(11, 10), VersionStatus.SUPERSEDED),  # replaced while in review
            version(4, None, None, VersionStatus.DRAFT),
        ],
        {},
    )
    assert turns == [
        Interval(at(11, 1), at(11, 3), AGENCY),
        Interval(at(11, 3), at(11, 5), CLIENT),
        Interval(at(11, 5), at(11, 7), AGENCY),
        Interval(at(11, 7), at(11, 10), CLIENT),
        Interval(at(11, 10), at(11, 12), CLIENT),
    ]
    assert days(split(turns, NOW)) == (4, 7)


def test_a_reopened_deliverable_waits_on_the_agency_until_the_next_version():
    """A reopening hands the turn back to the agency; a version still in review waits on the client until now."""
    turns = waiting_turns(
        at(11, 1),
        [version(1, at(11, 2), at(11, 3), VersionStatus.APPROVED), version(2, at(11, 8), None, VersionStatus.IN_REVIEW)],
        {1: [at(11, 5)]},
    )
    assert turns[-2:] == [Interval(at(11, 5), at(11, 8), AGENCY), Interval(at(11, 8), None, CLIENT)]
    assert days(split(turns, at(11, 10))) == (4, 3)


def test_an_asset_requests_turns_follow_uploads_and_reviews():
    """Client until the first upload of a version, agency until its review, client again after a return."""
    returned = SimpleNamespace(created_at=at(11, 1), closed_at=None, current_version=2)
    turns = request_turns(returned, {1: at(11, 4)}, {1: at(11, 5)})
    assert turns == [Interval(at(11, 1), at(11, 4), CLIENT), Interval(at(11, 4), at(11, 5), AGENCY), Interval(at(11, 5), None, CLIENT)]
    assert days(split(turns, at(11, 9))) == (1, 7)
    # Cancelled while waiting on the client: the turn ends when it was closed.
    cancelled = SimpleNamespace(created_at=at(11, 1), closed_at=at(11, 3), current_version=1)
    assert days(split(request_turns(cancelled, {}, {}), at(11, 9))) == (0, 2)


def test_a_deliverable_never_submitted_waits_on_the_agency_since_it_was_added():
    """Nothing sent yet: the whole time so far is the agency's."""
    turns = waiting_turns(at(11, 1), [version(1, None, None, VersionStatus.DRAFT)], {})
    assert turns == [Interval(at(11, 1), None, AGENCY)]
    assert days(split(turns, at(11, 4))) == (3, 0)
