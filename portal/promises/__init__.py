"""Promises kept: every dated commitment of a project, and whether it was kept (issue 13, part 4).

What is a promise
-----------------
Each date one side commits to is a **promise** row (``portal.models.promises.Promise``):

==================  ==========  ====================================================
Source              Owed by     Kept when
==================  ==========  ====================================================
deliverable         agency      a version is approved (``approved_at``)
agreed goal         agency      the goal is closed as achieved (``closed_at``)
weekly update       agency      the week's weekly update went out, not late
asset request       client      the client sends the files (``submitted_at``)
recovery step       its owner   the step is done (``done_at``); shared incidents only
==================  ==========  ====================================================

A promise ends in one of four ways, read on the project's calendar day:

- **kept on time** — kept on or before its due date; **kept late** — kept after it;
- **renegotiated** — both sides moved (or dropped) the date *before* it passed; a new
  promise carries the new date;
- **broken** — its date passed and it was not kept (it becomes "kept late" if kept later),
  or it was given up after its date (a goal missed, a request cancelled too late). A date
  moved after it passed leaves the promise broken and opens a new one for the new date.

How "both sides agreed" is established
--------------------------------------
A date change counts as agreed when the side the promise is **owed to** made it, or
accepted it through a flow the portal already has:

- **goals**: a target date only changes through a revision both sides signed (and an
  agreed goal is only dropped by both) — so every change is agreed;
- **asset requests** and **clients' recovery steps** are owed to the agency, which sets
  their dates: its change is agreed at once;
- **deliverables** are owed to the client: a due date moved by staff is only *proposed*;
  it counts as renegotiated once an approver agrees on the promises page ("Agree to the new
  date") before the promised date passes. Until then the promise is measured against its
  first date;
- **the agency's recovery steps**: a new date is proposed, and agreed when the client
  accepts the recovery plan (``PlanAcceptance``) before the promised date passes.

How rows are written
--------------------
No service of another feature calls this package. ``ledger.after_flush`` (a SQLAlchemy
session listener) follows the writes of deliverables, goals, asset requests, recovery
steps and plan acceptances and writes the rows in the same transaction. Weekly slots are
not stored: the weekly dispatch inserts its updates in bulk (no ORM events), so the slots
of a month are read from the weekly updates (``queries.months_for``), by the project's
current schedule; a project not active now is not counted for the weeks it sent nothing.

What it shows
-------------
"Promises kept on time this month: agency 9/11, client 3/4" on the project page (a section)
and in the weekly expectation note (``promises_kept`` lines, one per side), each linking to
the promises page of that side. "This month" is the project's calendar month; a promise
counts once kept (even early) or broken; renegotiated and still open ones are not counted.
The staff home flags a **perception gap** (``attention.perception_gaps``); project health
counts this month's broken promises (``portal.health``).
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

EVENTS = {"promise.renegotiated": _l("agreed to a new date")}


def init_app(app: Flask) -> None:
    """Add the promises page, its project block, the weekly note's lines, the perception gap, and the ledger's listener."""
    from portal.activity import TimelineKind, timeline_kinds
    from portal.attention import StaffKind, staff_attention
    from portal.promises import attention, ledger, views, weekly
    from portal.sections import Section, project_sections
    from portal.weekly.facts import FactSentences, expectation_facts, fact_sentences

    app.register_blueprint(views.bp)
    ledger.connect()
    project_sections.add(app, "promises", Section("promises/_project_section.html", views.promises_section), order=28)
    expectation_facts.add(app, "promises", weekly.promise_lines, order=45)
    fact_sentences.add(app, "promises", FactSentences("promises/_facts.html", weekly.SENTENCE_KINDS), order=60)
    staff_attention.add(
        app, "perception_gap", StaffKind(_l("The client sees it differently"), "promises/_staff_attention.html", attention.perception_gaps), order=15
    )
    timeline_kinds.add(app, "promises", TimelineKind(_l("Promises"), ("promise.",), EVENTS), order=70)
