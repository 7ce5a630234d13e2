"""Forms for progress updates, comments, acknowledgements and the weekly note."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.ids import BoundedIntegerField
from portal.models import AckChoice
from portal.once import OnceForm

MARKDOWN_HINT = _l("Markdown works: **bold**, *italic*, lists with -, links as [text](https://…).")

ACK_LABELS = {
    AckChoice.ACCURATE: _l("Accurate"),
    AckChoice.NOT_ACCURATE: _l("Not accurate"),
    AckChoice.CONCERN: _l("I have a concern"),
}


class UpdateForm(OnceForm):
    """A manual progress update: a title, a Markdown body and optional sections."""

    title = StringField(_l("Title"), validators=[DataRequired(_l("Give the update a title.")), Length(max=200)])
    body = TextAreaField(_l("What happened"), validators=[Length(max=20000)], description=MARKDOWN_HINT)
    done = TextAreaField(_l("Done"), validators=[Length(max=5000)], description=_l("Optional. What was finished."))
    next_steps = TextAreaField(_l("Next"), validators=[Length(max=5000)], description=_l("Optional. What comes next."))
    blockers = TextAreaField(
        _l("Blockers"),
        validators=[Length(max=5000)],
        description=_l("Optional. What is stuck or late, and why. Blockers lead the next weekly update."),
    )
    needs = TextAreaField(
        _l("What we need from you"),
        validators=[Length(max=5000)],
        description=_l("Optional. Decisions, files or answers the client owes us."),
    )
    # The files are streamed into storage by the view (portal.storage.uploads), never parsed by WTForms:
    # this field only renders the labelled input and carries the refusal messages.
    files = MultipleFileField(_l("Attach files"))


class CommentForm(OnceForm):
    """A comment on an update (prefixed per update, so several fit on one page)."""

    body = TextAreaField(
        _l("Your comment"), validators=[DataRequired(_l("Write your comment first.")), Length(max=4000)]
    )


class AcknowledgeForm(FlaskForm):
    """A client's answer to an update; "not accurate" and "concern" need a sentence."""

    choice = HiddenField(_l("Answer"))
    comment = TextAreaField(_l("In one sentence: what is wrong?"), validators=[Length(max=2000)])

    def validate_choice(self, field: HiddenField) -> None:
        if field.data not in {c.value for c in AckChoice}:
            raise ValidationError(_l("Choose one of the answers."))

    def validate_comment(self, field: TextAreaField) -> None:
        if self.choice.data in (AckChoice.NOT_ACCURATE.value, AckChoice.CONCERN.value) and not (field.data or "").strip():
            raise ValidationError(_l("Tell us in a sentence what is wrong, so we can act on it."))


SCORE_LABELS = {
    "1": _l("1 – poor"),
    "2": _l("2 – below what we expect"),
    "3": _l("3 – all right"),
    "4": _l("4 – good"),
    "5": _l("5 – very good"),
}


class AnswerForm(FlaskForm):
    """The page an emailed answer link opens: a sentence for "not accurate" and a concern, and an optional 1–5 score."""

    comment = TextAreaField(validators=[Length(max=2000)])
    score = RadioField(
        _l("How satisfied are you with our work? (optional)"),
        choices=list(SCORE_LABELS.items()),
        validators=[Optional()],
        validate_choice=False,  # checked below, with a message of our own
    )

    def __init__(self, choice: AckChoice, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.answer = choice
        self.comment.label.text = {AckChoice.NOT_ACCURATE: _l("What is not accurate?"), AckChoice.CONCERN: _l("What concerns you?")}.get(
            choice, ""
        )

    @property
    def needs_sentence(self) -> bool:
        """Tell whether this answer needs a sentence (all but "accurate")."""
        return self.answer is not AckChoice.ACCURATE

    def validate_comment(self, field: TextAreaField) -> None:
        if self.needs_sentence and not (field.data or "").strip():
            raise ValidationError(_l("Tell us in a sentence what is wrong, so we can act on it."))

    def validate_score(self, field: RadioField) -> None:
        if field.data not in (None, "", *SCORE_LABELS):
            raise ValidationError(_l("Choose a score from 1 to 5, or none."))

    @property
    def score_value(self) -> int | None:
        """Return the chosen score, or None."""
        return int(self.score.data) if self.score.data in SCORE_LABELS else None


class WeeklyNoteForm(FlaskForm):
    """The personal note staff add to the coming weekly update."""

    body = TextAreaField(
        _l("Your personal note"),
        validators=[Length(max=5000)],
        description=_l("Optional. Shown with your name after the bad news. Leave it empty to send no note."),
    )
    note_id = BoundedIntegerField(validators=[Optional()])
    version = BoundedIntegerField(validators=[Optional()])
