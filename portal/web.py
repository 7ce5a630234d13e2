"""The one way a view saves: commit once, or turn a refusal into a message and a 4xx.

Services raise :class:`~portal.errors.DomainError` (422 unless a subclass says otherwise:
``NotAllowed`` 403, ``Conflict`` 409, a refused upload 413/422); the database refuses
a lost race with ``IntegrityError`` (a unique constraint) or ``StaleDataError`` (a
version counter). Views run their service calls inside :func:`committing`::

    form = DeliverableForm()
    if form.validate_on_submit():
        with committing(form) as saved:
            deliverable = service.create_deliverable(current_user, project, ...)
        if saved.ok:
            return redirect(url_for("deliverables.show", deliverable_id=deliverable.id))
        status = saved.status  # 403, 409, 413 or 422
    return render_template("deliverables/form.html", form=form), status

On a refusal the transaction is rolled back, the message goes on the form field it
names (or into a flash), and the view renders the same form again: what the user
typed is still there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import abort, flash, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal.errors import Conflict, DomainError
from portal.extensions import db
from portal.forms import EmptyForm

log = logging.getLogger(__name__)

CHANGED_MEANWHILE = _l("Someone changed this in the meantime. Here is its latest state; check it and try again.")


@dataclass
class Outcome:
    """What became of the action inside :func:`committing`.

    ``ok`` once it committed; otherwise ``status`` is the 4xx to answer with and
    ``error`` the refusal (its ``message`` already shown, unless ``flash_errors`` was off).
    """

    ok: bool = False
    status: int = 200
    error: DomainError | None = None


def apply_domain_error(form: FlaskForm, error: DomainError) -> bool:
    """Attach a service's error to the form field it names; return False when there is no such field."""
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        return False
    field.errors = [*field.errors, str(error.message)]
    return True


def show_error(error: DomainError, *forms: FlaskForm | None) -> None:
    """Put ``error`` on the first of ``forms`` that has its field, else flash it."""
    if not any(form is not None and apply_domain_error(form, error) for form in forms):
        flash(str(error.message), "danger")


@contextmanager
def committing(
    form: FlaskForm | None = None,
    *,
    conflict: str | None = None,
    flash_errors: bool = True,
) -> Iterator[Outcome]:
    """Run a view's service calls as one transaction and commit it; refusals become a message and a 4xx.

    ``conflict`` is the message for a race lost at commit time (a unique constraint or a
    stale version counter), default :data:`CHANGED_MEANWHILE`; the answer is then 409.
    With ``flash_errors=False`` the view shows ``outcome.error`` itself.
    """
    outcome = Outcome()
    try:
        yield outcome
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        _refuse(outcome, error, form, flash_errors)
        return
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        # Usually a race lost to another writer; logged, since a NOT NULL or foreign-key bug would look the same.
        log.warning("refused at commit on %s %s", request.method, request.path, exc_info=True)
        _refuse(outcome, Conflict(conflict or CHANGED_MEANWHILE), form, flash_errors)
        return
    outcome.ok = True


def _refuse(outcome: Outcome, error: DomainError, form: FlaskForm | None, flash_errors: bool) -> None:
    outcome.status = error.status
    outcome.error = error
    if flash_errors:
        show_error(error, form)


def require_button_form() -> None:
    """Refuse a POST-only button (an ``EmptyForm``) whose CSRF token is missing or wrong with a 400."""
    if not EmptyForm().validate_on_submit():
        abort(400)


def wants_json() -> bool:
    """Tell whether the request came from one of the pages' scripts (which ask for JSON)."""
    return request.accept_mimetypes.best == "application/json"
