"""Read models of asset collection: checklists, a project's requests page, a request's versions and reviews.

Everything here reads; nothing adds or changes a row. A checklist is built for many
projects at once in one query (the home and project pages show one per project).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import CompoundSelect, Integer, func, literal_column, select, union_all
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import AssetFile, AssetRequest, AssetRequestStatus, AssetReview, Project
from portal.timeutil import project_today
from portal.waiting import AGENCY, CLIENT, Interval

# --- Checklists -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checklist:
    """A project's requests as the client sees them: what is needed first, and the progress."""

    project: Project
    items: list[AssetRequest]
    today: date

    @property
    def total(self) -> int:
        """Return how many requests count (cancelled ones do not)."""
        return len(self.items)

    @property
    def provided(self) -> int:
        """Return how many requests the client has provided (in review or accepted)."""
        return sum(1 for item in self.items if item.provided)

    @property
    def outstanding(self) -> list[AssetRequest]:
        """Return the requests waiting on the client, overdue first."""
        return [item for item in self.items if item.waiting_on_client]

    @property
    def overdue(self) -> int:
        """Return how many requests are overdue."""
        return sum(1 for item in self.items if item.is_overdue(self.today))


def checklist_order(asset_request: AssetRequest, today: date) -> tuple:
    """Sort key: overdue first, then waiting on the client by due date, then in review, then accepted."""
    if asset_request.is_overdue(today):
        group = 0
    elif asset_request.waiting_on_client:
        group = 1
    elif asset_request.status is AssetRequestStatus.SUBMITTED:
        group = 2
    else:
        group = 3
    return (group, asset_request.due_date is None, asset_request.due_date or date.max, asset_request.id)


def checklists(projects: Sequence[Project], *, now: datetime | None = None) -> list[Checklist]:
    """Return a checklist per project that has requests (one query for all of them)."""
    if not projects:
        return []
    by_project: dict[int, list[AssetRequest]] = defaultdict(list)
    rows = db.session.scalars(
        select(AssetRequest).where(
            AssetRequest.project_id.in_([p.id for p in projects]), AssetRequest.status != AssetRequestStatus.CANCELLED
        )
    ).all()
    for row in rows:
        by_project[row.project_id].append(row)
    result = []
    for project in projects:
        items = by_project.get(project.id)
        if items:
            today = project_today(project, now)
            result.append(Checklist(project=project, items=sorted(items, key=lambda r: checklist_order(r, today)), today=today))
    return result


# --- Pages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetsPage:
    """A project's asset page: the checklist (without cancelled requests), the cancelled requests, the shared files (newest first)."""

    checklist: Checklist
    cancelled: list[AssetRequest]
    files: list[AssetFile]


def assets_page(project: Project, *, now: datetime | None = None) -> AssetsPage:
    """Return ``project``'s requests, in checklist order as of ``now``, and its shared files with their uploaders (two queries)."""
    requests = db.session.scalars(select(AssetRequest).where(AssetRequest.project_id == project.id)).all()
    today = project_today(project, now)
    active = sorted((r for r in requests if r.status is not AssetRequestStatus.CANCELLED), key=lambda r: checklist_order(r, today))
    cancelled = [r for r in requests if r.status is AssetRequestStatus.CANCELLED]
    files = db.session.scalars(
        select(AssetFile)
        .where(AssetFile.project_id == project.id, AssetFile.request_id.is_(None))
        .options(joinedload(AssetFile.uploaded_by))
        .order_by(AssetFile.created_at.desc(), AssetFile.id.desc())
    ).all()
    return AssetsPage(checklist=Checklist(project=project, items=active, today=today), cancelled=cancelled, files=list(files))


@dataclass(frozen=True)
class RequestPage:
    """A request's page: its files by version (newest version first) and the review of each version."""

    versions: dict[int, list[AssetFile]]
    reviews: dict[int, AssetReview]


