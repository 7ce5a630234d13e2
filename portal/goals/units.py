"""The units a goal's measure may use, and numbers read and shown in the viewer's language.

The allowlist is deliberately short: a unit is part of what both sides sign, so it
must mean the same thing to both. Any other unit is refused with a field error.

===========  =================================================
Code         Meaning
===========  =================================================
``""``       no unit (a plain number, e.g. a score)
``%``        percent (conversion rate, bounce rate …)
``count``    a count of things
``TRY``      Turkish lira
``EUR``      euro
``USD``      US dollar
``GBP``      pound sterling
``visits``   website visits or sessions
``leads``    leads
``orders``   orders
``days``     days
``hours``    hours
``minutes``  minutes
``seconds``  seconds
``ms``       milliseconds (page speed)
``points``   points (NPS, review scores)
===========  =================================================

Numbers are typed the way the viewer writes them: ``1.250,5`` in Turkish and
``1,250.5`` in English are the same value; a lone comma or dot is read as the
decimal separator unless it clearly groups thousands (``1,250`` in English).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_decimal_symbol,
)
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import lazy_gettext as _l

# Values are stored as NUMERIC(16, 4).
MAX_ABS_VALUE = Decimal("1e12")
DECIMAL_PLACES = 4
_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)
# Values the portal computes (the interpolated expectation, the variance, the gap) are shown with
# at most two decimals, so nobody reads "474.7826 orders"; values people entered keep their four.
COMPUTED_PLACES = 2

UNIT_LABELS = {
    "": _l("No unit"),
    "%": _l("Percent (%)"),
    "count": _l("Count"),
    "TRY": _l("Turkish lira (TRY)"),
    "EUR": _l("Euro (EUR)"),
    "USD": _l("US dollar (USD)"),
    "GBP": _l("Pound sterling (GBP)"),
    "visits": _l("Visits"),
    "leads": _l("Leads"),
    "orders": _l("Orders"),
    "days": _l("Days"),
    "hours": _l("Hours"),
    "minutes": _l("Minutes"),
    "seconds": _l("Seconds"),
    "ms": _l("Milliseconds (ms)"),
    "points": _l("Points"),
}
UNITS = frozenset(UNIT_LABELS)
CURRENCIES = frozenset({"TRY", "EUR", "USD", "GBP"})


def is_unit(code: str) -> bool:
    """Tell whether ``code`` is on the allowlist."""
    return code in UNITS


def unit_choices() -> list[tuple[str, str]]:
    """Return the allowlist as select choices, "no unit" first."""
    return [(code, str(label)) for code, label in UNIT_LABELS.items()]


class NumberError(ValueError):
    """The text is not a number a measure can hold; ``problem`` says why."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem  # "not_a_number" | "too_large" | "too_precise"


def _locale_name() -> str:
    """Return the viewer's locale name, English outside a request."""
    locale = get_locale()
    return str(locale) if locale else "en"


def parse_number(text: str, locale: str | None = None) -> Decimal:
    """Read a number typed in ``locale`` (default: the viewer's); raise NumberError if it is not one."""
    locale = locale or _locale_name()
    raw = re.sub(r"[\s\u00a0\u202f']", "", text or "")
    if raw.startswith("\u2212"):  # a typographic minus sign
        raw = "-" + raw[1:]
    if not raw or not re.fullmatch(r"[+-]?[0-9.,]+", raw) or not re.search(r"[0-9]", raw):
        raise NumberError("not_a_number")
    sign, digits = ("-" if raw[0] == "-" else "", raw[1:]) if raw[0] in "+-" else ("", raw)
    decimal_symbol = get_decimal_symbol(locale)
    decimal_mark: str | None
    if "," in digits and "." in digits:
        decimal_mark = "," if digits.rfind(",") > digits.rfind(".") else "."
    elif "," in digits or "." in digits:
        mark = "," if "," in digits else "."
        groups_thousands = re.fullmatch(rf"[0-9]{{1,3}}(\{mark}[0-9]{{3}})+", digits) is not None
        decimal_mark = None if (groups_thousands and mark != decimal_symbol) else mark
    else:
        decimal_mark = None
    group_mark = {",": ".", ".": ","}.get(decimal_mark or "")
    if decimal_mark is None:
        plain = digits.replace(",", "").replace(".", "")
    else:
        if digits.count(decimal_mark) > 1:
            raise NumberError("not_a_number")
        plain = digits.replace(group_mark or "", "").replace(decimal_mark, ".")
    try:
        value = Decimal(sign + plain)
    except InvalidOperation as error:
        raise NumberError("not_a_number") from error
    if not value.is_finite():
        raise NumberError("not_a_number")
    if abs(value) >= MAX_ABS_VALUE:
        raise NumberError("too_large")
    if value != value.quantize(_QUANTUM):
        raise NumberError("too_precise")
    return value.quantize(_QUANTUM)


