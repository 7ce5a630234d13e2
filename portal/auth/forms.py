"""Forms for logging in, accepting invitations and resetting passwords."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length


class LoginForm(FlaskForm):
    """Email and password, with "remember me"."""

    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=1024)])
    remember = BooleanField(_l("Remember me on this device"))
    next = HiddenField()


class EmailLinkForm(FlaskForm):
    """Ask for a link by email: a password reset, or a client's login link."""

    email = EmailField(
        _l("Email"),
        validators=[DataRequired(_l("Enter your email address.")), Email(_l("Enter a valid email address.")), Length(max=254)],
    )


class NewPasswordForm(FlaskForm):
    """Choose a new password, twice."""

    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a password.")), Length(max=1024)],
        description=_l("At least 8 characters. Long passphrases are welcome."),
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(_l("Repeat the password.")), EqualTo("password", _l("The two passwords do not match."))],
    )


class AcceptInviteForm(NewPasswordForm):
    """Set your name and password to join."""

    name = StringField(_l("Your name"), validators=[DataRequired(_l("Tell us your name.")), Length(max=120)])


class TwoFactorCodeForm(FlaskForm):
    """The second step of logging in: the code of the authenticator app, or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Enter the code from your app.")), Length(max=40)],
        description=_l("The six digits your authenticator app shows now, or one of your recovery codes."),
    )
