"""Form pieces shared by every feature."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import ValidationError

from portal.errors import DomainError
from portal.extensions import db
from portal.timeutil import is_timezone, timezone_names
from portal.templating import LANGUAGE_NAMES


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST-only buttons."""


def apply_domain_error(form: FlaskForm, error: DomainError) -> bool:
    """Attach a service's error to its field; return False when it has no field (flash it)."""
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        return False
    field.errors = [*field.errors, str(error.message)]
    return True


@dataclass
class Outcome:
    """Whether the action inside ``committing`` was saved."""

    ok: bool = False


@contextmanager
def committing(form: FlaskForm | None = None) -> Iterator[Outcome]:
    """Run a view's service calls as one transaction.

    On success the transaction commits and ``outcome.ok`` is True. When a service
    refuses (DomainError), everything is rolled back and the message goes on its
    form field, or in a flash when it has none; the view re-renders the form.

        with committing(form) as saved:
            project = service.create_project(current_user, ...)
        if saved.ok:
            return redirect(...)
    """
    outcome = Outcome()
    try:
        yield outcome
    except DomainError as error:
        db.session.rollback()
        if form is None or not apply_domain_error(form, error):
            flash(str(error.message), "danger")
        return
    db.session.commit()
    outcome.ok = True


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
