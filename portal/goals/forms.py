"""Forms of the goal charter: one per use. The service re-checks every rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    Field,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.form import BaseForm
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import HiddenInput, TextInput

from portal.goals.terms import (
    MAX_ASSUMPTION_LENGTH,
    MAX_ASSUMPTIONS,
    MAX_METRIC_NAME,
    MAX_TEXT,
    MAX_TITLE,
    Terms,
)
from portal.goals.units import (
    NumberError,
    input_value,
    is_unit,
    parse_number,
    unit_choices,
)
from portal.ids import BoundedIntegerField
from portal.models import CloseOutcome, MeasureKind
from portal.once import OnceForm

NUMBER_MESSAGES = {
    "not_a_number": _l("Enter a number, for example 1250 or 12.5."),
    "too_large": _l("Enter a number below one trillion."),
    "too_precise": _l("Use at most four decimal places."),
}
MEASURE_LABELS = {
    MeasureKind.METRIC: _l("A number: a metric moves from a baseline to a target"),
    MeasureKind.DONE_WHEN: _l("A statement: the goal is done when it is true"),
}
OUTCOME_LABELS = {
    CloseOutcome.ACHIEVED: _l("Achieved"),
    CloseOutcome.MISSED: _l("Missed"),
    CloseOutcome.DROPPED: _l("Dropped"),
}


class NumberField(Field):
    """A number typed in the viewer's language (``1.250,5`` or ``1,250.5``); ``data`` is a Decimal or None.

    What was typed is shown again when it cannot be read, so nothing is lost.
    """

    widget = TextInput()
    data: Decimal | None

    def process_formdata(self, valuelist: list[str]) -> None:
        """Read the typed number, or raise ValueError with a message saying what is wrong."""
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        try:
            self.data = parse_number(valuelist[0])
        except NumberError as error:
            raise ValueError(str(NUMBER_MESSAGES[error.problem])) from error

    def process_data(self, value: Decimal | None) -> None:
        """Take the number the form is filled with."""
        self.data = value

    def _value(self) -> str:
        """Return what the input shows: what was typed, else the number in the viewer's language."""
        if self.raw_data:
            return self.raw_data[0]
        return input_value(self.data)


class LocalDateField(DateField):
    """A date field whose error message is translated and names the expected form."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(_l("Enter a date, for example 2026-06-30."))) from error


class ChoiceRadioField(RadioField):
    """Radio buttons that refuse a value outside their choices with the field's own message."""

    def __init__(self, label: str | None = None, validators: list[Any] | None = None, *, invalid_message: str, **kwargs: Any) -> None:
        """Make the field; ``invalid_message`` is shown for a value outside the choices."""
        super().__init__(label, validators, validate_choice=False, **kwargs)
        self.invalid_message = invalid_message

    def pre_validate(self, form: BaseForm) -> None:
        """Refuse a value outside the choices."""
        if self.data not in {value for value, _label, _selected, _render_kw in self.iter_choices()}:
            raise ValidationError(self.invalid_message)


def _no_earlier_errors(field) -> bool:
    return not field.process_errors


