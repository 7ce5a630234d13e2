"""Every event a project's timeline can show has words of its own, not the "made a change" fallback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal import create_app
from portal.activity import timeline_kinds, verb_labels

PORTAL = Path(__file__).resolve().parents[2] / "portal"


@pytest.fixture(scope="module")
def app_context():
    """Push the context of an app built with every feature (no database is touched)."""
    app = create_app({"ENV": "testing", "SECRET_KEY": "test", "DATABASE_URL": "sqlite://"})
    with app.app_context():
        yield


def verb_pattern() -> re.Pattern[str]:
    """Match a string literal that names an event of a timeline kind ("goal.signed", not the endpoint "goals.show")."""
    prefixes = sorted({prefix for kind in timeline_kinds.values() for prefix in kind.prefixes})
    return re.compile(r'"((?:' + "|".join(re.escape(p) for p in prefixes) + r')[a-z_]+)"')


def recorded_verbs() -> set[str]:
    """Return every event name of a timeline kind written in the code."""
    pattern, verbs = verb_pattern(), set()
    for path in PORTAL.rglob("*.py"):
        verbs.update(pattern.findall(path.read_text(encoding="utf-8")))
    return verbs


def test_the_scan_finds_the_verbs_it_should(app_context):
    """The scan itself works: it sees verbs of every feature (so the next test cannot pass by finding nothing)."""
    verbs = recorded_verbs()
    assert {"goal.proposed", "deliverable.approved", "pin.placed", "asset.uploaded", "update.published", "project.created"} <= verbs
    assert set(timeline_kinds.keys()) == {"goals", "deliverables", "pins", "assets", "updates", "expectations", "project", "incidents", "promises"}


def test_every_project_event_has_a_timeline_label(app_context):
    """A verb the timeline can list (its prefix is one of the timeline's kinds) has a label."""
    missing = sorted(recorded_verbs() - verb_labels().keys())
    assert not missing, f"add these verbs to the EVENTS of their feature's __init__.py: {missing}"
