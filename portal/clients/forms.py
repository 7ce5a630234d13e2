"""Forms for client organisations and inviting their people."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length

from portal.forms import TimezoneField, language_choices
from portal.models import PreferredChannel
from portal.once import OnceForm

CHANNEL_LABELS = {
    PreferredChannel.EMAIL: _l("Email"),
    PreferredChannel.PHONE: _l("Phone call"),
    PreferredChannel.MEETING: _l("Meeting"),
}


class ClientForm(OnceForm):
    """A client organisation and its profile."""

    name = StringField(_l("Organisation name"), validators=[DataRequired(_l("Enter the organisation's name.")), Length(max=160)])
    decision_makers = TextAreaField(
        _l("Decision makers"),
        validators=[Length(max=4000)],
        description=_l("Who decides, and who influences them. One person per line."),
    )
    preferred_channel = SelectField(
        _l("Preferred channel"), choices=[(c.value, label) for c, label in CHANNEL_LABELS.items()], default="email"
    )
    language = SelectField(_l("Language"), choices=language_choices(), default="en")
    timezone = TimezoneField(_l("Time zone"))
    sensitivities = TextAreaField(
        _l("Sensitivities"),
        validators=[Length(max=4000)],
        description=_l("Topics to handle with care, past incidents, what upsets them."),
    )
    internal_notes = TextAreaField(
        _l("Internal notes"), validators=[Length(max=8000)], description=_l("Only agency staff ever see these.")
    )


class InviteClientUserForm(OnceForm):
    """Invite a person of this client organisation."""

    name = StringField(_l("Name"), validators=[Length(max=120)])
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(_l("Enter an email address.")), Email(_l("Enter a valid email address.")), Length(max=254)],
    )
    language = SelectField(_l("Language of the invitation"), choices=language_choices())