def input_value(value: Decimal | None, locale: str | None = None) -> str:
    """Return ``value`` as a form field should show it: no grouping, the locale's decimal sign."""
    if value is None:
        return ""
    return format_decimal(value, format="0.####", locale=locale or _locale_name())


def format_number(value: Decimal | float, locale: str | None = None) -> str:
    """Return a plain number in the viewer's language (grouping, up to four decimals)."""
    return format_decimal(Decimal(value).quantize(_QUANTUM).normalize(), format="#,##0.####", locale=locale or _locale_name())


def _plural(value: Decimal) -> int:
    """Return the count plural rules should use: the number itself when whole, else "many"."""
    return int(value) if value == value.to_integral_value() else 2


_WORDS: dict[str, Callable[[Decimal, str], str]] = {
    "visits": lambda n, v: ngettext("%(value)s visit", "%(value)s visits", _plural(n), value=v),
    "leads": lambda n, v: ngettext("%(value)s lead", "%(value)s leads", _plural(n), value=v),
    "orders": lambda n, v: ngettext("%(value)s order", "%(value)s orders", _plural(n), value=v),
    "days": lambda n, v: ngettext("%(value)s day", "%(value)s days", _plural(n), value=v),
    "hours": lambda n, v: ngettext("%(value)s hour", "%(value)s hours", _plural(n), value=v),
    "minutes": lambda n, v: ngettext("%(value)s minute", "%(value)s minutes", _plural(n), value=v),
    "seconds": lambda n, v: ngettext("%(value)s second", "%(value)s seconds", _plural(n), value=v),
    "points": lambda n, v: ngettext("%(value)s point", "%(value)s points", _plural(n), value=v),
}


def round_computed(value: Decimal | float | str, places: int = COMPUTED_PLACES) -> Decimal:
    """Round a value the portal computed (expected value, variance, gap, percentage) for people to read."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_computed(value: Decimal | float | str | None, unit: str, locale: str | None = None) -> str:
    """Return a computed value with its unit, rounded as everywhere it is shown ("474.78 orders")."""
    if value is None or value == "":
        return ""
    return format_measure(round_computed(value), unit, locale)


def format_percentage(value: Decimal | float | str | None, places: int = 1, locale: str | None = None) -> str:
    """Return a percentage (``31.5`` → "31.5%", "%31,5") in the viewer's language, rounded to ``places``."""
    if value is None or value == "":
        return ""
    return format_measure(round_computed(value, places), "%", locale)


def format_measure(value: Decimal | float | None, unit: str, locale: str | None = None) -> str:
    """Return ``value`` with its unit, in the viewer's language ("1,250 visits", "%12,5", "₺1.234,50").

    ``locale`` asks for another language than the current one (its unit words included).
    """
    if value is None:
        return ""
    if locale is not None and unit in _WORDS:
        with force_locale(locale):
            return format_measure(value, unit)
    locale = locale or _locale_name()
    number = Decimal(value).quantize(_QUANTUM).normalize()
    if unit in CURRENCIES:
        return format_currency(number, unit, locale=locale)
    if unit == "%":
        return format_percent(number / 100, locale=locale, decimal_quantization=False)
    shown = format_number(number, locale)
    if unit == "ms":
        return f"{shown}\u00a0ms"
    if unit in _WORDS:
        return _WORDS[unit](abs(number), shown)
    return shown
