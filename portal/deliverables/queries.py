"""Read models of deliverables: where a deliverable stands, the lists, and what the review and draft pages show."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Integer, Select, and_, cast, literal_column, null, select, union_all
from sqlalchemy.orm import joinedload, selectinload

from portal.deliverables.review import ReviewState, approvers, past_included_rounds
from portal.extensions import db
from portal.models import Project
from portal.models.deliverables import (
    Decision,
    DecisionOutcome,
    Deliverable,
    DeliverableComment,
    DeliverableFile,
    DeliverableReopening,
    DeliverableStatus,
    DeliverableVersion,
    VersionStatus,
)
from portal.timeutil import UTCDateTime, project_today, utcnow
from portal.waiting import AGENCY, CLIENT, Interval

RECENT_DECISIONS_DAYS = 14


# --- One deliverable ------------------------------------------------------------------------


def current_version(deliverable: Deliverable) -> DeliverableVersion | None:
    """Return the latest submitted version, or None before the first submission."""
    if deliverable.current_number is None:
        return None
    return db.session.scalar(
        select(DeliverableVersion).where(
            DeliverableVersion.deliverable_id == deliverable.id, DeliverableVersion.number == deliverable.current_number
        )
    )


def draft_of(deliverable: Deliverable) -> DeliverableVersion | None:
    """Return the version staff are preparing, if any."""
    return db.session.scalar(
        select(DeliverableVersion).where(DeliverableVersion.deliverable_id == deliverable.id, DeliverableVersion.status == VersionStatus.DRAFT)
    )


def next_round(deliverable: Deliverable, current: DeliverableVersion | None = None) -> int:
    """Return the revision round a version submitted now would be in.

    The first version is round 0; a version answering a change request (or following a
    reopening) starts the next round; one replacing a version still in review keeps its round.
    """
    current = current if current is not None else current_version(deliverable)
    if current is None:
        return 0
    if current.status in (VersionStatus.CHANGES_REQUESTED, VersionStatus.APPROVED):
        return current.round + 1
    return current.round


# --- Lists ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A deliverable with its current version, as lists show it."""

    deliverable: Deliverable
    current: DeliverableVersion | None

    @property
    def rounds_used(self) -> int:
        """Return the revision rounds used so far (0 until a version answers a change request)."""
        return self.current.round if self.current is not None else 0

    @property
    def over_rounds(self) -> bool:
        """Tell whether more rounds were used than were agreed."""
        return past_included_rounds(self.deliverable, self.rounds_used)

    @property
    def waiting_since(self) -> datetime | None:
        """Return when the current version was submitted, while it waits for the client."""
        if self.deliverable.status is DeliverableStatus.IN_REVIEW and self.current is not None:
            return self.current.submitted_at
        return None


_STATUS_ORDER = {
    DeliverableStatus.IN_REVIEW: 0,
    DeliverableStatus.CHANGES_REQUESTED: 1,
    DeliverableStatus.REOPENED: 1,
    DeliverableStatus.PREPARING: 2,
    DeliverableStatus.APPROVED: 3,
}


def list_order(row: Row, today: date) -> tuple[bool, int, bool, date, int]:
    """Sort key: overdue first, then waiting on the client, on the agency, approved; each by due date."""
    d = row.deliverable
    return (not d.is_overdue(today), _STATUS_ORDER[d.status], d.due_date is None, d.due_date or date.max, d.id)


def rows_for(projects: Sequence[Project], *, now: datetime | None = None) -> dict[int, list[Row]]:
    """Return each project's deliverables with their current versions, in list order as of ``now`` (one query)."""
    if not projects:
        return {}
    found = db.session.execute(
        select(Deliverable, DeliverableVersion)
        .outerjoin(
            DeliverableVersion,
            and_(DeliverableVersion.deliverable_id == Deliverable.id, DeliverableVersion.number == Deliverable.current_number),
        )
        .where(Deliverable.project_id.in_([p.id for p in projects]))
    ).all()
    by_project: dict[int, list[Row]] = defaultdict(list)
    for deliverable, version in found:
        by_project[deliverable.project_id].append(Row(deliverable, version))
    todays = {p.id: project_today(p, now) for p in projects}
    return {pid: sorted(rows, key=lambda r: list_order(r, todays[pid])) for pid, rows in by_project.items()}


