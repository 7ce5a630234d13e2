"""One-time submission keys: a create form sent twice makes one thing.

Pressing Back after "Propose the goal" and sending the form again, a double click, or a
browser retrying a post on a flaky connection would otherwise create a second identical
goal, deliverable, request or comment (and email the client twice). Every create form
is a :class:`OnceForm`: it carries a random ``submission_key`` made when the form is
first shown (kept when the form comes back with errors, so a corrected form still goes
through once). A create view calls :func:`already_done` before acting, and
:func:`remember` inside the transaction that creates the thing::

    if (done := once.already_done(form)) is not None:
        return done
    with committing(form, flash_errors=False) as saved:
        goal = service.propose_goal(...)
        once.remember(form, url_for("goals.show", goal_id=goal.id))
    if not saved.ok and (done := once.after_refusal(form, saved)) is not None:
        return done  # its twin, sent at the same moment, won the unique key: land on its result

A repeat changes nothing and lands on the first result with a short notice. A key stands
for what the form said (a hash of its values, the *fingerprint*): Back, an edit and a send
is a new submission, not a repeat. Keys are per user (another user's key is just unknown)
and kept :data:`RETENTION`; a post with no key (a script, an old page) or a malformed one
is handled as a first send. Uploads without the page's script use :class:`Submission`
directly, with the stored files' hashes as the fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, flash, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import delete, select
from wtforms import HiddenField

from portal.extensions import db
from portal.models import FormSubmission
from portal.timeutil import utcnow
from portal.web import Outcome, show_error

RETENTION = timedelta(days=30)
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_NOT_VALUES = frozenset({"csrf_token", "submission_key"})


def new_key() -> str:
    """Return a fresh one-time key (128 random bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def init_app(app: Flask) -> None:
    """Let templates that write a form's fields by hand add a key: ``new_submission_key()``.

    Pages are ``no-store``, so Back fetches a form again with a new key; ``static/js/app.js``
    writes the key a form was sent with into that history entry and puts it back on Back.
    """
    app.add_template_global(new_key, "new_submission_key")


class OnceForm(FlaskForm):
    """A create form with a one-time submission key (rendered by ``form.hidden_tag()``)."""

    submission_key = HiddenField(default=new_key)

    def validate_submission_key(self, field: HiddenField) -> None:
        """A malformed key (a tampered or truncated page) is replaced: the form goes through as a first send."""
        if field.data and not _KEY.match(field.data):
            field.data = new_key()


def fingerprint(values: Iterable[object]) -> str:
    """Return a stable hash of what a submission said."""
    text = json.dumps(list(values), default=str, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Submission:
    """One send of a form: its one-time key and what it said (``fingerprint``)."""

    key: str
    fingerprint: str

    @classmethod
    def of(cls, key: object, values: Iterable[object]) -> Submission | None:
        """Return the submission a post made, or None when it carries no well-formed key (or no one is logged in)."""
        if request.method != "POST" or not isinstance(key, str) or not _KEY.match(key) or not current_user.is_authenticated:
            return None
        return cls(key, fingerprint(values))

    def earlier(self) -> str | None:
        """Return what this same submission made before, if this user already sent it.

        The same key with other values (Back, then an edit) is another submission, recorded
        beside the first; a key recorded before fingerprints existed matches any values.
        """
        return db.session.scalar(
            select(FormSubmission.result_url)
            .where(
                FormSubmission.user_id == current_user.id,
                FormSubmission.key == self.key,
                FormSubmission.fingerprint.in_([self.fingerprint, ""]),
            )
            .limit(1)
        )

    def remember(self, result_url: str) -> None:
        """Record, in the caller's transaction, that this submission made ``result_url`` (a same-site path)."""
        db.session.execute(delete(FormSubmission).where(FormSubmission.user_id == current_user.id, FormSubmission.created_at < utcnow() - RETENTION))
        db.session.add(FormSubmission(user_id=current_user.id, key=self.key, fingerprint=self.fingerprint, result_url=result_url[:500]))
        db.session.flush()  # a twin sent at the same moment fails here, on the unique key, and its transaction rolls back


def repeated(result_url: str) -> ResponseReturnValue:
    """Answer a repeat: nothing was done again; show the first result."""
    flash(_("This was already sent, so nothing was added again. Here it is."), "info")
    return redirect(result_url)


def _submission(form: FlaskForm) -> Submission | None:
    """Return the form's submission (its key and a hash of its values), if it carries a key."""
    field = getattr(form, "submission_key", None)
    if field is None:
        return None
    values = sorted((name, value) for name, value in form.data.items() if name not in _NOT_VALUES)
    return Submission.of(field.data, values)


def already_done(form: FlaskForm) -> ResponseReturnValue | None:
    """If this user already sent this form with these values, redirect to what it made (nothing is done again)."""
    submission = _submission(form)
    if submission is None:
        return None
    url = submission.earlier()
    return None if url is None else repeated(url)


def remember(form: FlaskForm, result_url: str) -> None:
    """Record, in the caller's transaction, that this form's key made ``result_url`` (a same-site path)."""
    if (submission := _submission(form)) is not None:
        submission.remember(result_url)


def after_refusal(form: FlaskForm, saved: Outcome, *, show: bool = True) -> ResponseReturnValue | None:
    """After ``committing(flash_errors=False)`` refused: the twin's result if a twin sent at the same moment won the key.

    Otherwise the refusal is shown on the form (unless ``show`` is off: the view shows it) and None returned.
    """
    if (done := already_done(form)) is not None:
        return done
    if show and saved.error is not None:
        show_error(saved.error, form)
    return None
