"""Every event a project's timeline can show has words of its own, not the "made a change" fallback."""

from __future__ import annotations

import re
from pathlib import Path

from portal.projects.views import TIMELINE_KINDS, VERB_LABELS

PORTAL = Path(__file__).resolve().parents[2] / "portal"
LABELS = PORTAL / "projects" / "views.py"


def verb_pattern() -> re.Pattern[str]:
    """Match a string literal that names an event of a timeline kind ("goal.signed", not the endpoint "goals.show")."""
    prefixes = sorted({prefix for group in TIMELINE_KINDS.values() for prefix in group})
    return re.compile(r'"((?:' + "|".join(re.escape(p) for p in prefixes) + r')[a-z_]+)"')


def recorded_verbs() -> set[str]:
    """Return every event name of a timeline kind written in the code (outside the labels themselves)."""
    pattern, verbs = verb_pattern(), set()
    for path in PORTAL.rglob("*.py"):
        if path != LABELS:
            verbs.update(pattern.findall(path.read_text(encoding="utf-8")))
    return verbs


def test_the_scan_finds_the_verbs_it_should():
    """The scan itself works: it sees verbs of every feature (so the next test cannot pass by finding nothing)."""
    verbs = recorded_verbs()
    assert {"goal.proposed", "deliverable.approved", "asset.uploaded", "update.published", "project.created"} <= verbs


def test_every_project_event_has_a_timeline_label():
    """A verb the timeline can list (its prefix is one of the timeline's kinds) has a label."""
    missing = sorted(recorded_verbs() - VERB_LABELS.keys())
    assert not missing, f"add these verbs to VERB_LABELS in portal/projects/views.py: {missing}"
