"""Forms for projects and their members."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from portal.forms import TimezoneField
from portal.ids import BoundedIntegerField
from portal.models import ApprovalRule, ProjectStatus
from portal.models.projects import ClientReminders
from portal.once import OnceForm

STATUS_LABELS = {
    ProjectStatus.PLANNED: _l("Planned"),
    ProjectStatus.ACTIVE: _l("Active"),
    ProjectStatus.ON_HOLD: _l("On hold"),
    ProjectStatus.COMPLETED: _l("Completed"),
}
RULE_LABELS = {
    ApprovalRule.ANY: _l("Any approver: the first decision settles a version"),
    ApprovalRule.ALL: _l("All approvers: every approver must approve"),
}
REMINDER_LABELS = {
    ClientReminders.DIGEST: _l("Daily digest: one email a day, at each person's hour, of what waits on them"),
    ClientReminders.FIRM: _l("Firm: the daily digest, and a second reminder at 15:00 on days something is due or overdue"),
}
WEEKDAYS = [
    (0, _l("Monday")),
    (1, _l("Tuesday")),
    (2, _l("Wednesday")),
    (3, _l("Thursday")),
    (4, _l("Friday")),
    (5, _l("Saturday")),
    (6, _l("Sunday")),
]


class ProjectForm(OnceForm):
    """A project's settings. Client and manager choices are set by the view for the actor."""

    name = StringField(_l("Project name"), validators=[DataRequired(_l("Enter the project's name.")), Length(max=160)])
    client_id = SelectField(_l("Client"), coerce=int, validate_choice=True)
    manager_id = SelectField(_l("Account manager"), coerce=int, validate_choice=True)
    description = TextAreaField(_l("Description"), validators=[Length(max=8000)])
    status = SelectField(_l("Status"), choices=[(s.value, label) for s, label in STATUS_LABELS.items()], default="active")
    start_date = DateField(_l("Start date"), validators=[Optional()])
    target_date = DateField(_l("Target date"), validators=[Optional()])
    weekly_weekday = SelectField(_l("Weekly update day"), coerce=int, choices=WEEKDAYS)
    weekly_hour = BoundedIntegerField(
        _l("Weekly update hour"),
        validators=[InputRequired(_l("Enter an hour from 0 to 23.")), NumberRange(0, 23, _l("Enter an hour from 0 to 23."))],
        description=_l("In the project's time zone, 0–23."),
    )
    timezone = TimezoneField(_l("Project time zone"))
    approval_rule = SelectField(_l("Approval rule"), choices=[(r.value, label) for r, label in RULE_LABELS.items()])
    included_rounds = BoundedIntegerField(
        _l("Revision rounds included"),
        validators=[InputRequired(_l("Enter a number from 0 to 20.")), NumberRange(0, 20, _l("Enter a number from 0 to 20."))],
        default=2,
    )
    client_reminders = SelectField(
        _l("Client reminders"),
        choices=[(r.value, label) for r, label in REMINDER_LABELS.items()],
        default=ClientReminders.DIGEST.value,
        description=_l(
            "The digest lists versions to review, goals to sign, assumptions to confirm and files due within two days or overdue. "
            "Choose “Firm” for clients who need a nudge: at 15:00 in each person's time zone, "
            "a second email lists this project's items due that day or overdue."
        ),
    )

    def validate_target_date(self, field: DateField) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("The target date cannot be before the start date."))


class AddMemberForm(FlaskForm):
    """Add a client user of the project's organisation."""

    user_id = SelectField(_l("Person"), coerce=int, validate_choice=True)
    is_approver = BooleanField(_l("Approver (signs goals, decides on deliverables)"))
