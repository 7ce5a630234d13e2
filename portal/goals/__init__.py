"""The goal charter: goals both sides sign, assumptions, check-ins, progress and closing."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

# The words of this feature's events on the project timeline (portal.activity.timeline_kinds).
EVENTS = {
    "goal.proposed": _l("proposed a goal"),
    "goal.revised": _l("proposed new terms for a goal"),
    "goal.signed": _l("signed a goal"),
    "goal.agreed": _l("agreed a goal"),
    "goal.declined": _l("declined a goal proposal"),
    "goal.assumption_answered": _l("answered an assumption"),
    "goal.checked_in": _l("recorded a check-in"),
    "goal.commented": _l("commented on a goal"),
    "goal.closed": _l("closed a goal"),
    "goal.closure_proposed": _l("proposed to close a goal"),
    "goal.close_proposed": _l("proposed to close a goal"),
    "goal.closure_rejected": _l("kept a goal open"),
}


def init_app(app: Flask) -> None:
    """Add the goal pages, the project page's Goals block, the weekly facts and the home items."""
    from portal.activity import TimelineKind, timeline_kinds
    from portal.attention import ClientKind, StaffKind, client_attention, deadline_sources, staff_attention
    from portal.goals import attention, stored, views, weekly
    from portal.goals.forms import MEASURE_LABELS, OUTCOME_LABELS
    from portal.goals.progress import Thresholds
    from portal.goals.units import UNIT_LABELS
    from portal.sections import Section, project_sections
    from portal.weekly.facts import FactSentences, expectation_facts, fact_sentences, weekly_facts

    Thresholds.from_config(app.config)  # refuse to start with thresholds that make no sense (ConfigError)
    stored.init_app()  # a goal's stored progress is cleared by whatever changes it
    app.register_blueprint(views.bp)
    app.jinja_env.globals["goal_labels"] = {"unit": UNIT_LABELS, "measure": MEASURE_LABELS, "outcome": OUTCOME_LABELS}
    project_sections.add(app, "goals", Section("goals/_project_section.html", views.project_goals), order=10)
    weekly_facts.add(app, "goals", weekly.goal_facts, order=11)
    expectation_facts.add(app, "goals", weekly.goal_lines, order=40)
    fact_sentences.add(app, "goals", FactSentences("goals/_facts.html", weekly.SENTENCE_KINDS), order=10)
    client_attention.add(app, "sign", ClientKind(_l("Goal to sign"), attention.signatures), order=20)
    client_attention.add(app, "assumption", ClientKind(_l("Assumption to confirm"), attention.assumptions), order=30)
    client_attention.add(app, "closure", ClientKind(_l("Goal to close"), attention.closures), order=40)
    staff_attention.add(app, "goal_off_track", StaffKind(_l("Goals off track"), "goals/_staff_attention.html", attention.off_track), order=20)
    staff_attention.add(
        app, "goal_agreement", StaffKind(_l("Goals awaiting agreement"), "goals/_staff_attention.html", attention.awaiting_agreement), order=70
    )
    deadline_sources.add(app, "goals", attention.target_dates, order=30)
    timeline_kinds.add(app, "goals", TimelineKind(_l("Goals"), ("goal.",), EVENTS), order=10)
