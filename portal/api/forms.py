"""The form that makes a personal access token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.validators import Length

from portal.api.tokens import NAME_MAX, scopes_for
from portal.models import TokenScope, User

SCOPE_LABELS = {
    TokenScope.READ: _l("Read: see what you can see in the portal"),
    TokenScope.READ_WRITE: _l("Read and write: also post updates, request assets, submit versions and record check-ins"),
}


class TokenForm(FlaskForm):
    """A name to recognise the token by, and what it may do (writing: staff only)."""

    name = StringField(
        _l("Name"), validators=[Length(max=NAME_MAX)], description=_l("Optional. Where you use it, for example “Reporting spreadsheet”.")
    )
    scope = RadioField(_l("What it may do"), default=TokenScope.READ.value)

    def __init__(self, user: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scope.choices = [(scope.value, SCOPE_LABELS[scope]) for scope in scopes_for(user)]
