"""Progress updates: the feed, manual updates with files, comments and answers, and the weekly update."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    """Add the update pages, the project page's feed, the weekly facts and the home items."""
    from portal.attention import ClientKind, StaffKind, client_attention, staff_attention
    from portal.sections import Section, project_sections
    from portal.updates import attention, views, weekly
    from portal.updates.forms import ACK_LABELS
    from portal.weekly.facts import weekly_facts

    app.jinja_env.globals["ack_labels"] = ACK_LABELS
    # The routes of these modules join views.bp as they are imported: all of them before it is registered.
    from portal.updates import attachments, comments, weekly_preview, writing  # noqa: F401

    app.register_blueprint(views.bp)
    project_sections.add(app, "updates", Section("updates/_project_section.html", views.updates_section), order=20)
    weekly_facts.add(app, "manager_note", weekly.manager_note, order=15)
    weekly_facts.add(app, "manual_updates", weekly.manual_updates, order=20)
    weekly_facts.add(app, "project_dates", weekly.project_dates, order=30)
    weekly_facts.add(app, "call_suggestion", weekly.call_suggestion, order=90)
    client_attention.add(app, "acknowledge", ClientKind(_l("Weekly update to answer"), attention.unanswered_weekly), order=60)
    template = "updates/_staff_attention.html"
    staff_attention.add(app, "concern", StaffKind(_l("Concerns raised by clients"), template, attention.concerns), order=10)
    staff_attention.add(app, "silent", StaffKind(_l("Projects with no update in 7 days"), template, attention.silent), order=50)
    staff_attention.add(app, "call", StaffKind(_l("Calls to offer this week"), template, attention.calls), order=90)
