"""Forms for the account settings page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.forms import TimezoneField, language_choices


class ProfileForm(FlaskForm):
    """Name, language, time zone and email preferences."""

    name = StringField(_l("Name"), validators=[DataRequired(_l("Tell us your name.")), Length(max=120)])
    language = SelectField(_l("Language"), choices=language_choices())
    timezone = TimezoneField(_l("Time zone"))
    notify_activity = BooleanField(_l("Email me when something needs my attention"))
    notify_weekly = BooleanField(_l("Email me the weekly progress update"))


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
