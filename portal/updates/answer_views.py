"""The pages an update email's answer links open: no login needed, in the language of the person the link was sent to.

Opening a link (a GET, which mail scanners do on their own) only shows a page; its button
(a POST with the CSRF token, like every form) records the answer. The rules of the links
are in :mod:`portal.updates.answers`.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_login import current_user

from portal.extensions import limiter
from portal.models import User
from portal.templating import select_locale
from portal.updates import answers
from portal.updates.forms import AnswerForm
from portal.web import committing, show_error

bp = Blueprint("answers", __name__)


def _answer_limit() -> str:
    """Return how often one address may use the answer pages (PORTAL_RATELIMIT_ANSWER, else the token forms' limit)."""
    return current_app.config.get("RATELIMIT_ANSWER") or current_app.config["RATELIMIT_TOKEN"]


def _viewer() -> User | None:
    return current_user if current_user.is_authenticated else None


def _language(person: User | None) -> str:
    """Return the language to answer ``person`` in: their setting, else the language this page would have anyway."""
    languages = current_app.config["LANGUAGES"]
    if person is not None and person.language in languages:
        return person.language
    return select_locale()


def _refused(refusal: answers.LinkRefused):
    """Show why the link does not work (nothing was changed), in its person's language when known."""
    with force_locale(_language(refusal.person)):
        return render_template("updates/answer_refused.html", reason=refusal.reason.value), refusal.status


@bp.route("/answer/<string:token>", methods=["GET", "POST"])
@limiter.limit(_answer_limit)
def answer(token: str):
    """Show the answer page of an emailed link; its button (a POST) records the answer as the link's person."""
    try:
        link = answers.open_link(token, _viewer())
    except answers.LinkRefused as refusal:
        return _refused(refusal)
    with force_locale(_language(link.user)):
        current = answers.current_answer(link)
        form = AnswerForm(link.choice)
        status = 200
        if request.method == "GET" and current is not None:
            if current.choice is link.choice:
                form.comment.data = current.comment
            form.score.data = str(current.score) if current.score else None
        if request.method == "POST":
            status = 422
            if form.validate_on_submit():
                with committing(form, flash_errors=False) as saved:
                    answers.answer(token, _viewer(), comment=form.comment.data or "", score=form.score_value)
                if saved.ok:
                    return redirect(url_for("answers.thanks", token=token))
                if isinstance(saved.error, answers.LinkRefused):
                    return _refused(saved.error)
                if saved.error is not None:
                    show_error(saved.error, form)
                status = saved.status
        return render_template("updates/answer.html", form=form, link=link, update=link.update, person=link.user, current=current), status


@bp.route("/answer/<string:token>/thanks")
@limiter.limit(_answer_limit)
def thanks(token: str):
    """Thank the person for their answer and show it, with a way into the portal; changes nothing."""
    try:
        link = answers.open_link(token, _viewer())
    except answers.LinkRefused as refusal:
        return _refused(refusal)
    with force_locale(_language(link.user)):
        current = answers.current_answer(link)
        if current is None:  # opened before answering: the answer page is where to go
            return redirect(url_for("answers.answer", token=token))
        return render_template("updates/answer_thanks.html", link=link, update=link.update, person=link.user, current=current)
