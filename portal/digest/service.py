"""The daily digest: one email a day per client, at their hour in their time zone, of what waits on them.

What waits on a client is what their home lists (``portal.attention.client_items``), kept to
what they can act on: versions to review and goals to sign or close (approvers only),
assumptions to answer, and asset requests due within ``DUE_SOON_DAYS`` days or overdue.

- **At their hour.** The scheduler runs :func:`send_digests` every few minutes; a person's
  digest goes once their local hour reaches ``User.digest_hour``; after downtime up to
  ``CATCH_UP_HOURS`` late, never at night for a morning's digest.
- **At most one a day.** The outbox key names the person and their local day: a second
  run, a second scheduler process or a restart queues nothing more that day.
- **Nothing when nothing waits**, and nothing for deactivated people, people who turned
  activity emails off, or people who no longer see any current project.
- **A firmer schedule** (``Project.client_reminders`` = firm): in the afternoon
  (``FOLLOW_UP_HOUR``, the person's time) a short second reminder lists that project's
  items still due that day or overdue, on the days there are some, once the morning's
  digest went out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload

from portal.access import visible_projects
from portal.attention import ClientItem, client_items, client_labels
from portal.extensions import db
from portal.models import Client, Project, ProjectMember, ProjectStatus, Role, User
from portal.models.projects import ClientReminders
from portal.notify.service import queue_email, queued_keys
from portal.timeutil import local_today, project_todays, utcnow, zone_named
from portal.urls import portal_url

DUE_SOON_DAYS = 2  # asset requests appear from this many days before their due date, and every day once overdue
FOLLOW_UP_HOUR = 15  # the firm schedule's afternoon reminder, in each person's time zone
CATCH_UP_HOURS = 6  # after downtime a digest still goes this many hours late; later, tomorrow's lists it all
# The kinds of the client's home that are theirs to act on; weekly updates to answer have their own email.
KINDS = ("review", "sign", "assumption", "closure", "asset")


@dataclass(frozen=True)
class DigestItem:
    """One thing that waits on the person: what, due when (the project's calendar day), and its absolute link."""

    kind: str
    title: str
    url: str
    due: date | None = None
    overdue: bool = False
    returned: bool = False  # an asset request sent back with a note


@dataclass(frozen=True)
class ProjectItems:
    """What waits on the person in one project, the most pressing first."""

    project: Project
    items: list[DigestItem]


@dataclass
class DigestReport:
    """What one run queued."""

    digests: int = 0
    follow_ups: int = 0


def digest_key(user: User, day: date) -> str:
    """Return the outbox key of ``user``'s digest of ``day`` (their local calendar day)."""
    return f"digest:{user.id}:{day.isoformat()}"


def follow_up_key(user: User, day: date) -> str:
    """Return the outbox key of ``user``'s afternoon reminder of ``day``."""
    return f"digest-follow-up:{user.id}:{day.isoformat()}"


def local_hour(user: User, now: datetime) -> int:
    """Return the hour it is for ``user`` (in their time zone)."""
    return now.astimezone(zone_named(user.timezone)).hour


def recipients() -> list[User]:
    """Return the people a digest may go to: active clients who want activity emails and belong to a project (one query)."""
    member = exists().where(ProjectMember.user_id == User.id)
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.CLIENT, User.active.is_(True), User.notify_activity.is_(True), User.client_id.is_not(None), member)
            .order_by(User.id)
        )
    )


def current_projects(user: User) -> list[Project]:
    """Return the projects ``user`` sees whose work goes on: not completed, archived, or of an archived client (one query)."""
    return list(
        db.session.scalars(
            visible_projects(user)
            .join(Client, Client.id == Project.client_id)
            .where(Project.status != ProjectStatus.COMPLETED, Client.archived_at.is_(None))
            .options(joinedload(Project.client))
            .order_by(Project.name, Project.id)
        )
    )


@contextmanager
def _written_for(user: User) -> Iterator[None]:
    """Build links and titles as a request in ``user``'s language would (the attention providers use ``url_for`` and ``gettext``)."""
    with current_app.test_request_context("/", base_url=current_app.config["BASE_URL"]), force_locale(_language(user)):
        yield


def _language(user: User) -> str:
    return user.language or current_app.config["DEFAULT_LANGUAGE"]


def _absolute(path: str) -> str:
    """Return the portal path ``path`` (with the base URL's own path, as ``url_for`` built it) as an absolute link."""
    base = urlsplit(current_app.config["BASE_URL"])
    return f"{base.scheme or 'https'}://{base.netloc}{path}"