def recent_decisions(
    projects: Sequence[Project] | Select[Any],
    *,
    now: datetime | None = None,
    days: int = RECENT_DECISIONS_DAYS,
    limit: int = 8,
    outcome: DecisionOutcome | None = None,
) -> list[Decision]:
    """Return the latest decisions (of one ``outcome``, if given) on ``projects`` within ``days``, newest first (one query).

    ``projects`` is a list of projects, or a select of project ids (e.g. every project a viewer may see).
    """
    if isinstance(projects, Select):
        project_ids: Any = projects
    elif projects:
        project_ids = [p.id for p in projects]
    else:
        return []
    since = (now or utcnow()) - timedelta(days=days)
    query = select(Decision).join(Deliverable, Deliverable.id == Decision.deliverable_id)
    if outcome is not None:
        query = query.where(Decision.outcome == outcome)
    return list(
        db.session.scalars(
            query.where(Deliverable.project_id.in_(project_ids), Decision.decided_at >= since)
            .options(joinedload(Decision.approver), joinedload(Decision.version), joinedload(Decision.deliverable).joinedload(Deliverable.project))
            .order_by(Decision.decided_at.desc(), Decision.id.desc())
            .limit(limit)
        ).all()
    )


# --- Pages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewPage:
    """What the review page shows: the submitted versions (newest first), the current one and its review, reopenings, the conversation."""

    versions: list[DeliverableVersion]
    current: DeliverableVersion | None
    state: ReviewState
    reopenings: dict[int, list[DeliverableReopening]]
    comments: list[DeliverableComment]


def review_page(deliverable: Deliverable) -> ReviewPage:
    """Load the review page of ``deliverable`` (the same few queries, however long its history)."""
    project = deliverable.project
    versions = list(
        db.session.scalars(
            select(DeliverableVersion)
            .where(DeliverableVersion.deliverable_id == deliverable.id, DeliverableVersion.status != VersionStatus.DRAFT)
            .options(
                selectinload(DeliverableVersion.files),
                selectinload(DeliverableVersion.links),
                selectinload(DeliverableVersion.decisions).joinedload(Decision.approver),
                joinedload(DeliverableVersion.submitted_by),
            )
            .order_by(DeliverableVersion.number.desc())
        ).all()
    )
    current = next((v for v in versions if v.number == deliverable.current_number), None)
    state = ReviewState(rule=project.approval_rule, approvers=approvers(project), decisions=list(current.decisions) if current else [])
    reopenings: dict[int, list[DeliverableReopening]] = {}
    for reopening in db.session.scalars(
        select(DeliverableReopening)
        .where(DeliverableReopening.deliverable_id == deliverable.id)
        .options(joinedload(DeliverableReopening.reopened_by))
        .order_by(DeliverableReopening.id)
    ):
        reopenings.setdefault(reopening.version_number, []).append(reopening)
    comments = list(
        db.session.scalars(
            select(DeliverableComment)
            .where(DeliverableComment.deliverable_id == deliverable.id)
            .options(joinedload(DeliverableComment.author))
            .order_by(DeliverableComment.created_at, DeliverableComment.id)
        ).all()
    )
    return ReviewPage(versions=versions, current=current, state=state, reopenings=reopenings, comments=comments)


def draft_files(draft: DeliverableVersion) -> list[DeliverableFile]:
    """Return the files of a draft with who uploaded them, in upload order."""
    return list(
        db.session.scalars(
            select(DeliverableFile).where(DeliverableFile.version_id == draft.id).options(joinedload(DeliverableFile.uploaded_by)).order_by(DeliverableFile.id)
        ).all()
    )


# --- Waiting time ---------------------------------------------------------------------------


class Submitted(Protocol):
    """A submitted version, or a row selecting what waiting time needs of one."""

    @property
    def number(self) -> int:
        """Return the version's number."""

    @property
    def submitted_at(self) -> datetime | None:
        """Return when it was submitted (None: a draft)."""

    @property
    def settled_at(self) -> datetime | None:
        """Return when it was approved, sent back or replaced."""

    @property
    def status(self) -> VersionStatus:
        """Return the version's status."""


