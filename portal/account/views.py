"""The account settings page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.account.forms import PasswordForm, ProfileForm
from portal.auth import service as auth_service
from portal.extensions import db
from portal.sections import account_sections
from portal.web import committing

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
