"""The webhook form: a name, an address and the events to send."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length

from portal.once import OnceForm
from portal.webhooks.events import EVENTS
from portal.webhooks.service import NAME_LIMIT, URL_LIMIT


class _HookFields:
    """The fields a webhook is made of (shared by the new and the edit form)."""

    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give the webhook a name, such as the system it feeds.")), Length(max=NAME_LIMIT)],
        description=_l("For you: for example “Slack #client-news” or “CRM”."),
    )
    url = StringField(
        _l("Address (URL)"),
        validators=[DataRequired(_l("Enter the address that receives the events.")), Length(max=URL_LIMIT)],
        description=_l("Rapport sends each event there as a signed POST request with a JSON body."),
    )
    events = SelectMultipleField(
        _l("Events to send"),
        choices=[(kind, label) for kind, label in EVENTS.items()],
        validators=[DataRequired(_l("Choose at least one event to send."))],
    )


class NewHookForm(_HookFields, OnceForm):
    """Register a webhook (sent twice, it registers one)."""


class HookForm(_HookFields, FlaskForm):
    """Change a webhook's name, address or events."""
