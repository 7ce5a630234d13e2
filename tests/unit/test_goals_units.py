"""Numbers typed and shown the way English and Turkish readers write them; units from an allowlist."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.goals.units import (
    UNITS,
    NumberError,
    format_measure,
    input_value,
    is_unit,
    parse_number,
)


@pytest.mark.parametrize(
    ("text", "locale", "value"),
    [
        ("1250", "en", "1250"),
        ("12.5", "en", "12.5"),
        ("1,250", "en", "1250"),  # English thousands
        ("1,250.75", "en", "1250.75"),
        ("12,5", "tr", "12.5"),  # Turkish decimal comma
        ("1.250", "tr", "1250"),  # Turkish thousands
        ("1.250,75", "tr", "1250.75"),
        ("12.5", "tr", "12.5"),  # a lone dot that does not group thousands is a decimal point
        ("-3", "en", "-3"),
        ("−3,5", "tr", "-3.5"),  # typographic minus
        (" 1 250 ", "en", "1250"),
        ("0.0001", "en", "0.0001"),
    ],
)
def test_numbers_are_read_in_the_readers_language(text, locale, value):
    """The same value can be typed with either convention and is read as the reader meant it."""
    assert parse_number(text, locale) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("abc", "not_a_number"),
        ("", "not_a_number"),
        ("12abc", "not_a_number"),
        ("1e5", "not_a_number"),
        ("NaN", "not_a_number"),
        ("1.2.3", "not_a_number"),
        ("1000000000000", "too_large"),
        ("1.23456", "too_precise"),
    ],
)
def test_text_that_is_not_a_measure_is_refused_with_a_reason(text, problem):
    """Letters, exponents, huge or over-precise numbers are refused, each for its own reason."""
    with pytest.raises(NumberError) as refused:
        parse_number(text, "en")
    assert refused.value.problem == problem


def test_the_unit_allowlist_is_short_and_closed():
    """The documented units are allowed; anything else is not."""
    for unit in ("", "%", "count", "TRY", "EUR", "USD", "GBP", "visits", "leads", "orders", "days", "hours", "minutes", "seconds", "ms", "points"):
        assert is_unit(unit)
    assert len(UNITS) == 16
    for unit in ("bananas", "try", "<script>", "€"):
        assert not is_unit(unit)


@pytest.mark.parametrize(
    ("value", "unit", "english", "turkish"),
    [
        ("1250", "TRY", "TRY1,250.00", "₺1.250,00"),
        ("12.5", "%", "12.5%", "%12,5"),
        ("1250", "visits", "1,250 visits", "1.250 ziyaret"),
        ("1", "orders", "1 order", "1 sipariş"),
        ("850", "ms", "850\u00a0ms", "850\u00a0ms"),
        ("3.25", "", "3.25", "3,25"),
    ],
)
def test_values_are_shown_with_their_unit_in_each_language(app, value, unit, english, turkish):
    """Grouping, decimal sign and currency follow the reader's language (unit words await the catalog)."""
    assert format_measure(Decimal(value), unit, "en") == english
    assert format_measure(Decimal(value), unit, "tr") == turkish


def test_form_values_round_trip_in_each_language():
    """A stored value shown in a form is read back as the same value, in English and in Turkish."""
    for locale in ("en", "tr"):
        for value in ("1.234", "1234.5", "0.5", "1250"):
            assert parse_number(input_value(Decimal(value), locale), locale) == Decimal(value)
