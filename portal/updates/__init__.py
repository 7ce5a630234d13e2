"""Progress updates: the feed, manual updates with files, comments and answers, and the weekly update."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

# The words of this feature's events on the project timeline (portal.activity.timeline_kinds).
EVENTS = {
    "update.published": _l("published an update"),
    "update.weekly_sent": _l("sent the weekly update"),
    "update.commented": _l("commented on an update"),
    "update.acknowledged": _l("answered an update"),
    "update.attachments_added": _l("attached files to an update"),
    "update.attachment_removed": _l("removed a file from an update"),
    "update.draft_created": _l("started a draft update"),
    "update.draft_saved": _l("saved a draft update"),
    "update.draft_deleted": _l("deleted a draft update"),
    "weekly.note_added": _l("added a note to the coming weekly update"),
    "weekly.note_changed": _l("changed the note for the coming weekly update"),
    "weekly.note_removed": _l("removed the note for the coming weekly update"),
}


def init_app(app: Flask) -> None:
    """Add the update pages, the project page's feed, the weekly facts and the home items."""
    from portal.activity import TimelineKind, timeline_kinds
    from portal.attention import ClientKind, StaffKind, client_attention, staff_attention
    from portal.sections import Section, project_sections
    from portal.updates import attention, views, weekly
    from portal.updates.forms import ACK_LABELS
    from portal.weekly.facts import FactSentences, fact_sentences, weekly_facts

    app.jinja_env.globals["ack_labels"] = ACK_LABELS
    # The routes of these modules join views.bp as they are imported: all of them before it is registered.
    from portal.updates import attachments, comments, weekly_preview, writing  # noqa: F401

    app.register_blueprint(views.bp)
    from portal.updates import answer_views

    app.register_blueprint(answer_views.bp)  # the pages of the emailed answer links (no login)
    project_sections.add(app, "updates", Section("updates/_project_section.html", views.updates_section), order=20)
    weekly_facts.add(app, "manager_note", weekly.manager_note, order=15)
    weekly_facts.add(app, "manual_updates", weekly.manual_updates, order=20)
    weekly_facts.add(app, "project_dates", weekly.project_dates, order=30)
    weekly_facts.add(app, "call_suggestion", weekly.call_suggestion, order=90)
    fact_sentences.add(app, "updates", FactSentences("updates/_facts.html", weekly.SENTENCE_KINDS), order=40)
    client_attention.add(app, "acknowledge", ClientKind(_l("Weekly update to answer"), attention.unanswered_weekly), order=60)
    template = "updates/_staff_attention.html"
    staff_attention.add(app, "concern", StaffKind(_l("Concerns raised by clients"), template, attention.concerns), order=10)
    staff_attention.add(app, "silent", StaffKind(_l("Projects with no update in 7 days"), template, attention.silent), order=50)
    staff_attention.add(app, "call", StaffKind(_l("Calls to offer this week"), template, attention.calls), order=90)
    timeline_kinds.add(app, "updates", TimelineKind(_l("Updates"), ("update.", "weekly."), EVENTS), order=40)
