"""Form pieces shared by every feature."""

from __future__ import annotations

from functools import lru_cache

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import ValidationError

from portal.templating import LANGUAGE_NAMES
from portal.timeutil import canonical_timezones, is_canonical_timezone, is_timezone, zone_city


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST-only buttons."""


def language_choices() -> list[tuple[str, str]]:
    """Return the interface languages as select choices."""
    return list(LANGUAGE_NAMES.items())


def timezone_choices() -> dict[str, str | dict[str, str]]:
    """Return the current IANA time zones as select choices: UTC first, then by region ("New York" under "America").

    WTForms' shorthand: a value and its label, or a region's name and its {value: label} group.
    """
    return dict(_timezone_choices(str(get_locale() or "en")))


@lru_cache(maxsize=8)
def _timezone_choices(locale: str) -> tuple[tuple[str, str | dict[str, str]], ...]:
    """Build the grouped choices once per language (the region names are translated)."""
    regions = {
        "Africa": _l("Africa"),
        "America": _l("America"),
        "Antarctica": _l("Antarctica"),
        "Arctic": _l("Arctic"),
        "Asia": _l("Asia"),
        "Atlantic": _l("Atlantic Ocean"),
        "Australia": _l("Australia"),
        "Europe": _l("Europe"),
        "Indian": _l("Indian Ocean"),
        "Pacific": _l("Pacific Ocean"),
    }
    groups: dict[str, dict[str, str]] = {}
    for name in canonical_timezones():
        region = name.partition("/")[0]
        if region in regions:
            groups.setdefault(str(regions[region]), {})[name] = zone_city(name)
    return (("UTC", "UTC"), *groups.items())


class TimezoneField(SelectField):
    """A select of IANA time zones, grouped by region, that refuses unknown names with a clear message.

    Only current names are offered (a select is searched by typing a city's first letters); an
    alias stored before ("US/Eastern", "Turkey") stays valid and is shown, first, while it is
    the field's value.
    """

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, choices=timezone_choices(), validate_choice=False, **kwargs)

    def __call__(self, **kwargs):
        """Render the select, with the field's value on top when it is a valid name no longer listed."""
        current = self.data
        if isinstance(current, str) and is_timezone(current) and not is_canonical_timezone(current):
            self.choices = {current: current.replace("_", " "), **timezone_choices()}
        return super().__call__(**kwargs)

    def pre_validate(self, form) -> None:
        if not is_timezone(self.data or ""):
            raise ValidationError(_l("Choose a time zone from the list."))
