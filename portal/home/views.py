"""Home pages: staff see their clients and projects; clients their organisation's projects."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from portal.access import visible_clients, visible_projects
from portal.attention import attention_queue, client_labels, staff_kind_named
from portal.extensions import db
from portal.health import health_for
from portal.home.client import client_home
from portal.models import Client, Project, ProjectMember, Role, User
from portal.sections import home_panels
from portal.timeutil import utcnow

bp = Blueprint("home", __name__)

PAGE_SIZE = 30
MAX_PAGE = 100_000
MAX_ID = 2**31 - 1


@bp.route("/")
@login_required
def index():
    """Show the home page for the current user's role."""
    if not current_user.is_staff:
        projects = db.session.scalars(
            visible_projects(current_user).options(joinedload(Project.manager)).order_by(Project.name)
        ).all()
        return render_template(
            "home/client.html",
            projects=projects,
            home=client_home(current_user, projects, utcnow()),
            attention_labels=client_labels(),
            panels=home_panels.render(current_user, projects),
        )
    return _staff_home()


def _staff_home():
    """Show what needs the staff member (the attention queue), then their projects a page at a time.

    Admins see everyone's work, filterable by manager; a ``manager`` that is not a number is ignored.
    """
    text = (request.args.get("q") or "").strip()[:100]
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    manager_id = request.args.get("manager", type=int) if current_user.is_admin else None
    if manager_id is not None and not 0 < manager_id <= MAX_ID:
        manager_id = None  # not an id: ignored, like a word (a huge number would overflow the database's integer)
    expand = staff_kind_named(request.args.get("more"))
    now = utcnow()
    queue = attention_queue(current_user, now, manager_id=manager_id, expand=expand)
    query = visible_projects(current_user).join(Client, Client.id == Project.client_id)
    if manager_id:
        query = query.where(Project.manager_id == manager_id)
    if text:
        # autoescape: "%" and "_" typed in the box are searched for, not wildcards
        query = query.where(or_(Project.name.icontains(text, autoescape=True), Client.name.icontains(text, autoescape=True)))
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
    filtered_manager = next((m for m in managers if m.id == manager_id), None)
    return render_template(
        "home/staff.html",
        filtered_manager=filtered_manager,
        projects=projects,
        clients=clients,
        member_counts=member_counts,
        managers=managers,
        manager_id=manager_id,
        q=text,
        page=page,
        total=total,
        page_size=PAGE_SIZE,
        queue=queue,
        expanded=expand,
        health=health_for(projects, now),
        panels=home_panels.render(current_user, projects),
    )
