"""The ICS document of one person's deadlines (RFC 5545, through the ``icalendar`` library)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event, vRecur
from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload

from portal.access import visible_projects
from portal.extensions import db
from portal.models import (
    AssetRequest,
    Deliverable,
    DeliverableStatus,
    Goal,
    GoalRevision,
    GoalState,
    Project,
    ProjectStatus,
    User,
)
from portal.models.assets import WAITING_ON_CLIENT
from portal.urls import portal_url
from portal.weekly.slots import next_slot

_ICS_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_OPEN_DELIVERABLE = (DeliverableStatus.PREPARING, DeliverableStatus.IN_REVIEW, DeliverableStatus.CHANGES_REQUESTED, DeliverableStatus.REOPENED)


def _all_day(uid: str, summary: str, day: date, url: str, stamp: datetime, description: str) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("summary", summary)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("transp", "TRANSPARENT")  # a deadline, not a meeting: it does not make the person busy
    event.add("description", description)
    event.add("url", url)
    return event


# Each dated kind: the page its event links to (endpoint, id argument).
_PAGES = {
    "deliverable": ("deliverables.show", "deliverable_id"),
    "asset-request": ("assets.show_request", "request_id"),
    "goal": ("goals.show", "goal_id"),
}


def _summary(kind: str, title: str) -> str:
    """Return the event's title for a dated item of ``kind``, in the current locale."""
    if kind == "deliverable":
        return _("Due: %(title)s", title=title)
    if kind == "asset-request":
        return _("Files due: %(title)s", title=title)
    return _("Goal target date: %(title)s", title=title)


def _dated_items(project_ids: list[int]) -> Iterator[tuple[str, int, int, str, date]]:
    """Yield (kind, id, project id, title, date) of the open, dated items of ``project_ids``: three queries."""
    if not project_ids:
        return
    terms = and_(GoalRevision.goal_id == Goal.id, GoalRevision.number == func.coalesce(Goal.agreed_number, Goal.current_number))
    queries = {
        "deliverable": select(Deliverable.id, Deliverable.project_id, Deliverable.title, Deliverable.due_date).where(
            Deliverable.project_id.in_(project_ids), Deliverable.status.in_(_OPEN_DELIVERABLE)
        ),
        "asset-request": select(AssetRequest.id, AssetRequest.project_id, AssetRequest.title, AssetRequest.due_date).where(
            AssetRequest.project_id.in_(project_ids), AssetRequest.status.in_(WAITING_ON_CLIENT)
        ),
        "goal": select(Goal.id, Goal.project_id, GoalRevision.title, GoalRevision.target_date)
        .join(GoalRevision, terms)
        .where(Goal.project_id.in_(project_ids), Goal.state.in_((GoalState.PROPOSED, GoalState.AGREED))),
    }
    for kind, query in queries.items():
        for item_id, project_id, title, day in db.session.execute(query):
            if day is not None:
                yield kind, item_id, project_id, title, day


def calendar_for(user: User, now: datetime) -> bytes:
    """Return the user's feed: what they can see and still has a date ahead of it or open, in their language.

    Five queries, however many projects and items.
    """
    host = current_app.config.get("SERVER_NAME") or "rapport"
    projects = db.session.scalars(
        visible_projects(user).where(Project.status != ProjectStatus.COMPLETED).options(joinedload(Project.client)).order_by(Project.id)
    ).all()
    by_id = {p.id: p for p in projects}
    ids = list(by_id)
    cal = Calendar()
    cal.add("prodid", "-//Rapport//Deadlines//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    with force_locale(user.language or current_app.config["DEFAULT_LANGUAGE"]):
        cal.add("x-wr-calname", _("Rapport deadlines"))
        for kind, item_id, project_id, title, day in _dated_items(ids):
            endpoint, argument = _PAGES[kind]
            page = portal_url(endpoint, **{argument: item_id})
            cal.add_component(_all_day(f"{kind}-{item_id}@{host}", _summary(kind, title), day, page, now, by_id[project_id].name))
        for project in projects:
            if project.gets_weekly_updates:
                cal.add_component(_weekly(project, now, host))
    cal.add_missing_timezones()
    return cal.to_ical()


def _weekly(project: Project, now: datetime, host: str) -> Event:
    """Return the project's weekly update as a weekly event at its slot, in its own time zone."""
    zone = ZoneInfo(project.timezone)
    first = next_slot(project, now)
    start = datetime.combine(first.local_date, time(project.weekly_hour), tzinfo=zone)
    event = Event()
    event.add("uid", f"weekly-update-{project.id}@{host}")
    event.add("dtstamp", now)
    event.add("summary", _("Weekly update: %(project)s", project=project.name))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=30))
    event.add("rrule", vRecur(freq="WEEKLY", byday=_ICS_DAYS[project.weekly_weekday]))
    event.add("transp", "TRANSPARENT")
    event.add("description", _("Rapport sends the week's progress to the client at this time."))
    event.add("url", portal_url("updates.index", project_id=project.id))
    return event
