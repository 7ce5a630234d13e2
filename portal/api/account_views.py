"""The account's token page: make a personal access token (shown once) and revoke it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.api import tokens
from portal.api.forms import TokenForm
from portal.extensions import db
from portal.models import ApiToken, TokenScope
from portal.web import committing, require_button_form

bp = Blueprint("api_tokens", __name__, url_prefix="/account/tokens")


def _page(form: TokenForm, *, secret: str | None = None, status: int = 200):
    return (
        render_template("account/tokens.html", form=form, tokens=tokens.tokens_of(current_user), secret=secret, prefix=tokens.PREFIX),
        status,
    )


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    """List the person's working tokens; make a new one and show its secret this once."""
    form = TokenForm(current_user)
    if not form.validate_on_submit():
        return _page(form, status=422 if form.errors else 200)
    with committing(form) as saved:
        _token, secret = tokens.create_token(current_user, name=form.name.data or "", scope=TokenScope(form.scope.data))
    if not saved.ok:
        return _page(form, status=saved.status)
    # The page itself, with the secret on it: shown this once (only its hash is kept).
    return _page(TokenForm(current_user, formdata=None), secret=secret, status=201)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    """Revoke one of the person's tokens: it stops working at once."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == current_user.id))
    if token is None:
        abort(404)
    require_button_form()
    tokens.revoke_token(token)
    db.session.commit()
    flash(_("The token is revoked. Programs that use it can no longer reach the portal."), "success")
    return redirect(url_for("api_tokens.index"))