class GoalTermsForm(FlaskForm):
    """The terms of a goal: title, why, success measure, target date and assumptions."""

    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Give the goal a title.")), Length(max=MAX_TITLE)],
        description=_l("What you want to reach, in a few words."),
    )
    why = TextAreaField(_l("Why it matters"), validators=[Length(max=MAX_TEXT)])
    measure = ChoiceRadioField(
        _l("How success is measured"),
        choices=[(kind.value, label) for kind, label in MEASURE_LABELS.items()],
        default=MeasureKind.METRIC.value,
        invalid_message=_l("Choose how success is measured."),
    )
    metric_name = StringField(
        _l("Metric"), validators=[Length(max=MAX_METRIC_NAME)], description=_l("For example: Online orders per month.")
    )
    baseline = NumberField(_l("Baseline"), description=_l("Where the metric stands today."), render_kw={"inputmode": "decimal"})
    target = NumberField(_l("Target"), description=_l("Where it should be on the target date."), render_kw={"inputmode": "decimal"})
    unit = SelectField(_l("Unit"), validate_choice=False)  # choices set per request; checked in validate_unit
    done_when = TextAreaField(
        _l("Done when"),
        validators=[Length(max=MAX_TEXT)],
        description=_l("For example: The new checkout is live for every customer."),
    )
    target_date = LocalDateField(_l("Target date"), validators=[InputRequired(_l("Enter the target date."))])
    assumptions = TextAreaField(
        _l("Assumptions"),
        description=_l("One per line: what must hold for the goal to be reachable. The other side confirms or denies each one."),
    )

    def __init__(self, *args, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._today = today
        self.unit.choices = unit_choices()  # labels in the reader's language

    @property
    def is_metric(self) -> bool:
        """Tell whether the form describes a metric (rather than a "done when" statement)."""
        return self.measure.data != MeasureKind.DONE_WHEN.value  # an unknown value is refused by the field

    def validate_metric_name(self, field: StringField) -> None:
        if self.is_metric and not (field.data or "").strip():
            raise ValidationError(_l("Name the metric, for example “Online orders per month”."))

    def validate_baseline(self, field: NumberField) -> None:
        if self.is_metric and field.data is None and _no_earlier_errors(field):
            raise ValidationError(_l("Enter a number."))

    def validate_target(self, field: NumberField) -> None:
        if not self.is_metric or not _no_earlier_errors(field):
            return
        if field.data is None:
            raise ValidationError(_l("Enter a number."))
        if self.baseline.data is not None and field.data == self.baseline.data:
            raise ValidationError(_l("The target must differ from the baseline. To keep a level, use a “done when” statement."))

    def validate_unit(self, field: SelectField) -> None:
        if self.is_metric and not is_unit(field.data or ""):
            raise ValidationError(_l("Choose a unit from the list."))

    def validate_done_when(self, field: TextAreaField) -> None:
        if not self.is_metric and not (field.data or "").strip():
            raise ValidationError(_l("Say when the goal counts as done."))

    def validate_target_date(self, field: DateField) -> None:
        if field.data is not None and field.data < self._today:
            raise ValidationError(_l("The target date cannot be in the past."))

    def validate_assumptions(self, field: TextAreaField) -> None:
        lines = [line for line in (field.data or "").splitlines() if line.strip()]
        if len(lines) > MAX_ASSUMPTIONS:
            raise ValidationError(_l("Write at most %(num)d assumptions.", num=MAX_ASSUMPTIONS))
        if any(len(line.strip()) > MAX_ASSUMPTION_LENGTH for line in lines):
            raise ValidationError(_l("Keep each assumption under %(num)d characters.", num=MAX_ASSUMPTION_LENGTH))

    def terms(self) -> Terms:
        """Return what the form proposes, for the service."""
        return Terms(
            title=self.title.data or "",
            why=self.why.data or "",
            measure=MeasureKind(self.measure.data),
            metric_name=self.metric_name.data or "",
            baseline=self.baseline.data,
            target=self.target.data,
            unit=self.unit.data or "",
            done_when=self.done_when.data or "",
            target_date=self.target_date.data,
            assumptions=(self.assumptions.data or "").splitlines(),
        )

    def fill(self, terms: Terms) -> None:
        """Show ``terms`` in the form (for a counter-proposal starting from the current revision)."""
        self.title.data = terms.title
        self.why.data = terms.why
        self.measure.data = terms.measure.value
        self.metric_name.data = terms.metric_name
        self.baseline.data = terms.baseline
        self.target.data = terms.target
        self.unit.data = terms.unit
        self.done_when.data = terms.done_when
        self.target_date.data = terms.target_date
        self.assumptions.data = "\n".join(terms.assumptions)


def seen_revision(field: BoundedIntegerField) -> int:
    """Return the number of the revision the user saw, from a validated form (the field requires an integer)."""
    if field.data is None:
        raise ValueError("validate the form before reading the revision")
    return field.data


class ProposeGoalForm(OnceForm, GoalTermsForm):
    """Propose a new goal."""


class ReviseGoalForm(GoalTermsForm):
    """Counter-propose: new terms for a goal, based on the revision the user saw."""

    revision = BoundedIntegerField(widget=HiddenInput(), validators=[InputRequired()])
    note = TextAreaField(
        _l("What changed and why"),
        validators=[Length(max=MAX_TEXT)],
        description=_l("Shown in the revision history and in the email to the other side."),
    )


class SignForm(FlaskForm):
    """Agree to a revision: names the revision the signer read."""

    revision = BoundedIntegerField(widget=HiddenInput(), validators=[InputRequired()])


class DeclineForm(FlaskForm):
    """Decline the other side's proposal, with a reason."""

    revision = BoundedIntegerField(widget=HiddenInput(), validators=[InputRequired()])
    reason = TextAreaField(
        _l("Why do you decline?"),
        validators=[DataRequired(_l("Say why you decline, so the other side can answer.")), Length(max=MAX_TEXT)],
    )


class AssumptionAnswerForm(FlaskForm):
    """Confirm or deny one assumption."""

    answer = ChoiceRadioField(
        _l("Your answer"),
        choices=[("confirmed", _l("Confirm: this holds")), ("denied", _l("Deny: this does not hold"))],
        invalid_message=_l("Choose confirm or deny."),
    )
    note = TextAreaField(_l("Note"), validators=[Length(max=MAX_TEXT)], description=_l("Needed when you deny."))

    def validate_note(self, field: TextAreaField) -> None:
        if self.answer.data == "denied" and not (field.data or "").strip():
            raise ValidationError(_l("Say what is not right, so the assumption can be fixed."))


class CheckInForm(OnceForm):
    """Record a measurement: the actual value (or done / not done) on a date."""

    measured_on = LocalDateField(_l("Date of the measurement"), validators=[InputRequired(_l("Enter the date of the measurement."))])
    value = NumberField(_l("Actual value"), render_kw={"inputmode": "decimal"})
    done = ChoiceRadioField(
        _l("Is it done?"), choices=[("yes", _l("Done")), ("no", _l("Not done yet"))], invalid_message=_l("Say whether it is done.")
    )
    note = TextAreaField(_l("Note"), validators=[Length(max=MAX_TEXT)])

    def __init__(self, *args, measure: MeasureKind, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._measure = measure
        self._today = today
        if measure is MeasureKind.METRIC:
            del self.done
        else:
            del self.value

    def validate_measured_on(self, field: DateField) -> None:
        if field.data is not None and field.data > self._today:
            raise ValidationError(_l("The date cannot be in the future."))

    def validate_value(self, field: NumberField) -> None:
        if field.data is None and _no_earlier_errors(field):
            raise ValidationError(_l("Enter the actual value."))


class CommentForm(OnceForm):
    """Write in a goal's conversation."""

    body = TextAreaField(
        _l("Message"), validators=[DataRequired(_l("Write a message first.")), Length(max=MAX_TEXT)]
    )


class CloseGoalForm(FlaskForm):
    """Close a goal: achieved, missed (reason and impact on the client) or dropped (reason)."""

    outcome = ChoiceRadioField(_l("Outcome"), invalid_message=_l("Choose how the goal ends."))
    reason = TextAreaField(_l("Reason"), validators=[Length(max=MAX_TEXT)], description=_l("Needed when the goal was missed or dropped."))
    impact = TextAreaField(
        _l("How does this affect the client?"),
        validators=[Length(max=MAX_TEXT)],
        description=_l("Needed when the goal was missed."),
    )

    def __init__(self, *args, agreed: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        outcomes = list(CloseOutcome) if agreed else [CloseOutcome.DROPPED]
        self.outcome.choices = [(o.value, OUTCOME_LABELS[o]) for o in outcomes]

    def validate_reason(self, field: TextAreaField) -> None:
        if self.outcome.data in ("missed", "dropped") and not (field.data or "").strip():
            raise ValidationError(_l("Give the reason."))

    def validate_impact(self, field: TextAreaField) -> None:
        if self.outcome.data == "missed" and not (field.data or "").strip():
            raise ValidationError(_l("Say how this affects the client."))
