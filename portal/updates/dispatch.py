"""Send the weekly updates that are due: the database, not the scheduler, decides what is due.

Each project's weekly update has a unique key (project, ISO year, ISO week of its time
zone). The dispatcher works in batches of projects (``PORTAL_WEEKLY_BATCH_SIZE``, default
200): it inserts the batch's update rows *first* (``INSERT … ON CONFLICT DO NOTHING
RETURNING``: the rows another dispatcher already has are simply not returned), then
composes every claimed week from each fact provider in a constant number of queries for
the whole batch, writes the expectation notes, the activity events and the emails in bulk,
and commits the batch in one transaction. A second dispatcher (thread or process) that
reaches the same week either does not get its row (PostgreSQL makes it wait for the first
one's commit) and skips it; on PostgreSQL each dispatcher also takes a transaction-level
advisory lock per project with ``pg_try_advisory_xact_lock`` before claiming, so it skips
the projects another dispatcher is composing right now instead of waiting for them, and
several dispatchers share the work. A crash rolls the uncommitted batch back and the next
run does those weeks again. A batch that fails is done again one project at a time, so
one broken project does not hold up the others. So nothing is sent twice and nothing is
lost. After downtime, every missed week since the last update is sent once, oldest first,
marked late: a batch holds one week per project, the next week of each project goes in a
later batch, after the week before it was committed.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol, cast

from flask import current_app
from flask_babel import force_locale
from markupsafe import Markup
from sqlalchemy import Table, bindparam, func, insert, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import joinedload

from portal import activity
from portal.extensions import db
from portal.models import (
    ActivityEvent,
    Client,
    ExpectationNote,
    NoteSource,
    OutboxEmail,
    Project,
    ProjectMember,
    ProjectStatus,
    Role,
    Update,
    UpdateKind,
    UpdateStatus,
    User,
    Visibility,
    WeeklyNote,
)
from portal.notify.service import email_values, queued_keys
from portal.templating import fact_href
from portal.updates import answers
from portal.urls import portal_url
from portal.weekly.facts import Fact, Period, compose_many, expectation_facts, group_facts, is_quiet, sentences_for
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

ADVISORY_NAMESPACE = 0x5EED  # first key of the dispatchers' advisory locks on PostgreSQL (the second: the project id)
_WEEK_KEY = ("project_id", "iso_year", "iso_week")  # the weekly update's unique key


def batch_size() -> int:
    """Return how many projects one transaction of the dispatch covers (PORTAL_WEEKLY_BATCH_SIZE, default 200)."""
    return max(1, int(current_app.config.get("WEEKLY_BATCH_SIZE", 200)))


def dispatch_weekly(now: datetime, project_id: int | None = None, force: bool = False) -> DispatchReport:
    """Send every weekly update due at ``now`` (see ``due_weeklies``); commits once per batch of projects."""
    report = DispatchReport()
    items = due_weeklies(now, project_id=project_id, force=force)
    db.session.rollback()  # end the read transaction before the writes
    stopped: set[int] = set()  # a project's weeks go out in order: after a miss, its later weeks wait for the next run
    size = batch_size()
    for round_items in _rounds(items):
        pending = [item for item in round_items if item.project_id not in stopped]
        for start in range(0, len(pending), size):
            _dispatch(pending[start : start + size], now, report, stopped)
    return report


def _rounds(items: list[DueWeekly]) -> list[list[DueWeekly]]:
    """Split the due weeks into rounds: each project's oldest week in the first, its next one in the second…

    A batch then holds one week per project, and a project's next week is composed after
    the week before it was committed (it sees that week's update, its notes taken).
    """
    rounds: list[list[DueWeekly]] = []
    seen: dict[int, int] = {}
    for item in items:
        n = seen.get(item.project_id, 0)
        seen[item.project_id] = n + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(item)
    return rounds


def _dispatch(batch: list[DueWeekly], now: datetime, report: DispatchReport, stopped: set[int]) -> None:
    """Send one batch and count what happened; a failing batch is sent again one project at a time."""
    try:
        outcome = send_batch(batch, now)
    except OperationalError as error:
        db.session.rollback()
        report.busy += len(batch)
        stopped.update(item.project_id for item in batch)
        log.warning("weekly batch of %d projects from project %s: database busy, next run retries (%s)", len(batch), batch[0].project_id, error.orig)
        return
    except Exception:
        db.session.rollback()
        if len(batch) > 1:
            log.warning("weekly batch of %d projects from project %s failed; sending them one by one", len(batch), batch[0].project_id)
            for item in batch:
                _dispatch([item], now, report, stopped)
            return
        [item] = batch
        report.failed += 1
        stopped.add(item.project_id)
        log.exception("weekly %s of project %s failed; the next run retries", item.label, item.project_id)
        return
    for item in batch:
        emails = outcome[item]
        if emails is None:
            report.skipped += 1
            stopped.add(item.project_id)
            continue
        report.sent += 1
        report.late += int(item.late)
        report.emails += emails
        report.weeks.append(f"{item.project_id}:{item.label}")


def send_weekly(item: DueWeekly, now: datetime) -> int | None:
    """Claim, compose, record and queue one weekly update, and commit; None if another dispatcher had it.

    Returns the number of emails queued.
    """
    return send_batch([item], now)[item]


def send_batch(items: Sequence[DueWeekly], now: datetime) -> dict[DueWeekly, int | None]:
    """Claim, compose, record and queue the weekly updates of ``items`` (one week per project), and commit them together.

    Returns the number of emails queued per item, None for the items another dispatcher
    had. A constant number of statements whatever the number of items (see the module's
    docstring for why two dispatchers never send a week twice). Everything written carries
    the moment ``now``, as the update's ``published_at`` does: its note, its activity event
    and its emails.
    """
    outcome: dict[DueWeekly, int | None] = dict.fromkeys(items)
    if len({item.project_id for item in items}) != len(items):
        raise ValueError("a batch holds one week per project")
    with db.session.no_autoflush:  # nothing composing reads needs what is pending: no flush before each query
        projects = {
            project.id: project
            for project in db.session.scalars(
                select(Project)
                .where(Project.id.in_(sorted(item.project_id for item in items)))
                .options(joinedload(Project.client), joinedload(Project.manager))
            ).unique()
        }
        claims = _claim([item for item in items if item.project_id in projects], now)
        claimed = [item for item in items if item.project_id in claims]
        if not claimed:
            db.session.rollback()  # ends the transaction, and with it any advisory lock
            return outcome
        periods = [Period(projects[item.project_id], item.period_start, item.period_end, now) for item in claimed]
        composed = compose_many(periods)
        stored = [[fact.to_json() for fact in facts] for facts in composed]
        db.session.execute(
            update(Update),
            [
                {
                    "id": claims[item.project_id],
                    "facts": facts,
                    "suggests_call": any(f["kind"] == "call_suggested" for f in facts),
                    "updated_at": now,
                }
                for item, facts in zip(claimed, stored, strict=True)
            ],
        )
        _take_notes([(claims[item.project_id], facts) for item, facts in zip(claimed, composed, strict=True)])
        _write_notes(claimed, periods)
        activity.record_many(
            [
                {
                    "verb": "update.weekly_sent",
                    "object_type": "update",
                    "object_id": claims[item.project_id],
                    "project_id": item.project_id,
                    "client_id": projects[item.project_id].client_id,
                    "data": {"week": item.label, "late": item.late},
                    "created_at": now,
                }
                for item in claimed
            ]
        )
        queued = _queue_emails(claimed, projects, claims, stored, now)
    db.session.commit()
    for item in claimed:
        outcome[item] = queued.get(item, 0)
    return outcome


def _claim(items: Sequence[DueWeekly], now: datetime) -> dict[int, int]:
    """Insert the update rows of ``items``: return project id -> update id of the rows this dispatcher got.

    The unique key (project, ISO year, ISO week) decides: a row another dispatcher already
    inserted is not returned (on PostgreSQL, the insert waits for that dispatcher's commit
    or rollback first). On PostgreSQL the projects another dispatcher is working on are
    skipped before that, without waiting: each claim takes a transaction-level advisory
    lock per project, which only one transaction can hold.
    """
    if not items:
        return {}
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        free = set(
            db.session.scalars(
                text("SELECT p FROM unnest(CAST(:ids AS integer[])) AS p WHERE pg_try_advisory_xact_lock(:namespace, p)"),
                {"ids": [item.project_id for item in items], "namespace": ADVISORY_NAMESPACE},
            )
        )
        items = [item for item in items if item.project_id in free]
        if not items:
            return {}
    rows = [_claim_row(item, now) for item in items]
    insert_: Any = None
    if dialect == "postgresql":
        insert_ = postgresql_insert
    elif dialect == "sqlite" and sqlite3.sqlite_version_info >= (3, 35):
        insert_ = sqlite_insert
    if insert_ is not None:
        statement = insert_(Update).values(rows).on_conflict_do_nothing(index_elements=list(_WEEK_KEY))
        return {project_id: update_id for update_id, project_id in db.session.execute(statement.returning(Update.id, Update.project_id))}
    claims = {}
    for row in rows:  # another database: one insert per week, each in a savepoint
        try:
            with db.session.begin_nested():
                claims[row["project_id"]] = db.session.execute(insert(Update).values(row).returning(Update.id)).scalar_one()
        except IntegrityError:
            log.info("weekly %s-W%02d of project %s was sent by another dispatcher", row["iso_year"], row["iso_week"], row["project_id"])
    return claims


def _claim_row(item: DueWeekly, now: datetime) -> dict[str, Any]:
    """Return the columns of a weekly update's row as claimed, before its facts are composed."""
    return {
        "project_id": item.project_id,
        "author_id": None,
        "kind": UpdateKind.WEEKLY,
        "status": UpdateStatus.PUBLISHED,
        "title": "",
        "body": "",
        "done": "",
        "next_steps": "",
        "blockers": "",
        "needs": "",
        "iso_year": item.iso_year,
        "iso_week": item.iso_week,
        "week_of": item.week_of,
        "period_start": item.period_start,
        "period_end": item.period_end,
        "late": item.late,
        "suggests_call": False,
        "published_at": now,
        "created_at": now,
        "updated_at": now,
        "facts": [],
    }


def _write_notes(items: Sequence[DueWeekly], periods: Sequence[Period]) -> None:
    """Write each claimed week's expectation note from the providers, unless written already (as ``write_weekly_note``, in bulk)."""
    written = {
        (project_id, iso_year, iso_week)
        for project_id, iso_year, iso_week in db.session.execute(
            select(ExpectationNote.project_id, ExpectationNote.iso_year, ExpectationNote.iso_week).where(
                tuple_(ExpectationNote.project_id, ExpectationNote.iso_year, ExpectationNote.iso_week).in_(
                    [(item.project_id, item.iso_year, item.iso_week) for item in items]
                )
            )
        )
    }
    todo = [(item, period) for item, period in zip(items, periods, strict=True) if (item.project_id, item.iso_year, item.iso_week) not in written]
    if not todo:
        return
    lines = expectation_facts.collect_many([period for _item, period in todo])
    db.session.execute(
        insert(ExpectationNote),
        [
            {
                "project_id": item.project_id,
                "source": NoteSource.WEEKLY,
                "visibility": Visibility.SHARED,
                "iso_year": item.iso_year,
                "iso_week": item.iso_week,
                "week_of": item.week_of,
                "facts": [fact.to_json() for fact in facts],
                "created_at": period.now,
                "updated_at": period.now,
            }
            for (item, period), facts in zip(todo, lines, strict=True)
        ],
    )


def _recipients(projects: Sequence[Project]) -> dict[int, list[User]]:
    """Return who receives each project's weekly email: its client members who want it (``client_members``), then its manager."""
    members: dict[int, list[User]] = {project.id: [] for project in projects}
    for project_id, user in db.session.execute(
        select(ProjectMember.project_id, User)
        .join(User, User.id == ProjectMember.user_id)
        .join(Project, Project.id == ProjectMember.project_id)
        .where(
            ProjectMember.project_id.in_(sorted(members)),
            User.role == Role.CLIENT,
            User.client_id == Project.client_id,
            User.active.is_(True),
            User.notify_weekly.is_(True),
        )
        .order_by(User.id)
    ):
        members[project_id].append(user)
    for project in projects:
        manager = project.manager
        if manager.active and manager.notify_weekly:
            members[project.id].append(manager)
    return members


def _queue_emails(
    items: Sequence[DueWeekly],
    projects: dict[int, Project],
    claims: dict[int, int],
    stored: Sequence[list[dict[str, Any]]],
    now: datetime,
) -> dict[DueWeekly, int]:
    """Queue every recipient's weekly email of the claimed weeks in one insert, their answer links in another; return how many per week."""
    recipients = _recipients([projects[item.project_id] for item in items])
    keys = {
        item: [(recipient, f"weekly:{item.project_id}:{item.label}:{recipient.id}") for recipient in recipients[item.project_id]]
        for item in items
    }
    taken = queued_keys(key for pairs in keys.values() for _recipient, key in pairs)
    default_language = current_app.config["DEFAULT_LANGUAGE"]
    stamped = {"created_at": now, "queued_at": now, "next_attempt_at": now}  # the moment of the update they carry
    rows: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []  # every client recipient's three answer links, stored in one statement
    queued: dict[DueWeekly, int] = {}
    for item, facts in zip(items, stored, strict=True):
        project = projects[item.project_id]
        claim = Update(  # what the email template reads of the update: never added to the session
            id=claims[item.project_id],
            project_id=project.id,
            kind=UpdateKind.WEEKLY,
            status=UpdateStatus.PUBLISHED,
            iso_year=item.iso_year,
            iso_week=item.iso_week,
            week_of=item.week_of,
            period_start=item.period_start,
            period_end=item.period_end,
            late=item.late,
            published_at=now,
            facts=facts,
        )
        link = portal_url("updates.show", project_id=project.id, update_id=claim.id)
        groups = group_facts(facts)
        quiet = is_quiet(facts)
        rendered: dict[str, tuple[Markup, Markup]] = {}  # the facts are the same for everyone: render them once per language
        count = 0
        for recipient, key in keys[item]:
            if key in taken:
                continue
            taken.add(key)
            language = recipient.language or default_language
            if language not in rendered:
                rendered[language] = render_weekly_facts(groups, language)
            facts_text, facts_html = rendered[language]
            addresses = None
            if answers.wants_links(recipient):  # the manager's copy has none: clients answer
                made, addresses = answers.link_rows(claim.id, recipient.id, now)
                links.extend(made)
            rows.append(
                email_values(
                    recipient,
                    kind="weekly",
                    key=key,
                    template="emails/weekly_update.html",
                    project=project,
                    update=claim,
                    quiet=quiet,
                    facts_text=facts_text,
                    facts_html=facts_html,
                    link=link,
                    answers=addresses,
                    is_copy=recipient.is_staff,
                )
                | stamped
            )
            count += 1
        queued[item] = count
    if rows:
        db.session.execute(insert(OutboxEmail), rows)
    answers.add_links(links)
    return queued


def render_weekly_facts(groups: list[tuple[str, list[dict[str, Any]]]], language: str) -> tuple[Markup, Markup]:
    """Render the grouped facts of a weekly update for an email in ``language``: (text part, HTML part).

    Both are escaped HTML, as every block of an email template is: ``render_email``
    unescapes the text part once.
    """
    # Jinja adds a template's macros to its module at runtime; its type declares none.
    macros = cast(_FactMacros, current_app.jinja_env.get_template("weekly/_facts.html").module)
    with force_locale(language):
        # Each fact's sentence, details and link are rendered once, for both parts.
        prepared = [(severity, [_prepared(fact, macros) for fact in items]) for severity, items in groups]
        # The macros' output was escaped by Jinja (an autoescaped .html template): Markup only
        # keeps it from being escaped a second time.
        text = Markup(macros.weekly_email_text(prepared).strip("\n"))  # noqa: S704
        html = Markup(macros.weekly_email_html(prepared))  # noqa: S704
    return text, html


def _prepared(fact: dict[str, Any], macros: _FactMacros) -> dict[str, Any]:
    """Return ``fact`` with its headline, detail lines and absolute link rendered (in the current locale)."""
    lines: list[Any] = []
    sentences = sentences_for(fact.get("kind") or "")
    if sentences is not None:
        sentences.slip_lines(fact, lines)
    return {**fact, "_headline": macros.headline(fact), "_lines": lines, "_href": fact_href(fact.get("link"), True)}


class _FactMacros(Protocol):
    """The macros of ``weekly/_facts.html`` that render the facts of a weekly email."""

    def weekly_email_text(self, groups: list[tuple[str, list[dict[str, Any]]]]) -> str:
        """Return the text part's facts (escaped HTML)."""
        ...

    def weekly_email_html(self, groups: list[tuple[str, list[dict[str, Any]]]]) -> str:
        """Return the HTML part's facts."""
        ...

    def headline(self, fact: dict[str, Any]) -> str:
        """Return the fact's sentence (escaped)."""
        ...


def _take_notes(composed: Sequence[tuple[int, list[Fact]]]) -> None:
    """Mark the personal notes each update carries as sent (only the version that was composed), in one statement."""
    taken = [
        {"note": fact.params["note_id"], "note_version": fact.params["version"], "claim": update_id}
        for update_id, facts in composed
        for fact in facts
        if fact.kind == "manager_note"
    ]
    if not taken:
        return
    notes = cast(Table, WeeklyNote.__table__)
    db.session.execute(
        notes.update()
        .where(notes.c.id == bindparam("note"), notes.c.update_id.is_(None), notes.c.version == bindparam("note_version"))
        .values(update_id=bindparam("claim")),
        taken,
    )
