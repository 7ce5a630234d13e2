"""What asset requests put on the home pages: files the client owes, overdue requests, uploads to review, due dates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from flask import url_for
from sqlalchemy import func, select

from portal.attention import ClientItem, ClientScope, Deadline, Group, Item, StaffScope
from portal.extensions import db
from portal.models import AssetRequest, AssetRequestStatus, AssetReview, ReviewDecision
from portal.timeutil import day_start

_WITH_CLIENT = (AssetRequestStatus.OPEN, AssetRequestStatus.RETURNED)


# --- The client's turn ------------------------------------------------------------------------


def requests_open(scope: ClientScope) -> list[ClientItem]:
    """Asset requests waiting for the client's files: open since requested, returned since the note (one query)."""
    returned_at = (
        select(AssetReview.request_id, func.max(AssetReview.created_at).label("at"))
        .where(AssetReview.decision == ReviewDecision.RETURNED)
        .group_by(AssetReview.request_id)
        .subquery()
    )
    rows = db.session.execute(
        select(AssetRequest, returned_at.c.at)
        .outerjoin(returned_at, returned_at.c.request_id == AssetRequest.id)
        .where(AssetRequest.project_id.in_(scope.ids), AssetRequest.status.in_(_WITH_CLIENT))
    ).all()
    items = []
    for asset_request, returned in rows:
        was_returned = asset_request.status is AssetRequestStatus.RETURNED
        items.append(
            ClientItem(
                kind="asset",
                title=asset_request.title,
                project=scope.by_id[asset_request.project_id],
                since=_as_utc(returned) if was_returned and returned is not None else asset_request.created_at,
                url=url_for("assets.show_request", request_id=asset_request.id),
                due=asset_request.due_date,
                overdue=asset_request.is_overdue(scope.todays[asset_request.project_id]),
                returned=was_returned,
            )
        )
    return items


def _as_utc(value: datetime) -> datetime:
    """Return an aggregate's datetime as aware UTC (aggregates may come back naive)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- The agency's turn ------------------------------------------------------------------------


def overdue(scope: StaffScope) -> Group:
    """Asset requests past their due date (in the project's zone) still waiting on the client, oldest due first."""
    kind = "asset_overdue"
    latest_today = max(scope.todays.values(), default=scope.now.date())
    rows = db.session.execute(
        select(AssetRequest.id, AssetRequest.project_id, AssetRequest.title, AssetRequest.due_date, AssetRequest.status)
        .where(
            AssetRequest.project_id.in_(scope.ids),
            AssetRequest.status.in_(_WITH_CLIENT),
            AssetRequest.due_date < latest_today,
        )
        .order_by(AssetRequest.due_date, AssetRequest.id)
    ).all()
    late = [row for row in rows if row.due_date < scope.todays[row.project_id]]
    items = []
    for row in late[: scope.limit(kind)]:  # only the shown ones become items
        project = scope.projects[row.project_id]
        items.append(
            Item(
                kind,
                row.title,
                project,
                day_start(row.due_date + timedelta(days=1), project.timezone),  # late from the end of its due day
                "assets.show_request",
                {"request_id": row.id},
                {"days": (scope.todays[row.project_id] - row.due_date).days, "returned": row.status is AssetRequestStatus.RETURNED},
            )
        )
    return scope.group(kind, items, len(late))


def to_review(scope: StaffScope) -> Group:
    """Requests whose files the client sent, waiting for the agency's review, oldest upload first."""
    kind = "asset_review"
    rows, total = scope.rows(
        select(AssetRequest)
        .where(AssetRequest.project_id.in_(scope.ids), AssetRequest.status == AssetRequestStatus.SUBMITTED)
        .order_by(AssetRequest.submitted_at, AssetRequest.id),
        kind,
    )
    items = [
        Item(kind, request.title, scope.projects[request.project_id], request.submitted_at, "assets.show_request", {"request_id": request.id})
        for request, _total in rows
    ]
    return scope.group(kind, items, total)


# --- Deadlines --------------------------------------------------------------------------------


def due_dates(project_ids: Sequence[int], earliest: date) -> list[Deadline]:
    """The due dates of requests still in progress, from ``earliest`` on (one query)."""
    rows = db.session.execute(
        select(AssetRequest.project_id, AssetRequest.due_date, AssetRequest.title, AssetRequest.id).where(
            AssetRequest.project_id.in_(project_ids),
            AssetRequest.status.in_((*_WITH_CLIENT, AssetRequestStatus.SUBMITTED)),
            AssetRequest.due_date >= earliest,
        )
    )
    return [Deadline(row.project_id, row.due_date, row.title, url_for("assets.show_request", request_id=row.id)) for row in rows]
