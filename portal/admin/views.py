"""People: list, invite, change role, deactivate, resend invitations."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import once
from portal.access import admin_required, managed_user_or_404
from portal.admin import queries
from portal.admin.forms import ROLE_LABELS, AgencySettingsForm, InviteForm, RoleForm
from portal.auth import service as auth_service
from portal.auth import twofactor
from portal.clients.queries import active_clients
from portal.forms import EmptyForm
from portal.models import Client, Role, User
from portal.web import committing, require_button_form

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _invite_form(clients: list[Client]) -> InviteForm:
    """Return the invitation form offering ``clients`` (and no client, for staff)."""
    form = InviteForm(prefix="invite")
    form.client_id.choices = [(0, _("— none (agency staff) —"))] + [(c.id, c.name) for c in clients]
    return form


@bp.route("/users")
@admin_required
def users():
    """List everyone with an account, staff first; filter by text and status."""
    text = (request.args.get("q") or "").strip()[:100]
    status = request.args.get("status", "active")
    return render_template(
        "admin/users.html",
        people=queries.people(text, status),
        q=text,
        status=status,
        role_labels=ROLE_LABELS,
        invite_form=_invite_form(active_clients(current_user)),
    )


@bp.route("/users/invite", methods=["GET", "POST"])
@admin_required
def invite():
    """Invite a member of staff or a client user."""
    clients = active_clients(current_user)
    form = _invite_form(clients)
    status = 422 if request.method == "POST" else 200
    if request.method == "GET":
        form.language.data = current_app.config["DEFAULT_LANGUAGE"]
    if (done := once.already_done(form)) is not None:
        return done
    if form.validate_on_submit():
        role = Role(form.role.data)
        # One of the checked choices, or none.
        client = next((c for c in clients if c.id == form.client_id.data), None)
        with committing(form, flash_errors=False) as saved:
            user = auth_service.invite_user(
                current_user,
                email=form.email.data or "",
                name=form.name.data or "",
                role=role,
                client=client if role is Role.CLIENT else None,
                language=form.language.data,
            )
            once.remember(form, url_for("admin.user", user_id=user.id))
        if saved.ok:
            flash(_("An invitation is on its way to %(email)s.", email=user.email), "success")
            return redirect(url_for("admin.users"))
        if (done := once.after_refusal(form, saved)) is not None:
            return done
        status = saved.status
    return render_template("admin/invite.html", form=form), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user(user_id: int):
    """Show one person's account and change a staff member's role."""
    person = managed_user_or_404(current_user, user_id)
    form = RoleForm(role=person.role.value)
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        # The role form is only shown for staff: otherwise the message goes in a flash.
        with committing(form if person.is_staff else None) as saved:
            auth_service.change_role(current_user, person, Role(form.role.data))
        if saved.ok:
            flash(_("The role is changed."), "success")
            return redirect(url_for("admin.user", user_id=person.id))
        status = saved.status
    return _user_page(person, form, status)


def _user_page(person: User, form: RoleForm | None = None, status: int = 200) -> tuple[str, int]:
    """Render one person's account page (a refused action answers with it and its 4xx)."""
    form = form or RoleForm(role=person.role.value, formdata=None)
    return render_template("admin/user.html", person=person, form=form, action_form=EmptyForm(), role_labels=ROLE_LABELS), status


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@admin_required
def deactivate(user_id: int):
    """Deactivate an account: every session it has ends at once."""
    return _set_active(user_id, False)


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@admin_required
def reactivate(user_id: int):
    """Let a deactivated account log in again."""
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool):
    """Deactivate or reactivate an account; a refusal (one's own account) answers with the page and its 4xx."""
    person = managed_user_or_404(current_user, user_id)
    require_button_form()
    with committing() as saved:
        auth_service.set_active(current_user, person, active)
    if not saved.ok:
        return _user_page(person, status=saved.status)
    if active:
        flash(_("%(name)s can log in again.", name=person.display_name), "success")
    else:
        flash(_("%(name)s is deactivated and was logged out everywhere.", name=person.display_name), "success")
    return redirect(url_for("admin.user", user_id=person.id))


@bp.route("/users/<int:user_id>/resend", methods=["POST"])
@admin_required
def resend_invite(user_id: int):
    """Send a fresh invitation link to someone who has not joined yet."""
    person = managed_user_or_404(current_user, user_id)
    require_button_form()
    with committing() as saved:
        auth_service.invite_user(current_user, email=person.email, name=person.name, role=person.role, client=person.client)
    if not saved.ok:
        return _user_page(person, status=saved.status)
    flash(_("A new invitation is on its way to %(email)s.", email=person.email), "success")
    return redirect(url_for("admin.user", user_id=person.id))


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    """Show and change the agency's settings: whether staff must use two-factor sign-in."""
    current = twofactor.staff_must_use_two_factor()
    form = AgencySettingsForm(staff_two_factor_required=current)
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        with committing(form) as saved:
            twofactor.set_staff_requirement(current_user, bool(form.staff_two_factor_required.data))
        if saved.ok:
            flash(_("The settings are saved."), "success")
            return redirect(url_for("admin.settings"))
        status = saved.status
    return render_template("admin/settings.html", form=form, admin_has_two_factor=current_user.has_two_factor), status