def _is_pressing(item: ClientItem, today: date) -> bool:
    """Tell whether a home item belongs in the digest: the person's to act on, and for asset requests, due soon or overdue."""
    if item.kind not in KINDS or not item.yours:
        return False
    if item.kind == "asset":
        return item.due is not None and item.due <= today + timedelta(days=DUE_SOON_DAYS)
    return True


def waiting_on(user: User, now: datetime, projects: Sequence[Project] | None = None) -> list[ProjectItems]:
    """Return what waits on ``user`` (a client) across their current projects, grouped by project, overdue and soonest due first.

    Titles are in the user's language. A constant number of queries, however many projects and items.
    """
    projects = current_projects(user) if projects is None else list(projects)
    if not projects:
        return []
    todays = project_todays(projects, now)
    with _written_for(user):
        found = [item for item in client_items(user, projects, now) if _is_pressing(item, todays[item.project.id])]
        converted = [
            (
                item.project,
                DigestItem(item.kind, item.title, _absolute(item.url), item.due, item.overdue, item.returned),
            )
            for item in found
        ]
    by_project: dict[int, list[DigestItem]] = {}
    for project, item in converted:
        by_project.setdefault(project.id, []).append(item)
    groups = []
    for project in projects:
        items = by_project.get(project.id)
        if items:
            # Stable: within equal dates the home's order (oldest first) stays.
            items.sort(key=lambda i: (not i.overdue, i.due is None, i.due or date.max))
            groups.append(ProjectItems(project, items))
    return groups


def _due_by(groups: list[ProjectItems], now: datetime) -> list[ProjectItems]:
    """Return the items of the firm projects in ``groups`` due by their project's today (due today or overdue)."""
    kept = []
    for group in groups:
        if group.project.client_reminders is not ClientReminders.FIRM:
            continue
        today = local_today(group.project.timezone, now)
        items = [item for item in group.items if item.due is not None and item.due <= today]
        if items:
            kept.append(ProjectItems(group.project, items))
    return kept


def _queue(user: User, *, kind: str, key: str, groups: list[ProjectItems], follow_up: bool) -> bool:
    """Queue one digest email (or afternoon reminder) for ``user``; return whether it was queued."""
    email = queue_email(
        user,
        kind=kind,
        key=key,
        template="emails/digest.html",
        groups=groups,
        count=sum(len(g.items) for g in groups),
        follow_up=follow_up,
        labels=client_labels(),  # the home page's names of the kinds
        hour=f"{user.digest_hour:02d}:00",
        home_url=portal_url("home.index"),
        settings_url=portal_url("account.settings"),
    )
    return email is not None


def _in_window(hour: int, start: int) -> bool:
    """Tell whether the local ``hour`` is within the catch-up window of an email due at ``start``, the same day."""
    return start <= hour < start + CATCH_UP_HOURS


def send_digests(now: datetime | None = None) -> DigestReport:
    """Queue the digests (and firm afternoon reminders) that are due at ``now``; the caller commits.

    A person's digest is due from their digest hour on, for ``CATCH_UP_HOURS`` hours, if
    today's was not queued yet; the outbox keys make any re-run the same day queue nothing.
    """
    now = now or utcnow()
    report = DigestReport()
    due: list[tuple[User, date, bool]] = []  # (person, their calendar day, afternoon reminder due)
    for user in recipients():
        hour = local_hour(user, now)
        follow_up_due = user.digest_hour < FOLLOW_UP_HOUR and _in_window(hour, FOLLOW_UP_HOUR)
        if _in_window(hour, user.digest_hour) or follow_up_due:
            due.append((user, local_today(user.timezone, now), follow_up_due))
    if not due:
        return report
    sent = queued_keys([digest_key(user, day) for user, day, _f in due] + [follow_up_key(user, day) for user, day, follow_up in due if follow_up])
    for user, day, follow_up_due in due:
        digest_sent = digest_key(user, day) in sent
        # The afternoon reminder follows a digest of an earlier run: never two emails at once.
        wants_follow_up = follow_up_due and digest_sent and follow_up_key(user, day) not in sent
        if digest_sent and not wants_follow_up:
            continue
        if not digest_sent and not _in_window(local_hour(user, now), user.digest_hour):
            continue  # the afternoon, and no digest went this morning: nothing waited then
        groups = waiting_on(user, now)
        if not digest_sent:
            if groups and _queue(user, kind="digest", key=digest_key(user, day), groups=groups, follow_up=False):
                report.digests += 1
            continue
        pressing = _due_by(groups, now)
        if pressing and _queue(user, kind="digest_follow_up", key=follow_up_key(user, day), groups=pressing, follow_up=True):
            report.follow_ups += 1
    return report
