"""Login, logout, invitations, password resets and clients' emailed sign-in links."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import service, throttle, twofactor
from portal.auth.forms import AcceptInviteForm, EmailLinkForm, LoginForm, NewPasswordForm, TwoFactorCodeForm
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


PENDING = "two_factor_pending"  # the session key of the signed note between the password and the code
MUST_ENROL = twofactor.MUST_ENROL


def _fresh_session() -> None:
    """Empty the session, keeping only the chosen language (nothing else survives a login: fixation)."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language


def _sign_in(user, *, remember: bool) -> None:
    """Renew the session and log ``user`` in on a fresh server-side session."""
    _fresh_session()
    service.start_session(user, remember=remember, user_agent=request.user_agent.string)
    login_user(user, remember=remember)


def _after_password(user, *, remember: bool, next_path: str | None):
    """Finish a first factor: ask for the code, send to enrol, or log in. The caller commits afterwards."""
    if user.has_two_factor:
        _fresh_session()
        session[PENDING] = twofactor.pending_token(user, remember=remember, next_path=next_path)
        return redirect(url_for("auth.two_factor"))
    if twofactor.must_enrol(user):
        # Logged in only to enrol (the gate in portal.auth allows nothing else); no "remember me" until then,
        # so a cookie without the mark cannot bring back a session that skipped enrolment.
        if twofactor.pending_secret(user) is None:
            twofactor.start_enrolment(user)
        _sign_in(user, remember=False)
        session[MUST_ENROL] = True
        flash(_("The agency requires two-factor sign-in for staff. Set it up now to continue."), "warning")
        return redirect(url_for("account.two_factor"))
    _sign_in(user, remember=remember)
    return redirect(next_path or url_for("home.index"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Show the login form and log the user in (or ask for their code next)."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        with committing(form) as saved:
            user = service.authenticate(form.email.data or "", form.password.data or "")
        if not saved.ok:  # too many failures with this address: the same wait for any address, known or not
            form.password.data = ""
            return render_template("auth/login.html", form=form), saved.status
        if user is None:
            flash(_("That email and password do not match an active account."), "danger")
            form.password.data = ""
            return render_template("auth/login.html", form=form), 401
        response = _after_password(user, remember=bool(form.remember.data), next_path=safe_next(form.next.data))
        db.session.commit()
        return response
    return render_template("auth/login.html", form=form), 422 if form.errors else 200


def _pending_account_key() -> str:
    """Key the code step's rate limit by the account being signed in to (the login limit keys it by address too)."""
    return f"two-factor:{twofactor.pending_user_id(session.get(PENDING))}"


def _no_pending_account() -> bool:
    """Tell whether no account is being signed in to: then there is no code to count (the page sends to the login form)."""
    return twofactor.pending_user_id(session.get(PENDING)) is None


def _code_limit() -> str:
    return current_app.config.get("RATELIMIT_TWO_FACTOR", "5 per minute;30 per hour")


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_code_limit, key_func=_pending_account_key, methods=["POST"], exempt_when=_no_pending_account)
def two_factor():
    """The second step of logging in: a code from the authenticator app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    pending = twofactor.read_pending(session.get(PENDING))
    if pending is None:
        session.pop(PENDING, None)
        flash(_("Your sign-in took too long or was interrupted. Log in again."), "info")
        return redirect(url_for("auth.login"))
    user, remember, next_path = pending
    form = TwoFactorCodeForm()
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        wait = throttle.wait_left(user.email)
        if wait is not None:
            form.code.errors = [str(service.TryLater(wait).message)]
            return render_template("auth/two_factor.html", form=form, minutes=twofactor.pending_minutes()), 429
        if twofactor.verify_code(user, form.code.data or ""):
            throttle.clear(user.email)
            _sign_in(user, remember=remember)
            db.session.commit()
            return redirect(next_path or url_for("home.index"))
        with committing():
            throttle.record_failure(user.email, user)
        form.code.errors = [str(twofactor.WRONG_CODE)]
        form.code.data = ""
        status = 401
    return render_template("auth/two_factor.html", form=form, minutes=twofactor.pending_minutes()), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End this session on the server and in the browser."""
    form = EmptyForm()
    if form.validate_on_submit():
        service.end_session(current_user.session_token)
        db.session.commit()
        logout_user()
        _fresh_session()
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
            # The new password is a first factor like any other: staff who must use two-factor enrol first.
            response = _after_password(user, remember=False, next_path=None)
        if saved.ok:
            flash(_("Welcome to Rapport, %(name)s.", name=user.name), "success")
            return response
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
            # The link stands in for the password only: someone with two-factor sign-in still gives their code.
            response = _after_password(user, remember=False, next_path=None)
        if saved.ok:
            return response
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
