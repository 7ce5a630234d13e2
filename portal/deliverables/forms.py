"""Forms of deliverable review. Uploads are not a WTForms form: their body is streamed (see views)."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from portal.deliverables.service import DESCRIPTION_MAX, MAX_INCLUDED_ROUNDS, NOTES_MAX, TEXT_MAX, TITLE_MAX
from portal.ids import BoundedIntegerField
from portal.models.deliverables import ReasonCategory
from portal.once import OnceForm

REASON_LABELS = {
    ReasonCategory.OFF_BRIEF: _l("Off brief"),
    ReasonCategory.QUALITY: _l("Quality"),
    ReasonCategory.FACTUAL_ERROR: _l("Factual error"),
    ReasonCategory.NEW_REQUEST: _l("New request"),
    ReasonCategory.OTHER: _l("Other"),
}


class DeliverableForm(OnceForm):
    """Create a deliverable, or change its details."""

    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Name the deliverable, for example \u201cHomepage design\u201d.")), Length(max=TITLE_MAX)],
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=DESCRIPTION_MAX)],
        description=_l("What the client receives and what to look at when reviewing it. Markdown works."),
    )
    due_date = DateField(_l("Due date"), validators=[Optional()], description=_l("Optional. When the client should have it approved."))
    included_rounds = BoundedIntegerField(
        _l("Revision rounds included"),
        validators=[
            InputRequired(_l("Enter the number of revision rounds included, for example 2.")),
            NumberRange(min=0, max=MAX_INCLUDED_ROUNDS, message=_l("Enter a number of rounds from 0 to %(max)s.", max=MAX_INCLUDED_ROUNDS)),
        ],
        description=_l("Change requests answered within these rounds are part of the agreement; later rounds are flagged."),
    )


class VersionForm(FlaskForm):
    """Prepare a version: change notes, links and (past the agreed rounds) the impact on the client."""

    change_notes = TextAreaField(
        _l("What changed"),
        validators=[Length(max=NOTES_MAX)],
        description=_l("For example \u201cMoved the logo left and used the new photos, as asked.\u201d Markdown works."),
    )
    links = TextAreaField(
        _l("Links"),
        description=_l("Optional: a staging site, a Figma board\u2026 One per line, a label then the address: \u201cStaging site https://staging.example.com\u201d."),
    )
    impact_note = TextAreaField(
        _l("Impact on the client"),
        validators=[Length(max=TEXT_MAX)],
        description=_l("This round is past what was agreed. Say how it affects the client: time, cost."),
    )
    review_due = DateField(
        _l("Review by"),
        validators=[Optional()],
        description=_l("Optional. When the approvers should have decided on this version; their daily digest shows it."),
    )
    save = SubmitField(_l("Save draft"))
    submit = SubmitField(_l("Submit for review"))


class ReviewDueForm(FlaskForm):
    """Change the date the approvers should decide on the version in review by."""

    review_due = DateField(_l("Review by"), validators=[Optional()], description=_l("Leave empty for no date of its own."))


class ApproveForm(FlaskForm):
    """Approve the current version, with an optional comment."""

    text = TextAreaField(_l("Comment (optional)"), validators=[Length(max=TEXT_MAX)])


class RequestChangesForm(FlaskForm):
    """Request changes on the current version: a reason category and what should change."""

    reason_category = SelectField(
        _l("Reason"),
        choices=[("", _l("Choose a reason"))] + [(category.value, label) for category, label in REASON_LABELS.items()],
        validators=[DataRequired(_l("Choose the reason for the changes."))],
    )
    text = TextAreaField(
        _l("What should change?"),
        validators=[Length(max=TEXT_MAX)],
        description=_l("Required unless you send pins below: they say it on the exact spot."),
    )

    def validate_text(self, field: TextAreaField) -> None:
        """The text may stay empty only when pins are sent with the request (the service checks them)."""
        if not (field.data or "").strip() and not request.form.getlist(f"{self._prefix}pins"):
            raise ValidationError(_l("Say what should change, or choose the pins that say it, so the agency can act on it."))


class ReopenForm(FlaskForm):
    """Reopen an approved deliverable (admins), with the reason."""

    reason = TextAreaField(
        _l("Why reopen it?"),
        validators=[DataRequired(_l("Say why the approved deliverable is reopened; the reason stays on record.")), Length(max=TEXT_MAX)],
    )


class CommentForm(OnceForm):
    """Write in a deliverable's conversation."""

    body = TextAreaField(
        _l("Your message"),
        validators=[DataRequired(_l("Write a message first.")), Length(max=TEXT_MAX)],
        description=_l("Markdown works: **bold**, lists, links."),
    )
