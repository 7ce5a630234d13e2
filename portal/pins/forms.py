"""Forms of the pinned review: a pin, a reply, settling and checking a pin."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.ids import BoundedIntegerField
from portal.once import OnceForm
from portal.pins.service import TEXT_MAX


class PinForm(OnceForm):
    """A comment on a spot of a file: the spot comes from a click, the arrow keys, or none (the whole file)."""

    x = HiddenField()
    y = HiddenField()
    page = BoundedIntegerField(_l("Page"), default=1, validators=[Optional()])
    body = TextAreaField(
        _l("Your comment"),
        validators=[DataRequired(_l("Write what should change at this spot.")), Length(max=TEXT_MAX)],
        description=_l("Click the picture to choose the spot (or use the arrow keys on it, then Enter). Without a spot, the comment is on the whole file."),
    )
    internal = BooleanField(_l("Internal: only the agency sees this pin"))


class ReplyForm(OnceForm):
    """A reply under a pin."""

    body = TextAreaField(_l("Reply"), validators=[DataRequired(_l("Write your reply.")), Length(max=TEXT_MAX)])


class SettleForm(FlaskForm):
    """Staff: what became of a pin."""

    status = HiddenField(validators=[DataRequired()])
    note = TextAreaField(_l("Why will this not be done?"), validators=[Length(max=TEXT_MAX)])


class CheckForm(FlaskForm):
    """Staff: is an earlier version's pin addressed in the current one?"""

    addressed = RadioField(
        _l("Addressed in this version?"),
        choices=[("yes", _l("Addressed")), ("no", _l("Not yet"))],
        validators=[DataRequired(_l("Say whether the pin is addressed."))],
    )
