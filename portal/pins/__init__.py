"""Pinned review: comments on the exact spot of a version's images and PDF pages, their previews, version compare."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

# The words of this feature's events on the project timeline (the deliverables' timeline kind shows them).
EVENTS = {
    "pin.placed": _l("placed a pin"),
    "pin.settled": _l("settled a pin"),
    "pin.checked": _l("checked a pin against a new version"),
}


def init_app(app: Flask) -> None:
    """Add the review pages, previews rendered after uploads, the weekly count of open pins and the timeline words."""
    from portal.activity import TimelineKind, timeline_kinds
    from portal.pins import previews, views, weekly
    from portal.weekly.facts import FactSentences, fact_sentences, weekly_facts

    app.register_blueprint(views.bp)
    previews.listen()
    weekly_facts.add(app, "pins", weekly.open_pin_facts, order=13)
    fact_sentences.add(app, "pins", FactSentences("pins/_facts.html", weekly.SENTENCE_KINDS), order=21)
    timeline_kinds.add(app, "pins", TimelineKind(_l("Pins"), ("pin.",), EVENTS), order=21)
