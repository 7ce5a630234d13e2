"""Home pages: staff see their clients and projects; clients their organisation's projects."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from portal.attention import attention_queue, client_labels, staff_kind_named
from portal.clients.queries import active_clients
from portal.health import health_for
from portal.home import queries
from portal.ids import query_int
from portal.projects.queries import account_managers
from portal.sections import home_panels
from portal.timeutil import utcnow

bp = Blueprint("home", __name__)

PAGE_SIZE = 30
MAX_PAGE = 100_000


@bp.route("/")
@login_required
def index():
    """Show the home page for the current user's role."""
    if not current_user.is_staff:
        projects = queries.client_projects(current_user)
        return render_template(
            "home/client.html",
            projects=projects,
            home=queries.client_home(current_user, projects, utcnow()),
            attention_labels=client_labels(),
            panels=home_panels.render(current_user, projects),
        )
    return _staff_home()


def _staff_home():
    """Show what needs the staff member (the attention queue), then their projects a page at a time.

    Admins see everyone's work, filterable by manager; a ``manager`` that is not a number is ignored.
    """
    text = (request.args.get("q") or "").strip()[:100]
    page = min(max(query_int("page", 1) or 1, 1), MAX_PAGE)
    manager_id = query_int("manager") if current_user.is_admin else None
    if manager_id is not None and manager_id <= 0:
        manager_id = None  # not an id: ignored, like a word (query_int already drops numbers beyond the database's integer)
    expand = staff_kind_named(request.args.get("more"))
    now = utcnow()
    queue = attention_queue(current_user, now, manager_id=manager_id, expand=expand)
    listed = queries.staff_projects(current_user, text=text, manager_id=manager_id, page=page, size=PAGE_SIZE)
    clients = active_clients(current_user, limit=PAGE_SIZE)
    managers = account_managers() if current_user.is_admin else []
    filtered_manager = next((m for m in managers if m.id == manager_id), None)
    return render_template(
        "home/staff.html",
        filtered_manager=filtered_manager,
        projects=listed.projects,
        clients=clients,
        member_counts=listed.member_counts,
        managers=managers,
        manager_id=manager_id,
        q=text,
        page=page,
        total=listed.total,
        page_size=PAGE_SIZE,
        queue=queue,
        expanded=expand,
        health=health_for(listed.projects, now),
        panels=home_panels.render(current_user, listed.projects),
    )
