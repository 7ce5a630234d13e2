"""Asset collection: requests for files, uploads, reviews and reminders."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

# The words of this feature's events on the project timeline (portal.activity.timeline_kinds).
EVENTS = {
    "asset.requested": _l("asked for files"),
    "asset.request_updated": _l("changed a request for files"),
    "asset.request_cancelled": _l("cancelled a request for files"),
    "asset.uploaded": _l("uploaded files"),
    "asset.accepted": _l("accepted files"),
    "asset.returned": _l("returned files with a note"),
}


def init_app(app: Flask) -> None:
    """Add the asset pages, the project page's checklist, the weekly facts, the home items and waiting time."""
    from portal.activity import TimelineKind, timeline_kinds
    from portal.assets import attention, queries, views, weekly
    from portal.attention import ClientKind, StaffKind, client_attention, deadline_sources, staff_attention
    from portal.sections import Section, project_sections
    from portal.waiting import waiting_sources
    from portal.weekly.facts import FactSentences, expectation_facts, fact_sentences, weekly_facts

    app.register_blueprint(views.bp)
    project_sections.add(app, "assets", Section("assets/_project_section.html", views.project_section), order=30)
    weekly_facts.add(app, "assets", weekly.asset_facts, order=13)
    expectation_facts.add(app, "assets", weekly.asset_lines, order=60)
    fact_sentences.add(app, "assets", FactSentences("assets/_facts.html", weekly.SENTENCE_KINDS), order=30)
    client_attention.add(app, "asset", ClientKind(_l("Files requested"), attention.requests_open), order=50)
    staff_attention.add(app, "asset_overdue", StaffKind(_l("Overdue asset requests"), "assets/_staff_attention.html", attention.overdue), order=40)
    staff_attention.add(
        app, "asset_review", StaffKind(_l("Files waiting for your review"), "assets/_staff_attention.html", attention.to_review), order=60
    )
    deadline_sources.add(app, "assets", attention.due_dates, order=20)
    waiting_sources.add(app, "assets", queries.waiting_intervals, order=20)
    timeline_kinds.add(app, "assets", TimelineKind(_l("Asset requests"), ("asset.",), EVENTS), order=30)
