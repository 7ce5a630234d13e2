"""The account settings page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.account.forms import PasswordCheckForm, PasswordForm, ProfileForm, TwoFactorConfirmForm
from portal.auth import service as auth_service
from portal.auth import twofactor
from portal.extensions import db, limiter
from portal.models import User
from portal.sections import account_sections
from portal.web import committing, require_button_form

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(profile: ProfileForm, password: PasswordForm, status: int = 200):
    """Render the settings page with both forms."""
    return settings_page(profile=profile, password=password, status=status)


def settings_page(
    *, profile: ProfileForm | None = None, password: PasswordForm | None = None, status: int = 200, blocks: dict[str, Any] | None = None
):
    """Render the settings page: the profile and password forms, then the features' blocks (``blocks`` replaces some contexts)."""
    rendered = []
    for entry in account_sections.entries():
        context = (blocks or {}).get(entry.key) or entry.value.context(current_user)
        if context is not None:
            rendered.append((entry.value.template, context))
    return (
        render_template(
            "account/settings.html",
            profile=profile or ProfileForm(obj=current_user, prefix="profile", formdata=None),
            password=password or PasswordForm(prefix="password", formdata=None),
            sections=rendered,
        ),
        status,
    )


@bp.route("/", methods=["GET", "POST"])
@login_required
def settings():
    """Show and save the user's name, language, time zone and email preferences."""
    profile = ProfileForm(obj=current_user, prefix="profile")
    if profile.validate_on_submit():
        current_user.name = (profile.name.data or "").strip()
        current_user.language = profile.language.data
        current_user.timezone = profile.timezone.data
        current_user.notify_activity = bool(profile.notify_activity.data)
        current_user.notify_weekly = bool(profile.notify_weekly.data)
        current_user.digest_hour = profile.digest_hour.data
        db.session.commit()
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("account.settings"))
    return _page(profile, PasswordForm(prefix="password"), 422 if profile.errors else 200)


@bp.route("/password", methods=["POST"])
@login_required
def change_password():
    """Change the password; every other session of this user ends."""
    password = PasswordForm(prefix="password")
    status = 422
    if password.validate_on_submit():
        with committing(password) as saved:
            auth_service.change_password(current_user, password.current_password.data or "", password.password.data or "")
        if saved.ok:
            flash(_("Your password is changed. Your other devices were logged out."), "success")
            return redirect(url_for("account.settings"))
        status = saved.status
    return _page(ProfileForm(obj=current_user, prefix="profile", formdata=None), password, status)


# --- Two-factor sign-in ---------------------------------------------------------------------


def two_factor_section(viewer: User) -> dict[str, Any]:
    """Return the account page block's context: whether two-factor sign-in is on."""
    return {"on": viewer.has_two_factor}


def _password_limit() -> str:
    from flask import current_app

    return current_app.config["RATELIMIT_LOGIN"]


def _two_factor_page(
    *,
    confirm: TwoFactorConfirmForm | None = None,
    regenerate: PasswordCheckForm | None = None,
    disable: PasswordCheckForm | None = None,
    status: int = 200,
):
    """Render the two-factor page: set up (QR code and secret) while enrolling, else the status and its actions."""
    secret = twofactor.pending_secret(current_user)
    headers = {"Cache-Control": "no-store"} if secret else {}  # the key is on the page while enrolling
    return (
        render_template(
            "account/two_factor.html",
            secret=secret,
            qr=twofactor.qr_svg(twofactor.provisioning_uri(current_user, secret)) if secret else None,
            codes_left=twofactor.recovery_codes_left(current_user) if current_user.has_two_factor else 0,
            required=current_user.is_staff and twofactor.staff_must_use_two_factor(),
            must_enrol=bool(session.get(twofactor.MUST_ENROL)),  # enrolling right after the password: not asked again
            confirm=confirm or TwoFactorConfirmForm(prefix="confirm", formdata=None),
            regenerate=regenerate or PasswordCheckForm(prefix="regenerate", formdata=None),
            disable=disable or PasswordCheckForm(prefix="disable", formdata=None),
        ),
        status,
        headers,
    )


def _recovery_codes_page(codes: list[str], status: int = 200):
    """Show new recovery codes, this once (the page is not stored: ``Cache-Control: no-store``)."""
    body = render_template("account/recovery_codes.html", codes=codes)
    return body, status, {"Cache-Control": "no-store"}


@bp.route("/two-factor")
@login_required
def two_factor():
    """Show two-factor sign-in: how to set it up, or that it is on, with its recovery codes and how to turn it off."""
    return _two_factor_page()


@bp.route("/two-factor/start", methods=["POST"])
@login_required
def two_factor_start():
    """Make a new secret for the authenticator app; it is shown until confirmed with a code."""
    require_button_form()
    with committing() as saved:
        twofactor.start_enrolment(current_user)
    if not saved.ok:
        return _two_factor_page(status=saved.status)
    return redirect(url_for("account.two_factor"))


@bp.route("/two-factor/confirm", methods=["POST"])
@login_required
@limiter.limit(_password_limit)
def two_factor_confirm():
    """Turn two-factor sign-in on with a first code, and show the ten recovery codes once."""
    form = TwoFactorConfirmForm(prefix="confirm")
    status = 422
    if form.validate_on_submit():
        codes: list[str] = []
        with committing(form) as saved:
            just_logged_in = bool(session.get(twofactor.MUST_ENROL))  # the password was typed a moment ago
            codes = twofactor.confirm_enrolment(current_user, form.code.data or "", None if just_logged_in else (form.password.data or ""))
            # Other browsers logged in before with the password alone: they log in again, with the code.
            auth_service.end_all_sessions(current_user, keep=current_user.session_token)
        if saved.ok:
            session.pop(twofactor.MUST_ENROL, None)
            flash(_("Two-factor sign-in is on. From now on, logging in asks for a code from your app."), "success")
            return _recovery_codes_page(codes)
        status = saved.status
    form.code.data = ""
    return _two_factor_page(confirm=form, status=status)


@bp.route("/two-factor/recovery-codes", methods=["POST"])
@login_required
@limiter.limit(_password_limit)
def two_factor_recovery_codes():
    """Make ten new recovery codes (the old ones stop working), after the password."""
    form = PasswordCheckForm(prefix="regenerate")
    status = 422
    if form.validate_on_submit():
        codes: list[str] = []
        with committing(form) as saved:
            codes = twofactor.regenerate_recovery_codes(current_user, form.password.data or "")
        if saved.ok:
            flash(_("Here are your new recovery codes. The old ones no longer work."), "success")
            return _recovery_codes_page(codes)
        status = saved.status
    return _two_factor_page(regenerate=form, status=status)


@bp.route("/two-factor/disable", methods=["POST"])
@login_required
@limiter.limit(_password_limit)
def two_factor_disable():
    """Turn two-factor sign-in off, after the password."""
    form = PasswordCheckForm(prefix="disable")
    status = 422
    if form.validate_on_submit():
        with committing(form) as saved:
            twofactor.disable(current_user, form.password.data or "")
            auth_service.end_all_sessions(current_user, keep=current_user.session_token)  # a change of how one logs in ends the other sessions
        if saved.ok:
            flash(_("Two-factor sign-in is off. Logging in asks only for your password."), "success")
            return redirect(url_for("account.settings"))
        status = saved.status
    return _two_factor_page(disable=form, status=status)
