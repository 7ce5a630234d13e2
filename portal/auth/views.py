"""Login, logout, invitations, password resets and clients' emailed sign-in links."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import service
from portal.auth.forms import AcceptInviteForm, EmailLinkForm, LoginForm, NewPasswordForm
from portal.extensions import db, limiter
from portal.forms import EmptyForm
from portal.models import TokenPurpose
from portal.web import committing

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _token_limit() -> str:
    return current_app.config["RATELIMIT_TOKEN"]


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a same-site relative path, else None."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _sign_in(user, *, remember: bool) -> None:
    """Renew the session and log ``user`` in on a fresh server-side session."""
    language = session.get("language")
    session.clear()  # a new session at login: nothing from before survives (fixation)
    if language:
        session["language"] = language
    service.start_session(user, remember=remember, user_agent=request.user_agent.string)
    login_user(user, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Show the login form and log the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = service.authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            db.session.commit()
            flash(_("That email and password do not match an active account."), "danger")
            form.password.data = ""
            return render_template("auth/login.html", form=form), 401
        _sign_in(user, remember=bool(form.remember.data))
        db.session.commit()
        return redirect(safe_next(form.next.data) or url_for("home.index"))
    return render_template("auth/login.html", form=form), 422 if form.errors else 200


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End this session on the server and in the browser."""
    form = EmptyForm()
    if form.validate_on_submit():
        service.end_session(current_user.session_token)
        db.session.commit()
        logout_user()
        language = session.get("language")
        session.clear()
        if language:
            session["language"] = language
        flash(_("You are logged out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit(_token_limit, methods=["POST"])
def accept_invite(token: str):
    """Let an invited person choose their name and password."""
    record = service.find_token(token, TokenPurpose.INVITE)
    if record is None:
        return render_template("auth/link_expired.html", purpose="invite"), 404
    form = AcceptInviteForm()
    if request.method == "GET":
        form.name.data = record.user.name
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        # One transaction: the account is set up and the new session opened together.
        with committing(form) as saved:
            user = service.accept_invite(token, name=form.name.data or "", password=form.password.data or "")
            if current_user.is_authenticated:
                service.end_session(current_user.session_token)
                logout_user()
            _sign_in(user, remember=False)
        if saved.ok:
            flash(_("Welcome to Rapport, %(name)s.", name=user.name), "success")
            return redirect(url_for("home.index"))
        status = saved.status
    return render_template("auth/accept_invite.html", form=form, invitee=record.user), status


def _ask_for_link(form: EmailLinkForm, title: str, intro: str):
    """Show the one-field page that asks for an emailed link (422 when the address was refused)."""
    return render_template("auth/ask_for_link.html", form=form, title=title, intro=intro), 422 if form.errors else 200


@bp.route("/login/link", methods=["GET", "POST"])
@limiter.limit(_token_limit, methods=["POST"])
def request_sign_in_link():
    """Send a client a sign-in link by email, answering the same whether or not the account exists or may use one."""
    form = EmailLinkForm()
    if form.validate_on_submit():
        service.request_sign_in_link(form.email.data or "")
        db.session.commit()
        flash(
            _(
                "If your organisation lets you log in with a link, we have sent one to that address. It works once, for %(minutes)s minutes.",
                minutes=current_app.config["SIGN_IN_LINK_MINUTES"],
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    intro = _(
        "If your organisation allows it, we email you a link that logs you in once, without your password. Enter the email address you log in with."
    )
    return _ask_for_link(form, _("Log in with a link"), intro)


@bp.route("/login/link/<token>", methods=["GET", "POST"])
@limiter.limit(_token_limit, methods=["POST"])
def sign_in_with_link(token: str):
    """Open the emailed link: a page with one button (a mail scanner's visit uses nothing), and the button signs in."""
    record = service.find_token(token, TokenPurpose.SIGN_IN)
    if record is None or not service.may_use_sign_in_links(record.user):
        return render_template("auth/link_expired.html", purpose="sign_in"), 404
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        with committing() as saved:
            user = service.sign_in_with_link(token)
            if current_user.is_authenticated:
                service.end_session(current_user.session_token)
                logout_user()
            _sign_in(user, remember=False)
        if saved.ok:
            return redirect(url_for("home.index"))
        return render_template("auth/link_expired.html", purpose="sign_in"), 404
    return render_template("auth/sign_in_with_link.html", form=form, person=record.user), 422 if request.method == "POST" else 200


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_token_limit, methods=["POST"])
def forgot_password():
    """Send a reset link without revealing whether the account exists."""
    form = EmailLinkForm()
    if form.validate_on_submit():
        service.request_password_reset(form.email.data or "")
        db.session.commit()
        flash(_("If an account uses that address, we have sent it a link to choose a new password."), "info")
        return redirect(url_for("auth.login"))
    return _ask_for_link(form, _("Forgot your password?"), _("Enter the email address you log in with. We will send you a link to choose a new password."))


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_token_limit, methods=["POST"])
def reset_password(token: str):
    """Choose a new password from an emailed link."""
    if service.find_token(token, TokenPurpose.RESET) is None:
        return render_template("auth/link_expired.html", purpose="reset"), 404
    form = NewPasswordForm()
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        with committing(form) as saved:
            service.reset_password(token, form.password.data or "")
        if saved.ok:
            flash(_("Your password is changed. Log in with the new one."), "success")
            return redirect(url_for("auth.login"))
        status = saved.status
    return render_template("auth/reset_password.html", form=form), status


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch the interface language (and remember it on the account)."""
    form = EmptyForm()
    code = request.form.get("language", "")
    if form.validate_on_submit() and code in current_app.config["LANGUAGES"]:
        session["language"] = code
        if current_user.is_authenticated:
            current_user.language = code
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("home.index"))
