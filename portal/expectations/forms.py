"""Forms for expectation notes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from portal.models import Assessment, Visibility
from portal.once import OnceForm

ASSESSMENT_LABELS = {
    Assessment.WORSE: _l("Worse than expected"),
    Assessment.AS_EXPECTED: _l("As expected"),
    Assessment.BETTER: _l("Better than expected"),
}
VISIBILITY_LABELS = {
    Visibility.SHARED: _l("Shared with the client"),
    Visibility.INTERNAL: _l("Internal: staff only"),
}


class ExpectationNoteForm(OnceForm):
    """What was expected, what happened, why, what it means for the client, and what happens next."""

    expected = TextAreaField(
        _l("What was expected"),
        validators=[DataRequired(_l("Write what was expected (for example, what the client was told at kick-off).")), Length(max=5000)],
        description=_l("For example, what the client expected at kick-off, or what we promised."),
    )
    reality = TextAreaField(
        _l("What really happened"), validators=[DataRequired(_l("Write what really happened.")), Length(max=5000)]
    )
    assessment = SelectField(
        _l("How reality compares"),
        choices=[(a.value, label) for a, label in ASSESSMENT_LABELS.items()],
        default=Assessment.AS_EXPECTED.value,
        description=_l("A shared note that is worse than expected leads the next weekly update."),
    )
    variance = StringField(
        _l("Size of the gap"),
        validators=[Length(max=200)],
        description=_l("Optional. For example: two weeks late, 15% under target."),
    )
    cause = TextAreaField(_l("Cause"), validators=[Length(max=5000)])
    impact = TextAreaField(
        _l("Impact on the client"),
        validators=[Length(max=5000)],
        description=_l("How will this affect the client? Required when reality is worse than expected."),
    )
    next_step = TextAreaField(_l("Next step"), validators=[Length(max=5000)])
    visibility = RadioField(
        _l("Who may read it"),
        choices=[(v.value, label) for v, label in VISIBILITY_LABELS.items()],
        default=Visibility.SHARED.value,
    )

    def validate_impact(self, field: TextAreaField) -> None:
        if self.assessment.data == Assessment.WORSE.value and not (field.data or "").strip():
            raise ValidationError(_l("Say how this affects the client: every slip needs its impact."))
