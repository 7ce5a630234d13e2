"""Facts of the weekly update and the weekly expectation note, and the registries of their providers.

A feature adds its providers in its ``init_app``; the composer knows none of them::

    from portal.weekly.facts import Fact, weekly_facts

    def goal_facts(project, period_start, period_end, now) -> list[Fact]:
        return [Fact("goal_off_track", "bad", {"goal_id": 7, "title": "…", "variance_pct": -30}, link="/goals/7")]

    def init_app(app):
        weekly_facts.add(app, "goals", goal_facts, order=11)

A provider is called with the project, the period the update covers (``period_start``
inclusive, ``period_end`` exclusive, both aware UTC) and the moment of composing; it
returns facts and must run a constant number of queries.

The weekly dispatch composes a batch of projects at once. A provider written with
:func:`batch_provider` takes the whole batch (a sequence of :class:`Period`) and returns
each period's facts, in a constant number of queries whatever the batch's size; it can
still be called for one project as above (the preview does)::

    @batch_provider
    def goal_facts(periods: Sequence[Period]) -> list[list[Fact]]:
        goals = …  # one query for every project of the batch
        return [facts_of(period, goals) for period in periods]

A plain provider is called once per project of the batch. ``params`` must be
JSON-serialisable: the facts are stored with the update (or note) and turned into
sentences in each reader's language when a page or an email is rendered
(``templates/weekly/_facts.html``, with each feature's sentences in ``templates/<feature>/_facts.html``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app

from portal.models import Project
from portal.registry import Registry

# The order of the weekly update: bad news first, then what waits on the client, the decisions
# of the week, progress, the manager's notes and updates, the next deadlines, and what we need.
SEVERITIES = ("bad", "waiting", "decision", "progress", "note", "deadline", "need")
# A quiet week is one where nothing of these happened (deadlines and needs may still be listed).
NEWS_SEVERITIES = frozenset({"bad", "waiting", "decision", "progress", "note"})
_RANK = {severity: i for i, severity in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Fact:
    """One thing the weekly update (or an expectation note) says, as data.

    ``kind`` selects the sentence in its feature's ``_facts.html`` (see ``fact_sentences``; unknown kinds are
    rendered generically); ``severity`` is one of SEVERITIES and decides where it goes;
    ``params`` fill the sentence (JSON-serialisable: numbers, strings, ISO dates);
    ``link`` is a path inside the portal ("/projects/3/…"), made absolute in emails.
    """

    kind: str
    severity: str
    params: dict[str, Any] = field(default_factory=dict)
    link: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"fact {self.kind!r}: severity must be one of {SEVERITIES}, not {self.severity!r}")
        if self.link is not None and not is_portal_path(self.link):
            raise ValueError(f"fact {self.kind!r}: link must be a path inside the portal, not {self.link!r}")

    def to_json(self) -> dict[str, Any]:
        """Return the fact as stored with an update (raises TypeError if params are not JSON)."""
        data = {"kind": self.kind, "severity": self.severity, "params": self.params, "link": self.link}
        json.dumps(data)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fact:
        """Rebuild a fact stored with an update."""
        return cls(data["kind"], data["severity"], dict(data.get("params") or {}), data.get("link"))


def is_portal_path(link: str) -> bool:
    """Tell whether ``link`` is a path inside the portal: "/…", never "//host" or "/\\host" (browsers read both as another site)."""
    return link.startswith("/") and not link.startswith("//") and "\\" not in link and not any(ord(ch) < 0x20 for ch in link)


FactProvider = Callable[[Project, datetime, datetime, datetime], list[Fact]]


@dataclass(frozen=True)
class Period:
    """One project's period in a batch: what a batch provider is given for each project."""

    project: Project
    period_start: datetime  # inclusive, aware UTC
    period_end: datetime  # exclusive, aware UTC
    now: datetime  # the moment of composing


ManyFacts = Callable[[Sequence[Period]], list[list[Fact]]]


class BatchProvider:
    """A provider of facts for many projects at once (see :func:`batch_provider`); also callable for one project."""

    def __init__(self, many: ManyFacts) -> None:
        self.many = many
        functools.update_wrapper(self, many)

    def __call__(self, project: Project, period_start: datetime, period_end: datetime, now: datetime) -> list[Fact]:
        """Return the facts of one project (a batch of one)."""
        return self.many([Period(project, period_start, period_end, now)])[0]


def batch_provider(many: ManyFacts) -> BatchProvider:
    """Make ``many`` (periods -> each period's facts, in their order) a provider that registries call once per batch."""
    return BatchProvider(many)


