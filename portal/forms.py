"""Form pieces shared by every feature."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import ValidationError

from portal.templating import LANGUAGE_NAMES
from portal.timeutil import is_timezone, timezone_names


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST-only buttons."""


def language_choices() -> list[tuple[str, str]]:
    """Return the interface languages as select choices."""
    return list(LANGUAGE_NAMES.items())


def timezone_choices() -> list[tuple[str, str]]:
    """Return every IANA time zone as select choices."""
    return [(name, name.replace("_", " ")) for name in timezone_names()]


class TimezoneField(SelectField):
    """A select of IANA time zones that refuses unknown names with a clear message."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, choices=timezone_choices(), validate_choice=False, **kwargs)

    def pre_validate(self, form) -> None:
        if not is_timezone(self.data or ""):
            raise ValidationError(_l("Choose a time zone from the list."))
