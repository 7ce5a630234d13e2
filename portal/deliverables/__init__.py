"""Deliverable review: versions, approve or request changes, and a permanent record of every decision."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

# The words of this feature's events on the project timeline (portal.activity.timeline_kinds).
EVENTS = {
    "deliverable.created": _l("added a deliverable"),
    "deliverable.updated": _l("changed a deliverable"),
    "deliverable.version_submitted": _l("sent a version for review"),
    "deliverable.approved": _l("approved a version"),
    "deliverable.changes_requested": _l("requested changes"),
    "deliverable.settled_by_rule": _l("a version was settled by the approval rule"),
    "deliverable.reopened": _l("reopened a deliverable"),
    "deliverable.commented": _l("commented on a deliverable"),
}


def init_app(app: Flask) -> None:
    """Add the review pages, their blocks and labels, the weekly facts, the home items, waiting time, and resettling on approver changes."""
    from portal.activity import TimelineKind, timeline_kinds
    from portal.attention import ClientKind, StaffKind, client_attention, deadline_sources, staff_attention
    from portal.deliverables import attention, queries, service, views, weekly
    from portal.deliverables.forms import REASON_LABELS
    from portal.sections import Section, home_panels, project_sections
    from portal.signals import approvers_changed
    from portal.waiting import waiting_sources
    from portal.weekly.facts import FactSentences, expectation_facts, fact_sentences, weekly_facts

    app.register_blueprint(views.bp)
    app.jinja_env.globals["deliverable_labels"] = {
        "status": views.STATUS_LABELS,
        "version": views.VERSION_LABELS,
        "reason": REASON_LABELS,
        "rule": views.RULE_TEXTS,
    }
    project_sections.add(app, "deliverables", Section("deliverables/_project_section.html", views.project_section), order=25)
    home_panels.add(app, "deliverables_decisions", Section("deliverables/_home_decisions.html", views.decisions_panel), order=13)
    weekly_facts.add(app, "deliverables", weekly.deliverable_weekly_facts, order=12)
    expectation_facts.add(app, "deliverables", weekly.deliverable_lines, order=50)
    fact_sentences.add(app, "deliverables", FactSentences("deliverables/_facts.html", weekly.SENTENCE_KINDS), order=20)
    client_attention.add(app, "review", ClientKind(_l("Deliverable to review"), attention.reviews), order=10)
    staff_attention.add(
        app, "changes_requested", StaffKind(_l("Changes requested"), "deliverables/_staff_attention.html", attention.changes_requested), order=30
    )
    staff_attention.add(
        app,
        "client_decision",
        StaffKind(_l("Waiting for the client’s decision"), "deliverables/_staff_attention.html", attention.client_decisions),
        order=80,
    )
    deadline_sources.add(app, "deliverables", attention.due_dates, order=10)
    waiting_sources.add(app, "deliverables", queries.waiting_intervals, order=10)
    approvers_changed.connect(service.on_approvers_changed)
    timeline_kinds.add(app, "deliverables", TimelineKind(_l("Deliverables"), ("deliverable.",), EVENTS), order=20)