def waiting_turns(created_at: datetime, versions: Iterable[Submitted], reopened: dict[int, list[datetime]]) -> list[Interval]:
    """Return whose turn a deliverable's life was, from its recorded times (see :mod:`portal.waiting`).

    The agency's from its creation to the first submission; the client's from each
    submission until the version was settled (approved, changes requested, or replaced
    by the next one); the agency's again from a change request to the next submission,
    and from a reopening (``reopened``: approved version number -> when) to the next one.
    An approved version waits on nobody. Drafts are left out.
    """
    sent = sorted(((v.number, v.submitted_at, v) for v in versions if v.submitted_at is not None), key=lambda entry: entry[0])
    turns = [Interval(created_at, sent[0][1] if sent else None, AGENCY)]
    for index, (_number, submitted_at, version) in enumerate(sent):
        next_sent = sent[index + 1][1] if index + 1 < len(sent) else None
        settled = version.settled_at or next_sent
        turns.append(Interval(submitted_at, settled, CLIENT))
        if version.status is VersionStatus.APPROVED:
            turns.extend(Interval(at, next_sent, AGENCY) for at in reopened.get(version.number, [])[:1])
        elif settled is not None and (next_sent is None or settled < next_sent):
            turns.append(Interval(settled, next_sent, AGENCY))
    return turns


def waiting_so_far(deliverable: Deliverable, page: ReviewPage) -> list[Interval]:
    """Return the turns of the deliverable on its review page (no query: the page loaded its versions)."""
    reopened = {number: [r.created_at for r in found] for number, found in page.reopenings.items()}
    return waiting_turns(deliverable.created_at, page.versions, reopened)


class _SentVersion(NamedTuple):
    """What waiting time needs of a submitted version."""

    number: int
    submitted_at: datetime | None
    settled_at: datetime | None
    status: VersionStatus


_CREATED, _SUBMITTED, _REOPENED = 0, 1, 2


def waiting_intervals(project_ids: Sequence[int]) -> dict[int, list[list[Interval]]]:
    """Return the turns of every deliverable of ``project_ids``, per project (one query, however many deliverables).

    One statement, one round trip: each deliverable's creation, its submitted versions and
    its reopenings, as rows of one shape (typed NULLs where a kind has no value).
    """
    if not project_ids:
        return {}
    no_time = cast(null(), UTCDateTime())
    rows = union_all(
        select(
            Deliverable.id.label("deliverable_id"),
            Deliverable.project_id.label("project_id"),
            literal_column(str(_CREATED), Integer).label("kind"),
            cast(null(), Integer).label("number"),
            Deliverable.created_at.label("at"),
            no_time.label("settled_at"),
            cast(null(), DeliverableVersion.status.type).label("status"),
            Deliverable.id.label("seq"),
        ).where(Deliverable.project_id.in_(project_ids)),
        select(
            DeliverableVersion.deliverable_id,
            Deliverable.project_id,
            literal_column(str(_SUBMITTED), Integer),
            DeliverableVersion.number,
            DeliverableVersion.submitted_at,
            DeliverableVersion.settled_at,
            DeliverableVersion.status,
            DeliverableVersion.id,
        )
        .join(Deliverable, Deliverable.id == DeliverableVersion.deliverable_id)
        .where(Deliverable.project_id.in_(project_ids), DeliverableVersion.submitted_at.is_not(None)),
        select(
            DeliverableReopening.deliverable_id,
            Deliverable.project_id,
            literal_column(str(_REOPENED), Integer),
            DeliverableReopening.version_number,
            DeliverableReopening.created_at,
            no_time,
            cast(null(), DeliverableVersion.status.type),
            DeliverableReopening.id,
        )
        .join(Deliverable, Deliverable.id == DeliverableReopening.deliverable_id)
        .where(Deliverable.project_id.in_(project_ids)),
    )
    created: dict[int, tuple[int, datetime]] = {}
    versions: dict[int, list[_SentVersion]] = defaultdict(list)
    reopenings: list[tuple[datetime, int, int, int]] = []
    for row in db.session.execute(rows):
        if row.kind == _CREATED:
            created[row.deliverable_id] = (row.project_id, row.at)
        elif row.kind == _SUBMITTED:
            versions[row.deliverable_id].append(_SentVersion(row.number, row.at, row.settled_at, row.status))
        else:
            reopenings.append((row.at, row.seq, row.deliverable_id, row.number))
    reopened: dict[int, dict[int, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    for at, _seq, deliverable_id, number in sorted(reopenings):  # oldest first, as they happened
        reopened[deliverable_id][number].append(at)
    by_project: dict[int, list[list[Interval]]] = defaultdict(list)
    for deliverable_id, (project_id, created_at) in created.items():
        by_project[project_id].append(waiting_turns(created_at, versions[deliverable_id], reopened[deliverable_id]))
    return dict(by_project)
