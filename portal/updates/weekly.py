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

``manager_note`` and ``manual_updates`` read a whole batch of projects in one query each
(``batch_provider``); the others only read the project (its client and manager loaded with it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
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
from portal.weekly.facts import Fact, Period, batch_provider

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


@batch_provider
def manager_note(periods: Sequence[Period]) -> list[list[Fact]]:
    """Return the personal note staff added for this update, if any (one query for the batch)."""
    found: dict[int, list[WeeklyNote]] = defaultdict(list)
    for note in db.session.scalars(
        select(WeeklyNote)
        .where(WeeklyNote.project_id.in_(sorted({p.project.id for p in periods})), WeeklyNote.update_id.is_(None))
        .options(joinedload(WeeklyNote.author))
        .order_by(WeeklyNote.id)
    ):
        found[note.project_id].append(note)
    return [
        [
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
            for note in found.get(period.project.id, [])
        ]
        for period in periods
    ]


@batch_provider
def manual_updates(periods: Sequence[Period]) -> list[list[Fact]]:
    """Return the manual updates published in the period, with their blockers, done, next and needs (one query for the batch)."""
    found: dict[int, list[Update]] = defaultdict(list)
    for update in db.session.scalars(
        select(Update)
        .where(
            Update.project_id.in_(sorted({p.project.id for p in periods})),
            Update.kind == UpdateKind.MANUAL,
            Update.status == UpdateStatus.PUBLISHED,
            Update.published_at >= min(p.period_start for p in periods),
            Update.published_at < max(p.period_end for p in periods),
        )
        .options(joinedload(Update.author))
        .order_by(Update.published_at, Update.id)
    ):
        found[update.project_id].append(update)
    results = []
    for period in periods:
        facts = []
        for update in found.get(period.project.id, []):
            if update.published_at is None or not period.period_start <= update.published_at < period.period_end:
                continue
            link = portal_path("updates.show", project_id=period.project.id, update_id=update.id)
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
        results.append(facts)
    return results


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
