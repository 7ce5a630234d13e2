"""Send the weekly updates that are due: the database, not the scheduler, decides what is due.

Each project's weekly update has a unique key (project, ISO year, ISO week of its time
zone). The dispatcher inserts that row *first*, then composes, writes the week's
expectation note and queues the emails, and commits all of it in one transaction per
project. A second dispatcher (thread or process) that reaches the same week either
sees the row and skips it, or fails on the unique key (PostgreSQL makes it wait for the
first one's commit) and skips it; a crash rolls everything back and the next run does
the week again. So nothing is sent twice and nothing is lost. After downtime, every
missed week since the last update is sent once, oldest first, marked late.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol, cast

from flask import current_app
from flask_babel import force_locale
from markupsafe import Markup
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import joinedload

from portal import activity
from portal.expectations.service import write_weekly_note
from portal.extensions import db
from portal.models import (
    ActivityEvent,
    Client,
    Project,
    ProjectStatus,
    Update,
    UpdateKind,
    UpdateStatus,
    WeeklyNote,
)
from portal.notify.service import queue_email
from portal.updates.service import client_members
from portal.urls import portal_url
from portal.weekly.facts import Fact, compose, group_facts, is_quiet
from portal.weekly.slots import WeekSlot, current_week, late_after, latest_slot, shift_week, slot_for, weeks_between

log = logging.getLogger(__name__)


def max_catch_up_weeks() -> int:
    """Return how many missed weeks a project catches up at most (PORTAL_WEEKLY_MAX_CATCH_UP_WEEKS, default 6)."""
    return max(1, int(current_app.config.get("WEEKLY_MAX_CATCH_UP_WEEKS", 6)))


@dataclass(frozen=True)
class DueWeekly:
    """One weekly update to send: which project, which week, which period it covers."""

    project_id: int
    iso_year: int
    iso_week: int
    week_of: date
    period_start: datetime
    period_end: datetime
    late: bool

    @property
    def label(self) -> str:
        """Return the week as ``2026-W11``."""
        return f"{self.iso_year}-W{self.iso_week:02d}"


@dataclass
class DispatchReport:
    """What one run of the dispatcher did."""

    sent: int = 0
    late: int = 0
    emails: int = 0
    skipped: int = 0  # another dispatcher had it
    busy: int = 0  # the database was locked; the next run tries again
    failed: int = 0  # an error; rolled back, the next run tries again
    weeks: list[str] = field(default_factory=list)


# --- What is due ---------------------------------------------------------------------------


def due_weeklies(now: datetime, *, project_id: int | None = None, force: bool = False) -> list[DueWeekly]:
    """Return every weekly update due at ``now``, oldest week first per project.

    Active projects of active clients, at their weekday and hour in their time zone.
    A project that never had one gets the latest week only; one that had gets each
    week since, up to PORTAL_WEEKLY_MAX_CATCH_UP_WEEKS. ``force`` also sends the
    current week's update before its slot (the CLI's ``--now``).
    """
    last = (
        select(
            Update.project_id.label("project_id"),
            func.max(Update.period_end).label("last_end"),
            func.max(Update.iso_year * 100 + Update.iso_week).label("last_key"),
        )
        .where(Update.kind == UpdateKind.WEEKLY)
        .group_by(Update.project_id)
        .subquery()
    )
    query = (
        select(
            Project.id,
            Project.timezone,
            Project.weekly_weekday,
            Project.weekly_hour,
            Project.created_at,
            last.c.last_end,
            last.c.last_key,
        )
        .join(Client, Client.id == Project.client_id)
        .outerjoin(last, last.c.project_id == Project.id)
        .where(Project.status == ProjectStatus.ACTIVE, Project.archived_at.is_(None), Client.archived_at.is_(None))
        .order_by(Project.id)
    )
    if project_id is not None:
        query = query.where(Project.id == project_id)
    due: list[DueWeekly] = []
    cap = max_catch_up_weeks()
    grace = late_after()
    for row in db.session.execute(query):
        slots = _due_slots(row, now, cap)
        if len(slots) > 1:
            slots = _since_reactivation(row.id, slots)
        forced_key = None
        if force:
            current = current_week(row, now)
            sent = divmod(row.last_key, 100) if row.last_key else None
            if (sent is None or current > sent) and all(s.key != current for s in slots):
                slots.append(slot_for(row, *current))
                forced_key = current
        previous_end = row.last_end
        for slot in slots:
            period_end = now if slot.key == forced_key else slot.at
            period_start = previous_end if previous_end is not None and previous_end < period_end else period_end - timedelta(days=7)
            due.append(
                DueWeekly(
                    project_id=row.id,
                    iso_year=slot.iso_year,
                    iso_week=slot.iso_week,
                    week_of=slot.local_date,
                    period_start=period_start,
                    period_end=period_end,
                    late=slot.key != forced_key and now - slot.at > grace,
                )
            )
            previous_end = period_end
    return due


def _due_slots(row, now: datetime, cap: int) -> list[WeekSlot]:
    """Return the slots of ``row``'s project due at ``now`` and not sent yet, oldest first."""
    latest = latest_slot(row, now)
    if latest.at <= row.created_at:
        return []
    if not row.last_key:
        return [latest]
    sent = divmod(row.last_key, 100)
    if latest.key <= sent:
        return []
    earliest_allowed = shift_week(*latest.key, -cap)
    return [s for s in weeks_between(row, max(sent, earliest_allowed), latest) if s.at > row.created_at]


