"""One style for numbers, times, durations, week labels and time zones, in English and Turkish (issue 11)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale
from flask_wtf import FlaskForm

from portal.forms import TimezoneField, timezone_choices
from portal.goals.units import format_computed, format_percentage, round_computed
from portal.goals.weekly import number
from portal.models import Client, Project, ProjectStatus, Update
from portal.templating import duration_since, local_datetime
from portal.timeutil import canonical_timezones, is_canonical_timezone, iso_week_start, zone_city
from portal.weekly.slots import slot_for, upcoming_slot

# --- Computed values: two decimals, in pages, emails and the stored facts alike --------------------


@pytest.mark.parametrize(
    ("value", "unit", "locale", "text"),
    [
        ("474.7826", "orders", "en", "474.78 orders"),
        ("474.7826", "orders", "tr", "474,78 sipariş"),
        ("3596.7742", "ms", "en", "3,596.77\u00a0ms"),
        ("7.5294", "", "tr", "7,53"),
        ("221.4286", "leads", "en", "221.43 leads"),
        ("120", "orders", "en", "120 orders"),
    ],
)
def test_computed_values_print_with_at_most_two_decimals(app, value, unit, locale, text):
    """"474.7826 orders" reads "474.78 orders" (in Turkish "474,78 sipariş"); whole numbers stay whole."""
    with app.test_request_context("/"):
        assert format_computed(Decimal(value), unit, locale) == text


def test_the_weekly_facts_round_as_the_pages_do():
    """The facts stored with a weekly update carry the same rounding the goal page shows."""
    for value in ("474.7826", "0.005", "-6.0849", "167.1111"):
        assert number(Decimal(value), computed=True) == format(round_computed(Decimal(value)).normalize(), "f")
    assert number(Decimal("474.7826"), computed=True) == "474.78"
    assert number(Decimal("130.5")) == "130.5"  # entered values are kept as entered


@pytest.mark.parametrize(("locale", "text"), [("en", "33.6%"), ("tr", "%33,6")])
def test_percentages_go_through_babel_in_the_readers_language(app, locale, text):
    """A percentage of the planned change uses the reader's decimal sign and percent position."""
    with app.test_request_context("/"):
        assert format_percentage(33.6, locale=locale) == text
        assert format_percentage(Decimal("33.55"), locale=locale) == text  # rounded half up to one place
    with app.test_request_context("/"), force_locale(locale):
        assert format_percentage(34, places=0) == ("34%" if locale == "en" else "%34")


def test_a_turkish_off_track_sentence_has_one_decimal_separator(app):
    """The weekly sentence of a goal off track reads "%46,4" next to "37,11", never "%46.4"."""
    fact = {
        "kind": "goal_off_track",
        "severity": "bad",
        "params": {
            "title": "Online siparişler", "unit": "orders", "actual": "130", "expected": "167.11", "gap": "37.11",
            "behind_pct": 46.4, "measured_on": "2026-11-20", "on": "2026-11-23", "target": "200", "target_date": "2026-12-30",
        },
    }
    with app.test_request_context("/"), force_locale("tr"):
        macros = app.jinja_env.get_template("goals/_facts.html").module
        sentence = str(macros.headline(fact))
    assert "%46,4" in sentence and "37,11" in sentence and "167,11" in sentence, sentence
    assert not re.search(r"\d\.\d", sentence), sentence


# --- Times: hours and minutes, never seconds -------------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "tr"])
@pytest.mark.parametrize("fmt", ["short", "medium", "long", "full"])
def test_times_print_without_seconds(app, locale, fmt):
    """"9:00 AM" and "09:00", in every length of date: no "9:00:00 AM"."""
    moment = datetime(2026, 12, 7, 6, 0, 0, tzinfo=UTC)  # 09:00 in Istanbul
    with app.test_request_context("/"), force_locale(locale):
        text = local_datetime(moment, fmt)
    assert not re.search(r"\d:\d\d:\d\d", text), text
    assert re.search(r"\b0?9[:.]00\b", text), text
    assert re.search(r"\b(2026|26)\b", text), text  # the date is still there


def test_the_full_format_still_names_the_zone(app):
    """The preview's "It goes out on …" keeps the zone it is read in."""
    with app.test_request_context("/"), force_locale("en"):
        text = local_datetime(datetime(2026, 12, 7, 6, tzinfo=UTC), "full")
    assert text.startswith("Monday, December 7, 2026") and "9:00" in text and "Time" in text, text


# --- Durations: "for 1 month", not "1 month ago" ---------------------------------------------------------


@pytest.mark.parametrize(("locale", "words", "direction"), [("en", "1 month", "ago"), ("tr", "1 ay", "önce")])
def test_a_duration_has_no_direction(app, locale, words, direction):
    """How long something has waited is a duration: "1 month" ("1 ay"), with the exact moment on hover."""
    now = datetime(2026, 12, 7, 6, tzinfo=UTC)
    with app.test_request_context("/"), force_locale(locale):
        html = str(duration_since(now - timedelta(days=35), now=now))
    assert f">{words}</time>" in html and direction not in html
    assert 'datetime="2026-11-02T06:00:00+00:00"' in html


# --- Week labels: the Monday of the ISO week --------------------------------------------------------------


@dataclass
class Slots:
    """The slot settings of a project."""

    timezone: str
    weekly_weekday: int
    weekly_hour: int = 9