def _checked(key: str, facts: Sequence[Fact]) -> list[Fact]:
    """Return ``facts`` after checking each is a Fact with JSON-serialisable params."""
    for fact in facts:
        if not isinstance(fact, Fact):
            raise TypeError(f"provider {key!r} returned {fact!r}, not a Fact")
        try:
            fact.to_json()
        except TypeError as error:
            raise TypeError(f"provider {key!r}: params of {fact.kind!r} are not JSON: {error}") from None
    return list(facts)


class FactRegistry(Registry[FactProvider]):
    """Fact providers of one composition, called in their ``order``."""

    def collect(self, project: Project, period_start: datetime, period_end: datetime, now: datetime) -> list[Fact]:
        """Call every provider of the current app in order and return their facts (checked: JSON-serialisable params)."""
        return self.collect_many([Period(project, period_start, period_end, now)])[0]

    def collect_many(self, periods: Sequence[Period]) -> list[list[Fact]]:
        """Return each period's facts from every provider, in provider order: batch providers once, others per period."""
        collected: list[list[Fact]] = [[] for _ in periods]
        if not periods:
            return collected
        for entry in self.entries():
            provider = entry.value
            if isinstance(provider, BatchProvider):
                results = provider.many(periods)
                if len(results) != len(periods):
                    raise TypeError(f"provider {entry.key!r} returned {len(results)} lists of facts for {len(periods)} periods")
            else:
                results = [provider(p.project, p.period_start, p.period_end, p.now) for p in periods]
            for facts, found in zip(collected, results, strict=True):
                facts.extend(_checked(entry.key, found))
        return collected


# Providers of the weekly update, and of the weekly expectation-vs-reality note.
weekly_facts = FactRegistry("weekly_facts")
expectation_facts = FactRegistry("expectation_facts")


@dataclass(frozen=True)
class FactSentences:
    """Where the sentences of a feature's fact kinds are: a template with ``headline(f)`` and ``slip_lines(f, lines)``."""

    template: str
    kinds: frozenset[str]


# The sentence templates of every feature's facts; templates/weekly/_facts.html picks one per fact.
fact_sentences: Registry[FactSentences] = Registry("fact_sentences")


_SENTENCES_CACHE = "rapport.fact_sentences_cache"  # app.extensions: (the registry's entries, {kind: module})


def sentences_for(kind: str) -> Any:
    """Return the template module with the sentences of ``kind`` for the current app (None: the generic sentence).

    Called for every fact of every page and email: the module of each kind is kept per app
    (the registry's list of entries is replaced whenever an entry is added or removed, which
    starts a new cache), unless templates are reloaded when they change (development).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug's proxy
    env = app.jinja_env
    if env.auto_reload:
        return _sentences_module(kind)
    entries = fact_sentences.entries(app)
    cached = app.extensions.get(_SENTENCES_CACHE)
    if cached is None or cached[0] is not entries:
        cached = app.extensions[_SENTENCES_CACHE] = (entries, {})
    modules: dict[str, Any] = cached[1]
    try:
        return modules[kind]
    except KeyError:
        module = modules[kind] = _sentences_module(kind)
        return module


def _sentences_module(kind: str) -> Any:
    """Find the template module with the sentences of ``kind`` (None: the generic sentence)."""
    for sentences in fact_sentences.values():
        if kind in sentences.kinds:
            return current_app.jinja_env.get_template(sentences.template).module
    return None


def compose(project: Project, period_start: datetime, period_end: datetime, now: datetime) -> list[Fact]:
    """Return the facts of the weekly update: grouped by severity (bad news first), then provider order."""
    return compose_many([Period(project, period_start, period_end, now)])[0]


def compose_many(periods: Sequence[Period]) -> list[list[Fact]]:
    """Return the facts of each period's weekly update (as :func:`compose`), every batch provider called once."""
    return [sorted(facts, key=lambda f: _RANK[f.severity]) for facts in weekly_facts.collect_many(periods)]  # stable sort


def is_quiet(facts: Sequence[dict[str, Any]] | Sequence[Fact]) -> bool:
    """Tell whether nothing happened this week (no bad news, waiting, decisions, progress or notes)."""
    return not any(_severity(f) in NEWS_SEVERITIES for f in facts)


def _severity(fact: dict[str, Any] | Fact) -> str:
    return fact.severity if isinstance(fact, Fact) else fact.get("severity", "note")


def group_facts(facts: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Return stored facts as (severity, facts) groups in the order of SEVERITIES, empty groups left out."""
    groups = []
    for severity in SEVERITIES:
        items = [f for f in facts if f.get("severity") == severity]
        if items:
            groups.append((severity, items))
    return groups