def request_page(asset_request: AssetRequest) -> RequestPage:
    """Return the files of ``asset_request`` by version, with their uploaders, and its reviews by version (two queries)."""
    files = db.session.scalars(
        select(AssetFile)
        .where(AssetFile.request_id == asset_request.id)
        .options(joinedload(AssetFile.uploaded_by))
        .order_by(AssetFile.version.desc(), AssetFile.id)
    ).all()
    versions: dict[int, list[AssetFile]] = {}
    for item in files:
        versions.setdefault(item.version or 1, []).append(item)
    return RequestPage(versions=versions, reviews={review.version: review for review in asset_request.reviews})


def shared_file_count(project: Project) -> int:
    """Return how many files were shared on ``project`` outside any request (one query)."""
    return db.session.scalar(
        select(func.count(AssetFile.id)).where(AssetFile.project_id == project.id, AssetFile.request_id.is_(None))
    ) or 0


# --- Waiting time ---------------------------------------------------------------------------


def request_turns(asset_request: AssetRequest, first_uploads: Mapping[int, datetime], reviews: Mapping[int, datetime]) -> list[Interval]:
    """Return whose turn a request's life was, from its recorded times (see :mod:`portal.waiting`).

    The client's turn runs from the request (or from a return) to the first upload of the
    next version; the agency's from that upload to its review. ``first_uploads`` and
    ``reviews`` map a version number to the moment; a turn still open runs until the
    request was closed (accepted or cancelled), or on.
    """
    closed = asset_request.closed_at
    turns: list[Interval] = []
    start = asset_request.created_at
    for version in range(1, asset_request.current_version + 1):
        uploaded = first_uploads.get(version)
        if uploaded is None or (closed is not None and uploaded > closed):
            turns.append(Interval(start, closed, CLIENT))
            break
        turns.append(Interval(start, uploaded, CLIENT))
        reviewed = reviews.get(version)
        if reviewed is None or (closed is not None and reviewed > closed):
            turns.append(Interval(uploaded, closed, AGENCY))
            break
        turns.append(Interval(uploaded, reviewed, AGENCY))
        start = reviewed
    return turns


def turn_times(request_ids: Sequence[int]) -> tuple[dict[int, dict[int, datetime]], dict[int, dict[int, datetime]]]:
    """Return, per request and version, the first upload and the review (one query: the two kinds of row in one union)."""
    first_uploads: dict[int, dict[int, datetime]] = {}
    reviews: dict[int, dict[int, datetime]] = {}
    if not request_ids:
        return first_uploads, reviews
    rows: CompoundSelect[Any] = union_all(
        # The reviews first: the union's columns take their types (the time of a review, aware).
        select(
            AssetReview.request_id.label("request_id"),
            AssetReview.version.label("version"),
            AssetReview.created_at.label("at"),
            literal_column("1", Integer).label("reviewed"),
        ).where(AssetReview.request_id.in_(request_ids)),
        select(AssetFile.request_id, AssetFile.version, func.min(AssetFile.created_at), literal_column("0", Integer))
        .where(AssetFile.request_id.in_(request_ids))
        .group_by(AssetFile.request_id, AssetFile.version),
    )
    for request_id, version, at, reviewed in db.session.execute(rows):
        # Only general files lack a request and a version, and the query leaves them out.
        if request_id is None or version is None:
            continue
        if reviewed:
            reviews.setdefault(request_id, {})[version] = _aware(at)
        else:
            first_uploads.setdefault(request_id, {})[version] = _aware(at)
    return first_uploads, reviews


def waiting_intervals(project_ids: Sequence[int]) -> dict[int, list[list[Interval]]]:
    """Return the turns of every request of ``project_ids`` (cancelled ones were not needed: left out), per project (three queries)."""
    if not project_ids:
        return {}
    requests = db.session.scalars(
        select(AssetRequest).where(AssetRequest.project_id.in_(project_ids), AssetRequest.status != AssetRequestStatus.CANCELLED)
    ).all()
    first_uploads, reviews = turn_times([r.id for r in requests])
    by_project: dict[int, list[list[Interval]]] = defaultdict(list)
    for item in requests:
        by_project[item.project_id].append(request_turns(item, first_uploads.get(item.id, {}), reviews.get(item.id, {})))
    return dict(by_project)


def _aware(value: datetime | str) -> datetime:
    """Return an aggregate's datetime as aware UTC, whatever the backend hands back for ``min()``."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