@pytest.mark.parametrize("weekday", range(7))
def test_every_slot_of_a_week_is_labelled_by_its_monday(weekday):
    """Whatever the project's weekday and zone, ISO week 2025-W49 is "the week of December 1"."""
    for zone in ("Europe/Istanbul", "America/Los_Angeles", "Pacific/Auckland"):
        slot = slot_for(Slots(zone, weekday), 2025, 49)
        assert slot.week_start == date(2025, 12, 1) == iso_week_start(2025, 49)
        assert slot.local_date.isocalendar()[:2] == (2025, 49)


def test_a_stored_weekly_update_is_labelled_by_its_monday_not_its_slot():
    """An update whose slot fell on Sunday 30 November 2025 (week 48) is the week of 24 November."""
    update = Update(iso_year=2025, iso_week=48, week_of=date(2025, 11, 30))
    assert update.week_start == date(2025, 11, 24)
    assert Update(title="manual").week_start is None


# --- The next slot after an update sent early --------------------------------------------------------------


def test_the_next_slot_skips_a_week_already_sent():
    """At 08:00 on Monday, with this week's update already sent, the next one is next Monday's."""
    project = Slots("Europe/Istanbul", 0, 9)
    now = datetime(2026, 11, 30, 5, tzinfo=UTC)  # Monday 08:00 in Istanbul, week 2026-W49
    assert upcoming_slot(project, now, None).at == datetime(2026, 11, 30, 6, tzinfo=UTC)
    assert upcoming_slot(project, now, (2026, 48)).at == datetime(2026, 11, 30, 6, tzinfo=UTC)
    assert upcoming_slot(project, now, (2026, 49)).at == datetime(2026, 12, 7, 6, tzinfo=UTC)


# --- A finished project makes no promise ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "archived", "expected"),
    [(ProjectStatus.ACTIVE, False, True), (ProjectStatus.PLANNED, False, True), (ProjectStatus.COMPLETED, False, False),
     (ProjectStatus.ON_HOLD, False, False), (ProjectStatus.ACTIVE, True, False), (ProjectStatus.ACTIVE, "client", False)],
)
def test_only_running_projects_get_weekly_updates(status, archived, expected):
    """Completed, paused or archived projects (or those of an archived client) get no weekly update, so their pages promise none."""
    gone = datetime(2026, 1, 1, tzinfo=UTC)
    client = Client(name="Acme", archived_at=gone if archived == "client" else None)
    project = Project(status=status, client=client, archived_at=gone if archived is True else None)
    assert project.gets_weekly_updates is expected


# --- Time zones: current names, grouped by region ---------------------------------------------------------------


def test_only_current_zone_names_are_offered():
    """Aliases ("US/Eastern", "Etc/GMT+3", "Turkey", "Asia/Calcutta") stay out of the list; UTC and cities are in."""
    names = canonical_timezones()
    assert "UTC" in names and "Europe/Istanbul" in names and "America/New_York" in names and "Asia/Kolkata" in names
    for alias in ("US/Eastern", "Etc/GMT+3", "Turkey", "GB", "Asia/Calcutta", "America/Buenos_Aires", "Australia/NSW", "Asia/Istanbul"):
        assert alias not in names and not is_canonical_timezone(alias)
    regions = {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"}
    assert all(name == "UTC" or name.split("/")[0] in regions for name in names)
    assert 300 < len(names) < 450


def test_city_names_read_as_places():
    """"America/New_York" is "New York" (under America); sub-regions keep their name."""
    assert zone_city("America/New_York") == "New York"
    assert zone_city("America/Argentina/Buenos_Aires") == "Argentina / Buenos Aires"
    assert zone_city("UTC") == "UTC"


@pytest.mark.parametrize(("locale", "europe"), [("en", "Europe"), ("tr", "Avrupa")])
def test_choices_are_grouped_by_translated_region(app, locale, europe):
    """UTC comes first, then each region's cities under its name in the reader's language."""
    with app.test_request_context("/"), force_locale(locale):
        choices = timezone_choices()
        html = str(ZoneForm(data={"timezone": "Europe/Istanbul"}).timezone())
    assert next(iter(choices.items())) == ("UTC", "UTC")
    europe_group = choices[europe]
    assert isinstance(europe_group, dict) and europe_group["Europe/Istanbul"] == "Istanbul"
    assert all(isinstance(group, dict) for key, group in choices.items() if key != "UTC")
    assert html.index('<option value="UTC">UTC</option>') < html.index("<optgroup")
    assert re.search(rf'<optgroup label="{europe}">.*<option selected value="Europe/Istanbul">Istanbul</option>', html, re.S)


class ZoneForm(FlaskForm):
    """A form with only a time zone."""

    class Meta:
        csrf = False

    timezone = TimezoneField("Time zone")


def test_a_stored_alias_stays_selected_and_valid(app):
    """A value chosen before the list was cleaned up is shown selected and still saves; an unknown name does not."""
    with app.test_request_context("/"):
        form = ZoneForm(data={"timezone": "US/Eastern"})
        html = str(form.timezone())
        assert re.search(r'<option selected value="US/Eastern">US/Eastern</option>', html), html[:300]
        assert html.count("<optgroup") >= 9 and 'value="Etc/GMT+3"' not in html
        assert form.validate()
    with app.test_request_context("/", method="POST", data={"timezone": "Mars/Olympus"}):
        assert not ZoneForm().validate()
