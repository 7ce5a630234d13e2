"""Client organisations: list, profile, create, edit, archive, invite people."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import once
from portal.access import admin_required, client_or_404, staff_required
from portal.auth import service as auth_service
from portal.clients import queries, service
from portal.clients.forms import CHANNEL_LABELS, ClientForm, InviteClientUserForm
from portal.forms import EmptyForm
from portal.models import Client, Role
from portal.web import committing, require_button_form

bp = Blueprint("clients", __name__, url_prefix="/clients")


def _form_values(form: ClientForm) -> dict[str, Any]:
    """Return the profile fields the form carries."""
    return {name: getattr(form, name).data for name in service.PROFILE_FIELDS}


@bp.route("/")
@staff_required
def index():
    """List the client organisations the user works with."""
    show_archived = request.args.get("archived") == "1" and current_user.is_admin
    listed = queries.client_list(current_user, archived=show_archived)
    return render_template(
        "clients/index.html",
        clients=listed.clients,
        project_counts=listed.project_counts,
        user_counts=listed.user_counts,
        show_archived=show_archived,
        channel_labels=CHANNEL_LABELS,
    )


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def create():
    """Create a client organisation."""
    form = ClientForm()
    status = 422 if request.method == "POST" else 200
    if request.method == "GET":
        form.timezone.data = current_app.config["TIMEZONE"]
    if (done := once.already_done(form)) is not None:
        return done
    if form.validate_on_submit():
        with committing(form, flash_errors=False) as saved:
            client = service.create_client(current_user, _form_values(form))
            once.remember(form, url_for("clients.show", client_id=client.id))
        if saved.ok:
            flash(_("%(name)s was added. Invite its people next.", name=client.name), "success")
            return redirect(url_for("clients.show", client_id=client.id))
        if (done := once.after_refusal(form, saved)) is not None:
            return done
        status = saved.status
    return render_template("clients/form.html", form=form, client=None, people=[]), status


def _show_page(client: Client, invite_form: InviteClientUserForm, status: int = 200):
    """Render a client's profile with its people, its projects and the invitation form."""
    listed = queries.client_page(current_user, client)
    page = render_template(
        "clients/show.html",
        client=client,
        people=listed.people,
        projects=listed.projects,
        decision_makers=listed.decision_makers,
        invite_form=invite_form,
        action_form=EmptyForm(),
        channel_labels=CHANNEL_LABELS,
    )
    return page, status


@bp.route("/<int:client_id>")
@staff_required
def show(client_id: int):
    """Show a client's profile, people and projects."""
    client = client_or_404(current_user, client_id)
    return _show_page(client, InviteClientUserForm(language=client.language))


@bp.route("/<int:client_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(client_id: int):
    """Edit a client's profile (staff keep it current: principle 8)."""
    client = client_or_404(current_user, client_id)
    people = queries.active_people(client)
    linked = [person.id for person in queries.decision_makers(client)]
    form = ClientForm(obj=client, people=people, decision_maker_ids=linked)
    status = 422 if request.method == "POST" else 200
    if request.method == "GET":
        form.preferred_channel.data = client.preferred_channel.value
    if form.validate_on_submit():
        with committing(form) as saved:
            service.update_client(current_user, client, _form_values(form), decision_maker_ids=form.decision_maker_ids.data or [])
        if saved.ok:
            flash(_("The profile is saved."), "success")
            return redirect(url_for("clients.show", client_id=client.id))
        status = saved.status
    return render_template("clients/form.html", form=form, client=client, people=people), status


@bp.route("/<int:client_id>/archive", methods=["POST"])
@admin_required
def archive(client_id: int):
    """Archive a client: its people are logged out and can no longer log in."""
    client = client_or_404(current_user, client_id)
    require_button_form()
    with committing() as saved:
        service.set_archived(current_user, client, True)
    if not saved.ok:
        return _show_page(client, InviteClientUserForm(language=client.language), saved.status)
    flash(_("%(name)s is archived. Its people can no longer log in.", name=client.name), "success")
    return redirect(url_for("clients.show", client_id=client.id))


@bp.route("/<int:client_id>/restore", methods=["POST"])
@admin_required
def restore(client_id: int):
    """Restore an archived client."""
    client = client_or_404(current_user, client_id)
    require_button_form()
    with committing() as saved:
        service.set_archived(current_user, client, False)
    if not saved.ok:
        return _show_page(client, InviteClientUserForm(language=client.language), saved.status)
    flash(_("%(name)s is restored.", name=client.name), "success")
    return redirect(url_for("clients.show", client_id=client.id))


@bp.route("/<int:client_id>/invite", methods=["POST"])
@staff_required
def invite(client_id: int):
    """Invite a person of this client organisation by email."""
    client = client_or_404(current_user, client_id)
    form = InviteClientUserForm()
    status = 422
    if (done := once.already_done(form)) is not None:
        return done
    if form.validate_on_submit():
        with committing(form, flash_errors=False) as saved:
            user = auth_service.invite_user(
                current_user,
                email=form.email.data or "",
                name=form.name.data or "",
                role=Role.CLIENT,
                client=client,
                language=form.language.data,
            )
            once.remember(form, url_for("clients.show", client_id=client.id))
        if saved.ok:
            flash(_("An invitation is on its way to %(email)s.", email=user.email), "success")
            return redirect(url_for("clients.show", client_id=client.id))
        if (done := once.after_refusal(form, saved)) is not None:
            return done
        status = saved.status
    return _show_page(client, form, status)
