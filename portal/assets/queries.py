"""Read models of asset collection: checklists, a project's requests page, a request's versions and reviews.

Everything here reads; nothing adds or changes a row. A checklist is built for many
projects at once in one query (the home and project pages show one per project).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import AssetFile, AssetRequest, AssetRequestStatus, AssetReview, Project
from portal.timeutil import project_today

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
