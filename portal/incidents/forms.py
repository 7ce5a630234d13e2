"""Forms of incidents and their recovery plans."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from portal.incidents.service import AFFECTED_MAX, STEP_TITLE_MAX, TEXT_MAX, TITLE_MAX
from portal.models import User, Visibility
from portal.once import OnceForm

VISIBILITY_LABELS = {
    Visibility.SHARED: _l("Shared with the client"),
    Visibility.INTERNAL: _l("Internal: staff only"),
}
CLIENT_OWNER = "client"


class IncidentForm(OnceForm):
    """Open an incident, or change its details (the cause, once known)."""

    title = StringField(
        _l("What happened"),
        validators=[DataRequired(_l("Say in a line what happened.")), Length(max=TITLE_MAX)],
        description=_l("In a line, for example “The shop was down for three hours”."),
    )
    details = TextAreaField(_l("Details"), validators=[Length(max=TEXT_MAX)], description=_l("Optional. What we know so far."))
    detected_at = DateTimeLocalField(
        _l("Detected at"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Enter when the problem was detected: a date and a time."))],
    )

    def validate_detected_at(self, field: DateTimeLocalField) -> None:
        """Refuse a year no incident has (and that a time-zone conversion could not even hold)."""
        if field.data is not None and not 2000 <= field.data.year <= 2100:
            raise ValidationError(_l("Enter a date from the year 2000 on."))
    affected = StringField(
        _l("Who is affected"), validators=[Length(max=AFFECTED_MAX)], description=_l("Optional. For example “Every customer paying by card”.")
    )
    impact = TextAreaField(
        _l("Impact on the client"),
        validators=[DataRequired(_l("Say how this affects the client: it is what they read first.")), Length(max=TEXT_MAX)],
        description=_l("How will this affect the client? Lost sales, a delay, extra work on their side."),
    )
    cause = TextAreaField(_l("Cause"), validators=[Length(max=TEXT_MAX)], description=_l("Optional until it is known; you can add it later."))
    visibility = RadioField(
        _l("Who may read it"),
        choices=[(v.value, label) for v, label in VISIBILITY_LABELS.items()],
        default=Visibility.SHARED.value,
        validators=[InputRequired(_l("Choose whether the client sees the incident."))],
    )

    def __init__(self, *args, timezone_name: str = "UTC", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.detected_at.description = _l("In your time zone, %(zone)s. Not in the future.", zone=timezone_name)


class StepForm(OnceForm):
    """Add a dated step to a recovery plan, or change one."""

    title = StringField(
        _l("Step"),
        validators=[DataRequired(_l("Say what the step is, for example “Restore last week’s backup”.")), Length(max=STEP_TITLE_MAX)],
    )
    due_on = DateField(_l("Date"), validators=[InputRequired(_l("Give the step a date."))])
    owner = SelectField(_l("Who does it"), validate_choice=False)

    def __init__(self, *args, owners: list[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.owner.choices = [(str(person.id), person.display_name) for person in owners] + [(CLIENT_OWNER, str(_l("The client")))]
        self._owners = {str(person.id): person for person in owners}

    def validate_owner(self, field: SelectField) -> None:
        if field.data != CLIENT_OWNER and field.data not in self._owners:
            raise ValidationError(_l("Choose who does this step: someone at the agency, or the client."))

    def owner_user(self) -> User | None:
        """Return the staff person chosen, or None for the client."""
        return self._owners.get(self.owner.data or "")


class CloseForm(FlaskForm):
    """Close an incident whose plan is done."""

    note = TextAreaField(
        _l("Closing note"),
        validators=[DataRequired(_l("Write a closing note: what was put right, and what changes from now on.")), Length(max=TEXT_MAX)],
        description=_l("The client reads it: what was put right, and what changes from now on."),
    )


class TrustForm(FlaskForm):
    """The client's answer to "is trust restored?"."""

    restored = RadioField(
        _l("Is your trust in us restored?"),
        choices=[("yes", _l("Yes")), ("no", _l("No, not yet"))],
        validators=[InputRequired(_l("Choose yes or no."))],
    )
    note = TextAreaField(_l("Note"), validators=[Length(max=TEXT_MAX)], description=_l("Required if not: what is still missing?"))

    def validate_note(self, field: TextAreaField) -> None:
        if self.restored.data == "no" and not (field.data or "").strip():
            raise ValidationError(_l("Tell us what is still missing: the agency reads it."))
