"""Forms of asset collection. Uploads are not a WTForms form: their body is streamed (see views)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.assets.service import INSTRUCTIONS_MAX, NOTE_MAX, TITLE_MAX
from portal.once import OnceForm
from portal.storage.filetypes import KIND_LABELS


class AssetRequestForm(OnceForm):
    """Ask the client for something (also used to edit an open request)."""

    title = StringField(
        _l("What do you need?"),
        validators=[DataRequired(_l("Say what you need, for example \u201cLogo as a vector file\u201d.")), Length(max=TITLE_MAX)],
    )
    instructions = TextAreaField(
        _l("Instructions"),
        validators=[Length(max=INSTRUCTIONS_MAX)],
        description=_l("Formats, sizes, where to find it: whatever helps the client send the right thing first time."),
    )
    kinds = SelectMultipleField(
        _l("Accepted kinds of file"),
        choices=[(kind, label) for kind, label in KIND_LABELS.items()],
        validators=[DataRequired(_l("Choose at least one kind of file."))],
    )
    due_date = DateField(
        _l("Due date"), validators=[Optional()], description=_l("Optional. Clients are reminded two days before and when it is late.")
    )
    required = BooleanField(
        _l("Required"), default=True, description=_l("Untick for nice-to-have items: the client sees them marked as optional.")
    )


class ReturnForm(FlaskForm):
    """Return a submission to the client with a note on what to change."""

    note = TextAreaField(
        _l("What should the client change?"),
        validators=[
            DataRequired(_l("Tell the client what to change, for example \u201cthe logo must be a vector file\u201d.")),
            Length(max=NOTE_MAX),
        ],
    )
