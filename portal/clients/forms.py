"""Forms for client organisations and inviting their people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from portal.forms import TimezoneField, language_choices
from portal.ids import MAX_INT
from portal.models import PreferredChannel, User
from portal.once import OnceForm

CHANNEL_LABELS = {
    PreferredChannel.EMAIL: _l("Email"),
    PreferredChannel.PHONE: _l("Phone call"),
    PreferredChannel.MEETING: _l("Meeting"),
}


NOT_THEIR_PERSON = _l("Choose decision makers among this client's own people.")


class PeopleField(SelectMultipleField):
    """Ticked people, by user id: an id that is no number, out of range or not offered is a form error, never a query."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        super().__init__(label, validators, coerce=int, choices=[], **kwargs)
        self.offered: set[int] = set()
        self.garbled = False

    def offer(self, people: Sequence[User]) -> None:
        """Offer ``people`` (the only ids the field accepts)."""
        self.choices = [(person.id, person.display_name) for person in people]
        self.offered = {person.id for person in people}

    def process_formdata(self, valuelist: list[Any]) -> None:
        # Keep the ids that can be ids (a refused form comes back with them still ticked); the rest refuse it.
        self.data = []
        self.garbled = False
        for raw in valuelist:
            try:
                value = int(raw)
            except (TypeError, ValueError):
                value = 0
            if 0 < value <= MAX_INT:
                self.data.append(value)
            else:
                self.garbled = True

    def pre_validate(self, form: Any) -> None:
        if self.garbled or any(value not in self.offered for value in self.data or []):
            raise ValidationError(NOT_THEIR_PERSON)


class ClientForm(OnceForm):
    """A client organisation and its profile; ``people`` are the ones who can be marked decision makers."""

    name = StringField(_l("Organisation name"), validators=[DataRequired(_l("Enter the organisation's name.")), Length(max=160)])
    decision_maker_ids = PeopleField(_l("Decision makers with an account"))
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
    sign_in_links = BooleanField(_l("Its people may also log in with a link sent to their email (each link works once, for a few minutes)"))

    def __init__(self, *args: Any, people: Sequence[User] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.decision_maker_ids.offer(people)


class InviteClientUserForm(OnceForm):
    """Invite a person of this client organisation."""

    name = StringField(_l("Name"), validators=[Length(max=120)])
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(_l("Enter an email address.")), Email(_l("Enter a valid email address.")), Length(max=254)],
    )
    language = SelectField(_l("Language of the invitation"), choices=language_choices())
