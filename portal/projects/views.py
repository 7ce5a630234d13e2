"""Project pages: the overview every member sees, and settings for staff."""

from __future__ import annotations

from typing import TypeVar

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import once
from portal.access import (
    admin_required,
    can_manage_project,
    managed_project_or_404,
    project_or_404,
    staff_required,
)
from portal.activity import verb_labels
from portal.clients.queries import active_clients, staff_profile
from portal.forms import EmptyForm
from portal.health import health_for
from portal.ids import query_int
from portal.models import Client, Project, ProjectMember, User
from portal.projects import queries, service
from portal.projects.forms import RULE_LABELS, STATUS_LABELS, WEEKDAYS, AddMemberForm, ProjectForm
from portal.sections import project_sections
from portal.timeutil import utcnow
from portal.waiting import month_splits
from portal.web import committing, require_button_form

bp = Blueprint("projects", __name__, url_prefix="/projects")

T = TypeVar("T", Client, User)


def _manager_choices(people: list[User]) -> list[tuple[int, str]]:
    """Return ``people`` as the choices of the account manager field."""
    return [(u.id, u.display_name) for u in people]


def _chosen(options: list[T], chosen_id: int | None) -> T:
    """Return the option a validated choice field picked (404 if it is, somehow, not among them)."""
    found = next((option for option in options if option.id == chosen_id), None)
    if found is None:
        abort(404)
    return found


def _settings(form: ProjectForm) -> dict:
    """Return the project settings the form carries."""
    return {name: getattr(form, name).data for name in service.SETTINGS}


def _member_form(candidates: list[User]) -> AddMemberForm:
    """Return the form that adds one of ``candidates`` (the client's people not on the project yet)."""
    form = AddMemberForm(prefix="member")
    form.user_id.choices = [(u.id, f"{u.display_name} <{u.email}>") for u in candidates]
    return form


def _show_page(project: Project, member_form: AddMemberForm | None = None, status: int = 200):
    """Render the project overview: its settings, members, the features' blocks and a page of its activity."""
    manage = can_manage_project(current_user, project)
    before = query_int("before")
    if before is not None and before <= 0:
        before = None  # not an event id: show the newest page
    timeline = queries.project_timeline(current_user, project, request.args.get("kind", ""), before)
    now = utcnow()
    return (
        render_template(
            "projects/show.html",
            project=project,
            manage=manage,
            member_form=(member_form or _member_form(queries.member_candidates(project))) if manage else None,
            action_form=EmptyForm(),
            status_labels=STATUS_LABELS,
            rule_labels=RULE_LABELS,
            weekdays=dict(WEEKDAYS),
            sections=project_sections.render(current_user, project),
            health=health_for([project], now)[project.id],
            waiting=month_splits([project], now)[project.id],
            timeline=timeline,
            timeline_kinds=queries.timeline_filters(),
            verb_labels=verb_labels(),
            client_profile=staff_profile(current_user, project.client),
        ),
        status,
    )


@bp.route("/<int:project_id>")
@login_required
def show(project_id: int):
    """Show the project overview (health, goals, deliverables, requests, updates, expectations, activity) to anyone who may see it."""
    return _show_page(project_or_404(current_user, project_id))


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def create():
    """Create a project for a client."""
    form = ProjectForm()
    clients = active_clients(current_user)
    managers = queries.account_managers()
    form.client_id.choices = [(c.id, c.name) for c in clients]
    form.manager_id.choices = _manager_choices(managers)
    status = 422 if request.method == "POST" else 200
    if request.method == "GET":
        config = current_app.config
        form.client_id.data = query_int("client_id")
        form.manager_id.data = current_user.id
        form.timezone.data = config["TIMEZONE"]
        form.weekly_weekday.data = int(config["WEEKLY_WEEKDAY"])
        form.weekly_hour.data = int(config["WEEKLY_HOUR"])
        chosen = next((c for c in clients if c.id == form.client_id.data), None)
        if chosen:
            form.timezone.data = chosen.timezone
    if (done := once.already_done(form)) is not None:
        return done
    if form.validate_on_submit():
        client = _chosen(clients, form.client_id.data)
        manager = _chosen(managers, form.manager_id.data)
        with committing(form, flash_errors=False) as saved:
            project = service.create_project(current_user, client, manager, _settings(form))
            once.remember(form, url_for("projects.show", project_id=project.id))
        if saved.ok:
            flash(_("%(name)s was created. Add the client's people to it.", name=project.name), "success")
            return redirect(url_for("projects.show", project_id=project.id))
        if (done := once.after_refusal(form, saved)) is not None:
            return done
        status = saved.status
    return render_template("projects/form.html", form=form, project=None), status


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(project_id: int):
    """Edit a project's settings."""
    project = managed_project_or_404(current_user, project_id)
    form = ProjectForm(obj=project)
    form.client_id.choices = [(project.client_id, project.client.name)]
    form.client_id.data = project.client_id
    managers = queries.account_managers() if current_user.is_admin else [project.manager]
    form.manager_id.choices = _manager_choices(managers)
    if not current_user.is_admin:
        form.manager_id.data = project.manager_id
    status = 422 if request.method == "POST" else 200
    if request.method == "GET":
        form.status.data = project.status.value
        form.approval_rule.data = project.approval_rule.value
        form.client_reminders.data = project.client_reminders.value
    if form.validate_on_submit():
        manager = _chosen(managers, form.manager_id.data) if current_user.is_admin else None
        with committing(form) as saved:
            service.update_project(current_user, project, _settings(form), manager=manager)
        if saved.ok:
            flash(_("The project settings are saved."), "success")
            return redirect(url_for("projects.show", project_id=project.id))
        status = saved.status
    return render_template("projects/form.html", form=form, project=project), status


