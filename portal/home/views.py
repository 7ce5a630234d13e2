"""Home pages: staff see their clients and projects; clients their organisation's projects."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from portal.access import visible_clients, visible_projects
from portal.extensions import db
from portal.models import Client, Project, ProjectMember, Role, User
from portal.sections import home_panels

bp = Blueprint("home", __name__)

PAGE_SIZE = 30


@bp.route("/")
@login_required
def index():
    """Show the home page for the current user's role."""
    if not current_user.is_staff:
        projects = db.session.scalars(
            visible_projects(current_user).options(joinedload(Project.manager)).order_by(Project.name)
        ).all()
        return render_template("home/client.html", projects=projects, panels=home_panels.render(current_user, projects))
    return _staff_home()


def _staff_home():
    """List the staff member's projects (admins: everyone's, filterable by manager), a page at a time."""
    text = (request.args.get("q") or "").strip()[:100]
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    manager_id = request.args.get("manager", type=int) if current_user.is_admin else None
    query = visible_projects(current_user).join(Client, Client.id == Project.client_id)
    if manager_id:
        query = query.where(Project.manager_id == manager_id)
    if text:
        like = f"%{text}%"
        query = query.where(or_(Project.name.ilike(like), Client.name.ilike(like)))
    total = db.session.scalar(query.with_only_columns(func.count(Project.id)).order_by(None))
    projects = db.session.scalars(
        query.options(joinedload(Project.client), joinedload(Project.manager))
        .order_by(Client.name, Project.name)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    member_counts = dict(
        db.session.execute(
            select(ProjectMember.project_id, func.count())
            .where(ProjectMember.project_id.in_([p.id for p in projects]))
            .group_by(ProjectMember.project_id)
        ).all()
    )
    clients = db.session.scalars(
        visible_clients(current_user).where(Client.archived_at.is_(None)).order_by(Client.name).limit(PAGE_SIZE)
    ).all()
    managers = (
        db.session.scalars(
            select(User).where(User.role.in_([Role.ADMIN, Role.MANAGER]), User.active.is_(True)).order_by(User.name)
        ).all()
        if current_user.is_admin
        else []
    )
    return render_template(
        "home/staff.html",
        projects=projects,
        clients=clients,
        member_counts=member_counts,
        managers=managers,
        manager_id=manager_id,
        q=text,
        page=page,
        total=total,
        page_size=PAGE_SIZE,
        panels=home_panels.render(current_user, projects),
    )
