"""The weekly slot: a weekday and hour in the project's own time zone, one per ISO week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from portal.weekly.facts import Fact
from portal.weekly.slots import latest_slot, next_slot, slot_for, weeks_between


@dataclass
class P:
    """The slot settings of a project."""

    timezone: str
    weekly_weekday: int
    weekly_hour: int


def test_slot_is_local_weekday_and_hour():
    """Monday 09:00 in Istanbul is 06:00 UTC."""
    slot = slot_for(P("Europe/Istanbul", 0, 9), 2026, 11)
    assert slot.at == datetime(2026, 3, 9, 6, tzinfo=UTC)
    assert slot.local_date.isoformat() == "2026-03-09" and slot.label == "2026-W11"


def test_hour_skipped_by_spring_forward_still_has_one_slot():
    """01:00 does not exist in London on 29 March 2026; the slot falls at the same instant as 02:00 BST."""
    slot = slot_for(P("Europe/London", 6, 1), 2026, 13)
    assert slot.at == datetime(2026, 3, 29, 1, tzinfo=UTC)


def test_hour_repeated_by_fall_back_takes_the_first():
    """01:00 happens twice in London on 25 October 2026; the slot is the first (BST)."""
    slot = slot_for(P("Europe/London", 6, 1), 2026, 43)
    assert slot.at == datetime(2026, 10, 25, 0, tzinfo=UTC)


def test_week_is_that_of_the_local_date():
    """Monday 00:00 at UTC+14 is still Sunday in UTC, but it belongs to the local ISO week."""
    project = P("Pacific/Kiritimati", 0, 0)
    slot = slot_for(project, 2026, 11)
    assert slot.at == datetime(2026, 3, 8, 10, tzinfo=UTC)  # a Sunday in UTC
    assert latest_slot(project, datetime(2026, 3, 8, 10, tzinfo=UTC)).key == (2026, 11)
    assert latest_slot(project, datetime(2026, 3, 8, 9, 59, tzinfo=UTC)).key == (2026, 10)


def test_latest_and_next_slot_around_the_hour():
    """At the slot the update is due; a minute before, last week's was the latest."""
    project = P("Europe/Istanbul", 0, 9)
    at = datetime(2026, 3, 9, 6, tzinfo=UTC)
    assert latest_slot(project, at).key == (2026, 11)
    assert latest_slot(project, at.replace(minute=0, hour=5)).key == (2026, 10)
    assert next_slot(project, at).key == (2026, 12)


def test_weeks_between_crosses_the_year():
    """Missed weeks across New Year follow ISO weeks (2026 has 53)."""
    project = P("UTC", 0, 9)
    last = slot_for(project, 2027, 2)
    assert [s.label for s in weeks_between(project, (2026, 52), last)] == ["2026-W53", "2027-W01", "2027-W02"]


def test_fact_refuses_unknown_severity_and_outside_links():
    """A provider's mistake is caught when the fact is made, not when a client reads it."""
    with pytest.raises(ValueError, match="severity must be one of"):
        Fact("x", "terrible")
    with pytest.raises(ValueError, match="must be a path inside the portal"):
        Fact("x", "bad", link="https://evil.example/")
    with pytest.raises(ValueError, match="must be a path inside the portal"):
        Fact("x", "bad", link="//evil.example/")
    with pytest.raises(ValueError, match="must be a path inside the portal"):
        Fact("x", "bad", link="/\\evil.example/")
    with pytest.raises(TypeError):
        Fact("x", "bad", {"when": datetime(2026, 1, 1, tzinfo=UTC)}).to_json()