@bp.route("/<int:project_id>/members", methods=["POST"])
@staff_required
def add_member(project_id: int):
    """Give a person of the client organisation access to the project."""
    project = managed_project_or_404(current_user, project_id)
    candidates = queries.member_candidates(project)
    form = _member_form(candidates)
    status = 422
    if form.validate_on_submit():
        user = _chosen(candidates, form.user_id.data)
        with committing(form) as saved:
            service.add_member(current_user, project, user, is_approver=bool(form.is_approver.data))
        if saved.ok:
            flash(_("%(name)s can now see this project.", name=user.display_name), "success")
            return redirect(url_for("projects.show", project_id=project.id))
        status = saved.status
    return _show_page(project, form, status)


def _member_or_404(project: Project, member_id: int) -> ProjectMember:
    """Return ``project``'s membership ``member_id``, else abort with 404."""
    member = queries.member_of(project, member_id)
    if member is None:
        abort(404)
    return member


@bp.route("/<int:project_id>/members/<int:member_id>/remove", methods=["POST"])
@staff_required
def remove_member(project_id: int, member_id: int):
    """Take a person off the project."""
    project = managed_project_or_404(current_user, project_id)
    member = _member_or_404(project, member_id)
    require_button_form()
    name = member.user.display_name
    with committing() as saved:
        service.remove_member(current_user, member)
    if not saved.ok:
        return _show_page(project, status=saved.status)
    flash(_("%(name)s no longer sees this project.", name=name), "success")
    return redirect(url_for("projects.show", project_id=project.id))


@bp.route("/<int:project_id>/members/<int:member_id>/approver", methods=["POST"])
@staff_required
def set_approver(project_id: int, member_id: int):
    """Make a member an approver, or take the role away."""
    project = managed_project_or_404(current_user, project_id)
    member = _member_or_404(project, member_id)
    require_button_form()
    with committing() as saved:
        service.set_approver(current_user, member, request.form.get("approver") == "1")
    if not saved.ok:
        return _show_page(project, status=saved.status)
    flash(_("The approvers are updated."), "success")
    return redirect(url_for("projects.show", project_id=project.id))


@bp.route("/<int:project_id>/archive", methods=["POST"])
@admin_required
def archive(project_id: int):
    """Archive a project: it leaves the home pages but stays readable."""
    project = project_or_404(current_user, project_id)
    require_button_form()
    with committing() as saved:
        service.set_archived(current_user, project, True)
    if not saved.ok:
        return _show_page(project, status=saved.status)
    flash(_("%(name)s is archived.", name=project.name), "success")
    return redirect(url_for("projects.show", project_id=project.id))


@bp.route("/<int:project_id>/restore", methods=["POST"])
@admin_required
def restore(project_id: int):
    """Restore an archived project."""
    project = project_or_404(current_user, project_id)
    require_button_form()
    with committing() as saved:
        service.set_archived(current_user, project, False)
    if not saved.ok:
        return _show_page(project, status=saved.status)
    flash(_("%(name)s is restored.", name=project.name), "success")
    return redirect(url_for("projects.show", project_id=project.id))
