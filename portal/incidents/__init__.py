"""Incidents and a visible recovery plan: what went wrong, the dated steps to put it right, and the client's answers."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

# The words of this feature's events on the project timeline (portal.activity.timeline_kinds).
EVENTS = {
    "incident.opened": _l("opened an incident"),
    "incident.edited": _l("changed an incident"),
    "incident.step_added": _l("added a step to a recovery plan"),
    "incident.step_edited": _l("changed a step of a recovery plan"),
    "incident.step_done": _l("marked a step of a recovery plan done"),
    "incident.plan_accepted": _l("accepted a recovery plan"),
    "incident.closed": _l("closed an incident"),
    "incident.trust_answered": _l("answered whether trust is restored"),
}


def init_app(app: Flask) -> None:
    """Add the incident pages, their project block, the weekly fact that leads every update while one is open, and timeline words."""
    from portal.activity import TimelineKind, timeline_kinds
    from portal.incidents import views, weekly
    from portal.sections import Section, project_sections
    from portal.weekly.facts import FactSentences, fact_sentences, weekly_facts

    app.register_blueprint(views.bp)
    project_sections.add(app, "incidents", Section("incidents/_project_section.html", views.project_section), order=5)
    # Order 0: of the bad news (which leads the update), an open shared incident comes first.
    weekly_facts.add(app, "incidents", weekly.incident_facts, order=0)
    fact_sentences.add(app, "incidents", FactSentences("incidents/_facts.html", weekly.SENTENCE_KINDS), order=5)
    timeline_kinds.add(app, "incidents", TimelineKind(_l("Incidents"), ("incident.",), EVENTS), order=15)
