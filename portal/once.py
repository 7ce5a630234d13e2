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
    with committing(form) as saved:
        goal = service.propose_goal(...)
        once.remember(form, url_for("goals.show", goal_id=goal.id))
    if not saved.ok and (done := once.already_done(form)) is not None:
        return done  # its twin, sent at the same moment, won the unique key: land on its result

A repeat changes nothing and lands on the first result with a short notice. Keys are
per user (another user's key is just unknown) and kept :data:`RETENTION`; a post with no
key (a script, an old page) is handled as before.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from flask import Flask, flash, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import delete, select
from wtforms import HiddenField
from wtforms.validators import ValidationError

from portal.extensions import db
from portal.models import FormSubmission
from portal.timeutil import utcnow

RETENTION = timedelta(days=30)
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


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
        """Refuse a malformed key (an empty one means "no key": handled as before)."""
        if field.data and not _KEY.match(field.data):
            raise ValidationError(_l("The form expired. Reload the page and send it again."))


def _key(form: FlaskForm) -> str | None:
    """Return the form's well-formed key, if it carries one."""
    field = getattr(form, "submission_key", None)
    value = field.data if field is not None else None
    return value if isinstance(value, str) and _KEY.match(value) else None


def already_done(form: FlaskForm) -> ResponseReturnValue | None:
    """If this user already sent this form's key, redirect to what it made (nothing is done again)."""
    key = _key(form)
    if request.method != "POST" or key is None or not current_user.is_authenticated:
        return None
    url = db.session.scalar(select(FormSubmission.result_url).where(FormSubmission.user_id == current_user.id, FormSubmission.key == key))
    if url is None:
        return None
    flash(_("This was already sent, so nothing was added again. Here it is."), "info")
    return redirect(url)


def remember(form: FlaskForm, result_url: str) -> None:
    """Record, in the caller's transaction, that this form's key made ``result_url`` (a same-site path)."""
    key = _key(form)
    if key is None:
        return
    db.session.execute(
        delete(FormSubmission).where(FormSubmission.user_id == current_user.id, FormSubmission.created_at < utcnow() - RETENTION)
    )
    db.session.add(FormSubmission(user_id=current_user.id, key=key, result_url=result_url[:500]))
    db.session.flush()  # a twin sent at the same moment fails here, on the unique key, and its transaction rolls back
