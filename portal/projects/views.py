"""Project pages: the overview every member sees, and settings for staff."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.access import (
    admin_required,
    can_manage_project,
    managed_project_or_404,
    project_or_404,
    staff_required,
    visible_clients,
)
from portal.activity import verb_labels
from portal.extensions import db
from portal.forms import EmptyForm
from portal.health import health_for
from portal.models import Client, Project, ProjectMember, Role, User
from portal.projects import service
from portal.projects.forms import RULE_LABELS, STATUS_LABELS, WEEKDAYS, AddMemberForm, ProjectForm
from portal.projects.queries import project_timeline, timeline_filters
from portal.sections import project_sections
from portal.timeutil import utcnow
from portal.web import committing, require_button_form

bp = Blueprint("projects", __name__, url_prefix="/projects")

def _staff_choices() -> list[tuple[int, str]]:
    staff = db.session.scalars(
        select(User).where(User.role.in_([Role.ADMIN, Role.MANAGER]), User.active.is_(True)).order_by(User.name)
    ).all()
    return [(u.id, u.display_name) for u in staff]


def _settings(form: ProjectForm) -> dict:
    return {name: getattr(form, name).data for name in service.SETTINGS}


def _member_form(project: Project) -> AddMemberForm:
    form = AddMemberForm(prefix="member")
    taken = {m.user_id for m in project.members}
    candidates = db.session.scalars(
        select(User)
        .where(User.client_id == project.client_id, User.role == Role.CLIENT, User.active.is_(True))
        .order_by(User.name, User.email)
    ).all()
    form.user_id.choices = [(u.id, f"{u.display_name} <{u.email}>") for u in candidates if u.id not in taken]
    return form


def _show_page(project: Project, member_form: AddMemberForm | None = None, status: int = 200):
    manage = can_manage_project(current_user, project)
    before = request.args.get("before", type=int)
    if before is not None and not 0 < before <= 2**31 - 1:
        before = None  # not an event id: show the newest page
    timeline = project_timeline(current_user, project, request.args.get("kind", ""), before)
    return (
        render_template(
            "projects/show.html",
            project=project,
            manage=manage,
            member_form=(member_form or _member_form(project)) if manage else None,
            action_form=EmptyForm(),
            status_labels=STATUS_LABELS,
            rule_labels=RULE_LABELS,
            weekdays=dict(WEEKDAYS),
            sections=project_sections.render(current_user, project),
            health=health_for([project], utcnow())[project.id],
            timeline=timeline,
            timeline_kinds=timeline_filters(),
            verb_labels=verb_labels(),
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
    clients = db.session.scalars(visible_clients(current_user).where(Client.archived_at.is_(None)).order_by(Client.name)).all()
    form.client_id.choices = [(c.id, c.name) for c in clients]
    form.manager_id.choices = _staff_choices()
    status = 422 if request.method == "POST" else 200
    if request.method == "GET":
        config = current_app.config
        form.client_id.data = request.args.get("client_id", type=int)
        form.manager_id.data = current_user.id
        form.timezone.data = config["TIMEZONE"]
        form.weekly_weekday.data = int(config["WEEKLY_WEEKDAY"])
        form.weekly_hour.data = int(config["WEEKLY_HOUR"])
        chosen = next((c for c in clients if c.id == form.client_id.data), None)
        if chosen:
            form.timezone.data = chosen.timezone
    if form.validate_on_submit():
        # The choices were checked; a client or manager removed since then is not found.
        client = db.get_or_404(Client, form.client_id.data)
        manager = db.get_or_404(User, form.manager_id.data)
        with committing(form) as saved:
            project = service.create_project(current_user, client, manager, _settings(form))
        if saved.ok:
            flash(_("%(name)s was created. Add the client's people to it.", name=project.name), "success")
            return redirect(url_for("projects.show", project_id=project.id))
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
    form.manager_id.choices = _staff_choices() if current_user.is_admin else [(project.manager_id, project.manager.display_name)]
    if not current_user.is_admin:
        form.manager_id.data = project.manager_id
    status = 422 if request.method == "POST" else 200
    if request.method == "GET":
        form.status.data = project.status.value
        form.approval_rule.data = project.approval_rule.value
    if form.validate_on_submit():
        manager = db.session.get(User, form.manager_id.data) if current_user.is_admin else None
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
    form = _member_form(project)
    status = 422
    if form.validate_on_submit():
        user = db.get_or_404(User, form.user_id.data)  # one of the checked choices, unless removed since
        with committing(form) as saved:
            service.add_member(current_user, project, user, is_approver=bool(form.is_approver.data))
        if saved.ok:
            flash(_("%(name)s can now see this project.", name=user.display_name), "success")
            return redirect(url_for("projects.show", project_id=project.id))
        status = saved.status
    return _show_page(project, form, status)


def _member_or_404(project: Project, member_id: int) -> ProjectMember:
    member = db.session.scalar(select(ProjectMember).where(ProjectMember.id == member_id, ProjectMember.project_id == project.id))
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
    if saved.ok:
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
    if saved.ok:
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
    if saved.ok:
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
    if saved.ok:
        flash(_("%(name)s is restored.", name=project.name), "success")
    return redirect(url_for("projects.show", project_id=project.id))
