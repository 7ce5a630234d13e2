"""Expectation vs reality: the log of what was expected against what happened, per project."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

# The words of this feature's events on the project timeline (portal.activity.timeline_kinds).
EVENTS = {
    "expectation.noted": _l("wrote an expectation-vs-reality note"),
    "expectation.changed": _l("changed an expectation-vs-reality note"),
}


def init_app(app: Flask) -> None:
    """Add the log's pages, its project page block, the weekly note's own lines, the slips the weekly update leads with, and the month's waiting."""
    from portal.activity import TimelineKind, timeline_kinds
    from portal.expectations import views, weekly
    from portal.expectations.forms import ASSESSMENT_LABELS
    from portal.sections import Section, project_sections
    from portal.weekly.facts import FactSentences, expectation_facts, fact_sentences, weekly_facts

    app.register_blueprint(views.bp)
    app.jinja_env.globals["assessment_labels"] = ASSESSMENT_LABELS
    project_sections.add(app, "expectations", Section("expectations/_project_section.html", views.expectations_section), order=30)
    expectation_facts.add(app, "weekly_update", weekly.weekly_update_on_time, order=10)
    expectation_facts.add(app, "acknowledgements", weekly.acknowledgements, order=20)
    expectation_facts.add(app, "staff_notes", weekly.staff_notes, order=30)
    expectation_facts.add(app, "waiting_month", weekly.waiting_this_month, order=40)
    weekly_facts.add(app, "expectation_slips", weekly.expectation_slips, order=10)
    weekly_facts.add(app, "waiting_month", weekly.waiting_this_month, order=85)
    fact_sentences.add(app, "expectations", FactSentences("expectations/_facts.html", weekly.SENTENCE_KINDS), order=50)
    timeline_kinds.add(app, "expectations", TimelineKind(_l("Expectations"), ("expectation.",), EVENTS), order=50)