def _since_reactivation(project_id: int, slots: list[WeekSlot]) -> list[WeekSlot]:
    """Drop missed weeks from before the project was last made active again (on hold, archived).

    Catch-up is for the dispatcher's downtime, not for weeks the project was paused;
    the latest week is always kept.
    """
    events = db.session.execute(
        select(ActivityEvent.created_at, ActivityEvent.verb, ActivityEvent.data).where(
            ActivityEvent.project_id == project_id,
            ActivityEvent.verb.in_(("project.updated", "project.restored")),
            ActivityEvent.created_at > slots[0].at - timedelta(days=7),
        )
    ).all()
    resumed = [at for at, verb, data in events if verb == "project.restored" or "status" in (data or {}).get("fields", [])]
    if not resumed:
        return slots
    since = max(resumed)
    return [s for s in slots[:-1] if s.at > since] + [slots[-1]]


# --- Sending ---------------------------------------------------------------------------------


def dispatch_weekly(now: datetime, project_id: int | None = None, force: bool = False) -> DispatchReport:
    """Send every weekly update due at ``now`` (see ``due_weeklies``); commits once per project and week."""
    report = DispatchReport()
    items = due_weeklies(now, project_id=project_id, force=force)
    db.session.rollback()  # end the read transaction before the writes
    stopped: set[int] = set()  # a project's weeks go out in order: after a miss, its later weeks wait for the next run
    for item in items:
        if item.project_id in stopped:
            continue
        try:
            emails = send_weekly(item, now)
        except OperationalError as error:
            db.session.rollback()
            report.busy += 1
            stopped.add(item.project_id)
            log.warning("weekly %s of project %s: database busy, next run retries (%s)", item.label, item.project_id, error.orig)
            continue
        except Exception:
            db.session.rollback()
            report.failed += 1
            stopped.add(item.project_id)
            log.exception("weekly %s of project %s failed; the next run retries", item.label, item.project_id)
            continue
        if emails is None:
            report.skipped += 1
            stopped.add(item.project_id)
            continue
        report.sent += 1
        report.late += int(item.late)
        report.emails += emails
        report.weeks.append(f"{item.project_id}:{item.label}")
    return report


