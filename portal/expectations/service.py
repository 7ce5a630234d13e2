"""Expectation notes: written by staff at any time, and once a week by the weekly run."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import activity
from portal.access import can_manage_project
from portal.errors import DomainError, NotAllowed
from portal.extensions import db
from portal.models import (
    Assessment,
    ExpectationNote,
    NoteSource,
    Project,
    User,
    Visibility,
)
from portal.weekly.facts import expectation_facts

NOTE_FIELDS = ("expected", "reality", "variance", "cause", "impact", "next_step", "assessment", "visibility")
LIMITS = {"expected": 5000, "reality": 5000, "variance": 200, "cause": 5000, "impact": 5000, "next_step": 5000}


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Return a note's trimmed texts and its assessment and visibility, or raise DomainError naming the field."""
    cleaned: dict[str, Any] = {name: (values.get(name) or "").strip() for name in LIMITS}
    for name, limit in LIMITS.items():
        if len(cleaned[name]) > limit:
            raise DomainError(_l("This is too long: at most %(num)d characters.", num=limit), field=name)
    if not cleaned["expected"]:
        raise DomainError(_l("Write what was expected (for example, what the client was told at kick-off)."), field="expected")
    if not cleaned["reality"]:
        raise DomainError(_l("Write what really happened."), field="reality")
    try:
        cleaned["assessment"] = Assessment(values.get("assessment") or "")
    except ValueError:
        raise DomainError(_l("Choose how reality compares with what was expected."), field="assessment") from None
    try:
        cleaned["visibility"] = Visibility(values.get("visibility") or "")
    except ValueError:
        raise DomainError(_l("Choose who may read this note."), field="visibility") from None
    if cleaned["assessment"] is Assessment.WORSE and not cleaned["impact"]:
        # Principle 7: every slip says how it affects the client.
        raise DomainError(_l("Say how this affects the client: every slip needs its impact."), field="impact")
    return cleaned


def create_note(actor: User, project: Project, values: dict[str, Any]) -> ExpectationNote:
    """Write a staff note on what was expected against what happened; the caller commits."""
    if not can_manage_project(actor, project):
        raise NotAllowed(_l("Only the project's account manager or an admin can write expectation notes."))
    cleaned = _clean(values)
    assessment: Assessment = cleaned["assessment"]
    note = ExpectationNote(project_id=project.id, author=actor, source=NoteSource.MANUAL, **cleaned)
    db.session.add(note)
    db.session.flush()
    activity.record(
        actor,
        "expectation.noted",
        note,
        project=project,
        data={"assessment": assessment.value},
        internal=not note.is_shared,
    )
    return note


def update_note(actor: User, note: ExpectationNote, values: dict[str, Any]) -> None:
    """Change a staff note; bad news shared with the client stays shared and stays bad. The caller commits."""
    project = note.project
    if not can_manage_project(actor, project):
        raise NotAllowed(_l("Only the project's account manager or an admin can change expectation notes."))
    if note.is_weekly:
        raise NotAllowed(_l("Notes written by the weekly run are a record and cannot be changed."))
    cleaned = _clean(values)
    if note.is_shared and cleaned["visibility"] is Visibility.INTERNAL:
        raise DomainError(
            _l("The client may already have read this note, so it stays shared. Add an internal note instead."),
            field="visibility",
        )
    if note.is_shared and note.assessment is Assessment.WORSE and cleaned["assessment"] is not Assessment.WORSE:
        raise DomainError(
            _l("Bad news shared with the client stays on the record. If things improved, add a new note saying so."),
            field="assessment",
        )
    changed = [name for name, value in cleaned.items() if getattr(note, name) != value]
    for name in changed:
        setattr(note, name, cleaned[name])
    if changed:
        activity.record(actor, "expectation.changed", note, project=project, data={"fields": changed}, internal=not note.is_shared)


def write_weekly_note(
    project: Project,
    *,
    iso_year: int,
    iso_week: int,
    week_of: date,
    period_start: datetime,
    period_end: datetime,
    now: datetime,
) -> ExpectationNote | None:
    """Write the project's expectation note for one ISO week from the providers, unless written already.

    Called by the weekly dispatch inside its transaction, after it claimed that week's
    update (so no other dispatcher writes the same note); the caller commits.
    """
    exists = db.session.scalar(
        select(ExpectationNote.id).where(
            ExpectationNote.project_id == project.id,
            ExpectationNote.iso_year == iso_year,
            ExpectationNote.iso_week == iso_week,
        )
    )
    if exists is not None:
        return None
    facts = expectation_facts.collect(project, period_start, period_end, now)
    note = ExpectationNote(
        project_id=project.id,
        source=NoteSource.WEEKLY,
        visibility=Visibility.SHARED,
        iso_year=iso_year,
        iso_week=iso_week,
        week_of=week_of,
        facts=[fact.to_json() for fact in facts],
        created_at=now,
        updated_at=now,
    )
    db.session.add(note)
    return note
