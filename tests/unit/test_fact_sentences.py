"""Every fact kind a feature declares has its sentence in that feature's template, and no kind is claimed twice."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal import create_app
from portal.weekly.facts import Fact, fact_sentences, sentences_for

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
KIND_TEST = re.compile(r"f\.kind (?:==|in) (\([^)]*\)|'[a-z_]+')")


@pytest.fixture(scope="module")
def app():
    """Return an app built with every feature (no database is touched)."""
    return create_app({"ENV": "testing", "SECRET_KEY": "test", "DATABASE_URL": "sqlite://"})


def kinds_in(template: str) -> set[str]:
    """Return the kinds a sentence template tests for (``f.kind == '…'`` or ``f.kind in (…)``)."""
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    return {kind for group in KIND_TEST.findall(text) for kind in re.findall(r"'([a-z_]+)'", group)}


def test_each_feature_declares_exactly_the_kinds_its_template_words(app):
    """A kind without a branch would be shown generically; a branch without a declared kind is never reached."""
    entries = fact_sentences.entries(app)
    assert {e.key for e in entries} == {"goals", "deliverables", "pins", "assets", "updates", "expectations", "incidents", "promises"}
    for entry in entries:
        assert entry.value.kinds == kinds_in(entry.value.template), entry.key


def test_no_kind_belongs_to_two_features(app):
    """Each kind has one sentence: two features claiming it would make the first one win silently."""
    seen: dict[str, str] = {}
    for entry in fact_sentences.entries(app):
        for kind in entry.value.kinds:
            assert kind not in seen, f"{kind} is declared by {seen[kind]} and {entry.key}"
            seen[kind] = entry.key


def test_a_declared_kind_is_worded_by_its_feature_and_an_unknown_one_generically(app):
    """The weekly update's sentence comes from the feature's template; an unknown kind still reads as words."""
    with app.test_request_context():
        assert sentences_for("goal_off_track") is not None
        assert sentences_for("no_such_kind") is None
        macros = app.jinja_env.get_template("weekly/_facts.html").module
        worded = str(macros.headline(Fact("asset_accepted", "progress", {"title": "Logo files"}).to_json()))
        generic = str(macros.headline(Fact("no_such_kind", "note", {"title": "Logo files"}).to_json()))
    assert worded == "We accepted “Logo files”."
    assert generic == "No such kind: title Logo files"
