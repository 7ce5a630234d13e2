"""Read models of the expectation-vs-reality log: its latest entries, a page of it, and the weekly notes the chart draws."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.orm import joinedload

from portal.access import visible_expectation_notes
from portal.extensions import db
from portal.models import ExpectationNote, NoteSource, Project, User


def latest_notes(viewer: User, project: Project, limit: int) -> list[ExpectationNote]:
    """Return the ``limit`` newest notes of ``project`` that ``viewer`` may read, with their authors (one query)."""
    return list(
        db.session.scalars(
            visible_expectation_notes(viewer, project)
            .options(joinedload(ExpectationNote.author))
            .order_by(ExpectationNote.created_at.desc(), ExpectationNote.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class NoteLog:
    """A page of the log, newest first, how many notes it has in all, and the weekly notes the chart draws (newest first)."""

    notes: list[ExpectationNote]
    more: bool
    total: int
    weekly_notes: list[ExpectationNote]


def note_log(viewer: User, project: Project, *, page: int, size: int, weeks: int) -> NoteLog:
    """Return page ``page`` (from 1) of ``size`` notes ``viewer`` may read, their total and the last ``weeks`` weekly notes (three queries)."""
    visible = visible_expectation_notes(viewer, project)
    notes = list(
        db.session.scalars(
            visible.options(joinedload(ExpectationNote.author))
            .order_by(ExpectationNote.created_at.desc(), ExpectationNote.id.desc())
            .offset((page - 1) * size)
            .limit(size + 1)
        )
    )
    weekly_notes = list(
        db.session.scalars(
            visible.where(ExpectationNote.source == NoteSource.WEEKLY).order_by(ExpectationNote.week_of.desc()).limit(weeks)
        )
    )
    total = db.session.scalar(visible.with_only_columns(func.count(ExpectationNote.id)).order_by(None)) or 0
    return NoteLog(notes=notes[:size], more=len(notes) > size, total=total, weekly_notes=weekly_notes)
