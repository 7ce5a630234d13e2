"""Forms for the account settings page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from portal.forms import TimezoneField, language_choices


def _hour(value: object) -> int | None:
    """Return a submitted hour as a number, None when it is not one (refused by ``HourField``)."""
    try:
        return int(str(value))
    except ValueError:
        return None


class HourField(SelectField):
    """A select of the hours of the day, 00:00 to 23:00, refusing anything else with a clear message."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=_hour, choices=[(hour, f"{hour:02d}:00") for hour in range(24)], validate_choice=False, **kwargs)

    def pre_validate(self, form) -> None:
        if not isinstance(self.data, int) or not 0 <= self.data <= 23:
            raise ValidationError(_l("Choose an hour from the list."))


class ProfileForm(FlaskForm):
    """Name, language, time zone and email preferences."""

    name = StringField(_l("Name"), validators=[DataRequired(_l("Tell us your name.")), Length(max=120)])
    language = SelectField(_l("Language"), choices=language_choices())
    timezone = TimezoneField(_l("Time zone"))
    notify_activity = BooleanField(_l("Email me when something needs my attention"))
    notify_weekly = BooleanField(_l("Email me the weekly progress update"))
    digest_hour = HourField(
        _l("Daily digest at"),
        default=8,
        description=_l("In your time zone. One email a day lists what waits on you; none on days nothing does."),
    )


class PasswordForm(FlaskForm):
    """Change the password, knowing the current one."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password."))])
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a password.")), Length(max=1024)],
        description=_l("At least 8 characters. Long passphrases are welcome."),
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(_l("Repeat the password.")), EqualTo("password", _l("The two passwords do not match."))],
    )


class TwoFactorConfirmForm(FlaskForm):
    """Confirm the authenticator app with the code it shows."""

    code = StringField(
        _l("Code from your app"),
        validators=[DataRequired(_l("Enter the code from your app.")), Length(max=20)],
        description=_l("Six digits. A new one appears every 30 seconds."),
    )
    # Asked unless the person is enrolling right after logging in (the view decides).
    password = PasswordField(_l("Your password"), validators=[Length(max=1024)])


class PasswordCheckForm(FlaskForm):
    """Your password again, before a change to how you sign in."""

    password = PasswordField(_l("Your password"), validators=[DataRequired(_l("Enter your password.")), Length(max=1024)])
