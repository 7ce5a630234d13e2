"""Progress updates: the blueprint, the project page's feed and reading updates.

The routes of the feature live by concern, each module adding its own to :data:`bp`
(``portal.updates.init_app`` imports them all before registering it):

- this module — the feed and one update;
- :mod:`portal.updates.writing` — writing, saving and publishing, with files;
- :mod:`portal.updates.attachments` — an update's files;
- :mod:`portal.updates.comments` — comments and the client's answers;
- :mod:`portal.updates.weekly_preview` — the weekly update's preview and personal note.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from portal.access import can_manage_project, project_or_404, update_or_404, visible_updates
from portal.ids import query_int
from portal.models import Project, Update, User
from portal.updates import queries, service
from portal.updates.forms import AcknowledgeForm, CommentForm

bp = Blueprint("updates", __name__, url_prefix="/projects/<int:project_id>")

FEED_ON_PROJECT_PAGE = 5
PAGE_SIZE = 25


def updates_section(viewer: User, project: Project) -> dict[str, Any]:
    """Show the latest updates of the project, with comments and acknowledgements."""
    items, more = service.feed(viewer, project, visible_updates(viewer, project), limit=FEED_ON_PROJECT_PAGE)
    return {"project": project, "items": items, "more": more, "manage": can_manage_project(viewer, project)}


@bp.route("/updates")
@login_required
def index(project_id: int):
    """List every update of a project the reader may see, newest first."""
    project = project_or_404(current_user, project_id)
    page = max(query_int("page", 1) or 1, 1)
    items, more = service.feed(
        current_user, project, visible_updates(current_user, project), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render_template(
        "updates/index.html", project=project, items=items, more=more, page=page, manage=can_manage_project(current_user, project)
    )


def show_page(update: Update, *, comment_form: CommentForm | None = None, ack_form: AcknowledgeForm | None = None, status: int = 200):
    """Render one update with all its comments and answers (with a refused form's errors, if any)."""
    project = update.project
    return (
        render_template(
            "updates/show.html",
            project=project,
            item=queries.feed_item(current_user, update),
            manage=can_manage_project(current_user, project),
            comment_form=comment_form,
            ack_form=ack_form,
            open_choice=ack_form.choice.data if ack_form is not None else None,
        ),
        status,
    )


@bp.route("/updates/<int:update_id>")
@login_required
def show(project_id: int, update_id: int):
    """Show one update with all its comments and acknowledgements."""
    return show_page(update_or_404(current_user, project_id, update_id))
