"""Projects: settings, account manager and client members."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

# The words of this feature's events on the project timeline (portal.activity.timeline_kinds).
EVENTS = {
    "project.created": _l("created the project"),
    "project.updated": _l("changed the project settings"),
    "project.member_added": _l("added a member"),
    "project.member_removed": _l("removed a member"),
    "project.approver_changed": _l("changed who approves"),
    "project.archived": _l("archived the project"),
    "project.restored": _l("restored the project"),
}


def init_app(app: Flask) -> None:
    """Add the project pages and the words of project events on the timeline."""
    from portal.activity import TimelineKind, timeline_kinds
    from portal.projects import views

    app.register_blueprint(views.bp)
    timeline_kinds.add(app, "project", TimelineKind(_l("Project"), ("project.",), EVENTS), order=60)
