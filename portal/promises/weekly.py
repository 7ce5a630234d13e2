"""What the promise ledger adds to the weekly expectation note: this month's promises kept on time, per side.

Kind ``promises_kept`` (sentences in ``templates/promises/_facts.html``), one line per side::

    Fact("promises_kept", "progress", {"side": "agency", "kept": 9, "total": 11, "broken": 2}, "/projects/3/promises/?side=agency")
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from portal.models import Project, PromiseSide
from portal.promises.queries import Month, months_for
from portal.urls import portal_path
from portal.weekly.facts import Fact, Period, batch_provider

SENTENCE_KINDS = frozenset({"promises_kept"})


@batch_provider
def promise_lines(periods: Sequence[Period]) -> list[list[Fact]]:
    """Return, for each period, how many of this month's promises each side kept on time (two queries per moment of the batch)."""
    by_moment: dict[datetime, list[Project]] = defaultdict(list)
    for period in periods:
        by_moment[period.now].append(period.project)
    months: dict[tuple[datetime, int], Month] = {}
    for moment, projects in by_moment.items():
        for project_id, month in months_for(projects, moment).items():
            months[(moment, project_id)] = month
    results = []
    for period in periods:
        month = months[(period.now, period.project.id)]
        facts = []
        for side in PromiseSide:
            tally = month.tally(side)
            params = {"side": side.value, "kept": tally.kept_on_time, "total": tally.counted, "broken": tally.broken}
            link = portal_path("promises.index", project_id=period.project.id, side=side.value)
            facts.append(Fact("promises_kept", "bad" if tally.broken else "progress", params, link))
        results.append(facts)
    return results
