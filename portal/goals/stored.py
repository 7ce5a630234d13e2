"""Stored goal progress: the dashboards read each agreed goal's status instead of computing it.

A goal's status on a day (on track, at risk, off track…) depends on its agreed terms, its
latest check-in and the day itself: the expected value moves every day. Computing it for
every goal of an agency on every home page (an admin sees thousands) was most of the
staff home's time. So each agreed goal keeps its status, its behind-plan percentage and
the day they hold for (``Goal.progress_*``):

- **Written** by :func:`refresh` — the scheduler's ``refresh_goal_progress`` job every
  few minutes (each project's new local day included), and ``flask portal
  refresh-goal-progress`` — for the goals that are not fresh, locked while computed so a
  check-in committed meanwhile is never overwritten by an older answer.
- **Cleared** in the same transaction as anything that changes it: a check-in added,
  changed or removed, a goal's state or agreed revision changed (:func:`_clear_changed`,
  a session hook), so a stored value is never older than the goal.
- **Read** by :func:`statuses` for the dashboards: what is fresh (stored for the
  project's today) comes from the row; the projects with any goal not fresh are computed
  on the spot by :func:`~portal.goals.progress.statuses_for_projects`, exactly as before.
  The answer is always the computed one; storing only makes it cheap. The staff home's
  "goals off track" (:func:`portal.goals.attention.off_track`) reads the same rows in SQL,
  with a LIMIT and a count, under the same rule for what is not fresh.

Thresholds come from the configuration at the time of the refresh; a change of
``PORTAL_GOAL_*`` thresholds reaches stored statuses at the next day change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, event, or_, select, update
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.goals.progress import GoalStatus, ProgressStatus, statuses_for_projects
from portal.models import Goal, GoalCheckIn, GoalRevision, GoalState, Project
from portal.timeutil import local_today

REFRESH_BATCH = 500  # projects per transaction of a refresh


def _by_day(project_ids: Iterable[int], todays: dict[int, date]) -> dict[date, list[int]]:
    by_day: dict[date, list[int]] = {}
    for project_id in project_ids:
        by_day.setdefault(todays[project_id], []).append(project_id)
    return by_day


def statuses(project_ids: Iterable[int], todays: dict[int, date], *, only: ProgressStatus | None = None) -> list[GoalStatus]:
    """Return the status of every agreed goal of the projects on each one's day, ordered by goal id.

    The same answer as ``statuses_for_projects(project_ids, todays, states=(AGREED,))``
    (``only`` keeps one status): stored rows where fresh, computed for the projects where
    any goal is not. One query per distinct day, plus the computation of stale projects.
    """
    found: list[GoalStatus] = []
    stale: set[int] = set()
    for day, ids in sorted(_by_day(project_ids, todays).items()):
        query = (
            select(
                Goal.id,
                Goal.project_id,
                Goal.progress_on,
                Goal.progress_status,
                Goal.progress_behind,
                Goal.progress_measured_on,
                GoalRevision.title,
                GoalRevision.measure,
            )
            .outerjoin(GoalRevision, and_(GoalRevision.goal_id == Goal.id, GoalRevision.number == Goal.agreed_number))
            .where(Goal.project_id.in_(ids), Goal.state == GoalState.AGREED)
        )
        if only is not None:  # the wanted status, and every row that is not fresh (it may turn out to have it)
            query = query.where(or_(Goal.progress_status == only.value, Goal.progress_on.is_(None), Goal.progress_on != day))
        for goal_id, project_id, on, status, behind, measured_on, title, measure in db.session.execute(query):
            if on != day or status is None:
                stale.add(project_id)
                continue
            found.append(
                GoalStatus(
                    goal_id=goal_id,
                    project_id=project_id,
                    on=day,
                    status=ProgressStatus(status),
                    title=title if measure is not None else None,
                    behind_percent=behind,
                    measured_on=measured_on,
                )
            )
    if stale:
        found = [s for s in found if s.project_id not in stale]
        computed = statuses_for_projects(sorted(stale), {p: todays[p] for p in stale}, states=(GoalState.AGREED,))
        found += [s for s in computed if only is None or s.status is only]
    found.sort(key=lambda s: s.goal_id)
    return found


def refresh(now: datetime, *, batch: int = REFRESH_BATCH) -> int:
    """Store the status of every agreed goal that is not fresh for its project's today; return how many were stored.

    Works a batch of projects per transaction (each committed), per time zone.
    """
    stored = 0
    zones = db.session.scalars(select(Project.timezone).distinct()).all()
    for zone in zones:
        today = local_today(zone, now)
        while True:
            ids = db.session.scalars(
                select(Goal.project_id)
                .join(Project, Project.id == Goal.project_id)
                .where(
                    Project.timezone == zone,
                    Goal.state == GoalState.AGREED,
                    or_(Goal.progress_on.is_(None), Goal.progress_on != today),
                )
                .distinct()
                .order_by(Goal.project_id)
                .limit(batch)
            ).all()
            if not ids:
                break
            stored += _store(list(ids), today)
            db.session.commit()
            if len(ids) < batch:
                break
    db.session.commit()
    return stored


def _store(project_ids: list[int], today: date) -> int:
    """Compute and store the agreed goals' statuses of ``project_ids`` on ``today`` (the caller commits)."""
    # Lock the rows first (PostgreSQL; SQLite serialises writers): a check-in committed while we
    # compute waits for us and then clears what we stored, instead of being overwritten by it.
    db.session.execute(
        select(Goal.id).where(Goal.project_id.in_(project_ids), Goal.state == GoalState.AGREED).with_for_update()
    ).all()
    computed = statuses_for_projects(project_ids, dict.fromkeys(project_ids, today), states=(GoalState.AGREED,))
    if not computed:
        return 0
    rows: list[dict[str, Any]] = [
        {"goal": s.goal_id, "status": s.status.value, "behind": s.behind_percent, "on": s.on, "measured": s.measured_on} for s in computed
    ]
    goals = cast(Table, Goal.__table__)  # a Core executemany: one statement for the batch, no ORM objects, no version bump
    db.session.execute(
        goals.update()
        .where(goals.c.id == bindparam("goal"))
        .values(progress_status=bindparam("status"), progress_behind=bindparam("behind"), progress_on=bindparam("on"),
                progress_measured_on=bindparam("measured")),
        rows,
    )
    return len(rows)


# --- Clearing: in the transaction of whatever changes a goal's progress ------------------------


def _changed_goal_ids(session: Session) -> set[int]:
    """Return the goals whose progress the flush under way changes (its check-ins, state, revisions)."""
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, GoalCheckIn | GoalRevision) and obj.goal_id is not None:
            ids.add(obj.goal_id)
        elif isinstance(obj, Goal) and obj.id is not None and obj not in session.new:
            ids.add(obj.id)  # its state, agreed revision or version: cheap to clear on any change
    return ids


def _clear_changed(session: Session, _context: object) -> None:
    """After a flush (ids assigned, the lists still those of the flush): clear what it changed, in its transaction."""
    ids = _changed_goal_ids(session)
    if ids:
        session.execute(update(Goal).where(Goal.id.in_(ids)).values(progress_on=None), execution_options={"synchronize_session": False})


def init_app() -> None:
    """Clear a goal's stored progress whenever a flush changes what it depends on (listened once per process)."""
    if not event.contains(Session, "after_flush", _clear_changed):
        event.listen(Session, "after_flush", _clear_changed)