def send_weekly(item: DueWeekly, now: datetime) -> int | None:
    """Claim, compose, record and queue one weekly update, and commit; None if another dispatcher had it.

    Returns the number of emails queued.
    """
    project = db.session.scalar(
        select(Project).where(Project.id == item.project_id).options(joinedload(Project.client), joinedload(Project.manager))
    )
    if project is None:
        return None
    claim = Update(
        project_id=project.id,
        kind=UpdateKind.WEEKLY,
        status=UpdateStatus.PUBLISHED,
        title="",
        iso_year=item.iso_year,
        iso_week=item.iso_week,
        week_of=item.week_of,
        period_start=item.period_start,
        period_end=item.period_end,
        late=item.late,
        published_at=now,
        created_at=now,
        updated_at=now,
        facts=[],
    )
    db.session.add(claim)
    try:
        db.session.flush()  # the claim: insert first, compose after
    except IntegrityError:
        db.session.rollback()
        log.info("weekly %s of project %s was sent by another dispatcher", item.label, item.project_id)
        return None

    facts = compose(project, item.period_start, item.period_end, now)
    claim.facts = [fact.to_json() for fact in facts]
    claim.suggests_call = any(fact.kind == "call_suggested" for fact in facts)
    _take_notes(claim, facts)
    write_weekly_note(
        project,
        iso_year=item.iso_year,
        iso_week=item.iso_week,
        week_of=item.week_of,
        period_start=item.period_start,
        period_end=item.period_end,
        now=now,
    )
    activity.record(None, "update.weekly_sent", claim, project=project, data={"week": item.label, "late": item.late})

    link = portal_url("updates.show", project_id=project.id, update_id=claim.id)
    groups = group_facts(claim.facts)
    quiet = is_quiet(claim.facts)
    recipients = client_members(project, weekly=True)
    manager = project.manager
    if manager.active and manager.notify_weekly:
        recipients.append(manager)
    rendered: dict[str, tuple[Markup, Markup]] = {}  # the facts are the same for everyone: render them once per language
    queued = 0
    for recipient in recipients:
        language = recipient.language or current_app.config["DEFAULT_LANGUAGE"]
        if language not in rendered:
            rendered[language] = render_weekly_facts(groups, language)
        facts_text, facts_html = rendered[language]
        email = queue_email(
            recipient,
            kind="weekly",
            key=f"weekly:{project.id}:{item.label}:{recipient.id}",
            template="emails/weekly_update.html",
            project=project,
            update=claim,
            quiet=quiet,
            facts_text=facts_text,
            facts_html=facts_html,
            link=link,
            is_copy=recipient.is_staff,
        )
        queued += email is not None
    db.session.commit()
    return queued


def render_weekly_facts(groups: list[tuple[str, list[dict[str, Any]]]], language: str) -> tuple[Markup, Markup]:
    """Render the grouped facts of a weekly update for an email in ``language``: (text part, HTML part).

    Both are escaped HTML, as every block of an email template is: ``render_email``
    unescapes the text part once.
    """
    # Jinja adds a template's macros to its module at runtime; its type declares none.
    macros = cast(_FactMacros, current_app.jinja_env.get_template("weekly/_facts.html").module)
    with force_locale(language):
        # The macros' output was escaped by Jinja (an autoescaped .html template): Markup only
        # keeps it from being escaped a second time.
        text = Markup(macros.weekly_email_text(groups).strip("\n"))  # noqa: S704
        html = Markup(macros.weekly_email_html(groups))  # noqa: S704
    return text, html


class _FactMacros(Protocol):
    """The macros of ``weekly/_facts.html`` that render the facts of a weekly email."""

    def weekly_email_text(self, groups: list[tuple[str, list[dict[str, Any]]]]) -> str:
        """Return the text part's facts (escaped HTML)."""
        ...

    def weekly_email_html(self, groups: list[tuple[str, list[dict[str, Any]]]]) -> str:
        """Return the HTML part's facts."""
        ...


def _take_notes(claim: Update, facts: list[Fact]) -> None:
    """Mark the personal notes this update carries as sent (only the version that was composed)."""
    for fact in facts:
        if fact.kind != "manager_note":
            continue
        db.session.execute(
            update(WeeklyNote)
            .where(
                WeeklyNote.id == fact.params["note_id"],
                WeeklyNote.update_id.is_(None),
                WeeklyNote.version == fact.params["version"],
            )
            .values(update_id=claim.id)
        )
