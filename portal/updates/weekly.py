"""What progress updates contribute to the weekly update (added to ``weekly_facts`` by ``portal.updates.init_app``).

Kinds (sentences in ``templates/updates/_facts.html``):

- ``update_blocker`` (bad): the "blockers" of a manual update published this week.
- ``project_past_target`` (bad): an active project whose target date has passed.
- ``update_done`` (progress): what a manual update says was done.
- ``manager_note`` (note): the personal note staff added to this weekly update.
- ``manual_update`` (note): a manual update published since the last weekly update.
- ``call_suggested`` (note): the client prefers phone or meetings, so the update offers a call.
- ``update_next`` / ``project_target`` (deadline): what comes next; the target date within six weeks.
- ``update_needs`` (need): "what we need from you" of a manual update.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import (
    PreferredChannel,
    Project,
    ProjectStatus,
    Update,
    UpdateKind,
    UpdateStatus,
    WeeklyNote,
)
from portal.timeutil import project_today
from portal.urls import portal_path
from portal.weekly.facts import Fact

# The kinds whose sentences are in templates/updates/_facts.html (portal.weekly.facts.fact_sentences).
SENTENCE_KINDS = frozenset(
    {
        "update_blocker",
        "project_past_target",
        "update_done",
        "manager_note",
        "manual_update",
        "call_suggested",
        "update_next",
        "project_target",
        "update_needs",
    }
)

TARGET_HORIZON = timedelta(weeks=6)


def manager_note(project: Project, period_start: datetime, period_end: datetime, now: datetime) -> list[Fact]:
    """Return the personal note staff added for this update, if any."""
    notes = db.session.scalars(
        select(WeeklyNote)
        .where(WeeklyNote.project_id == project.id, WeeklyNote.update_id.is_(None))
        .options(joinedload(WeeklyNote.author))
        .order_by(WeeklyNote.id)
    )
    return [
        Fact(
            "manager_note",
            "note",
            {
                "note_id": note.id,
                "version": note.version,
                "text": note.body,
                "author": note.author.display_name if note.author else "",
            },
        )
        for note in notes
    ]


def manual_updates(project: Project, period_start: datetime, period_end: datetime, now: datetime) -> list[Fact]:
    """Return the manual updates published in the period, with their blockers, done, next and needs."""
    updates = db.session.scalars(
        select(Update)
        .where(
            Update.project_id == project.id,
            Update.kind == UpdateKind.MANUAL,
            Update.status == UpdateStatus.PUBLISHED,
            Update.published_at >= period_start,
            Update.published_at < period_end,
        )
        .options(joinedload(Update.author))
        .order_by(Update.published_at, Update.id)
    )
    facts = []
    for update in updates:
        link = portal_path("updates.show", project_id=project.id, update_id=update.id)
        base = {"update_id": update.id, "title": update.title}
        if update.blockers:
            facts.append(Fact("update_blocker", "bad", {**base, "text": update.blockers}, link))
        if update.done:
            facts.append(Fact("update_done", "progress", {**base, "text": update.done}, link))
        author = update.author.display_name if update.author else ""
        facts.append(Fact("manual_update", "note", {**base, "author": author}, link))
        if update.next_steps:
            facts.append(Fact("update_next", "deadline", {**base, "text": update.next_steps}, link))
        if update.needs:
            facts.append(Fact("update_needs", "need", {**base, "text": update.needs}, link))
    return facts


def project_dates(project: Project, period_start: datetime, period_end: datetime, now: datetime) -> list[Fact]:
    """Return the project's target date: bad news once passed, a deadline when it is near."""
    if project.target_date is None:
        return []
    today = project_today(project, now)
    days = (project.target_date - today).days
    params = {"date": project.target_date.isoformat(), "days": abs(days)}
    if days < 0 and project.status is ProjectStatus.ACTIVE:
        return [Fact("project_past_target", "bad", params)]
    if 0 <= days <= TARGET_HORIZON.days:
        return [Fact("project_target", "deadline", params)]
    return []


def call_suggestion(project: Project, period_start: datetime, period_end: datetime, now: datetime) -> list[Fact]:
    """Offer a call when the client's profile prefers phone or meetings (principle 8)."""
    channel = project.client.preferred_channel
    if channel not in (PreferredChannel.PHONE, PreferredChannel.MEETING):
        return []
    return [Fact("call_suggested", "note", {"channel": channel.value, "manager": project.manager.display_name})]
