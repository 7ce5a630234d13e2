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
    rows, total = scope.rows(
        scope.with_project(
            select(AssetRequest.id, AssetRequest.title, AssetRequest.due_date, AssetRequest.status).where(
                AssetRequest.status.in_(_WITH_CLIENT)
            ),
            AssetRequest.project_id,
        )
        .where(scope.each_today(lambda today: AssetRequest.due_date < today))
        .order_by(AssetRequest.due_date, AssetRequest.id),
        kind,
        AssetRequest.id,
    )
    items = []
    for request_id, title, due_date, status, project, _total in rows:
        items.append(
            Item(
                kind,
                title,
                project,
                day_start(due_date + timedelta(days=1), project.timezone),  # late from the end of its due day
                "assets.show_request",
                {"request_id": request_id},
                {"days": (scope.today(project) - due_date).days, "returned": status is AssetRequestStatus.RETURNED},
            )
        )
    return scope.group(kind, items, total)


def to_review(scope: StaffScope) -> Group:
    """Requests whose files the client sent, waiting for the agency's review, oldest upload first."""
    kind = "asset_review"
    rows, total = scope.rows(
        scope.with_project(select(AssetRequest).where(AssetRequest.status == AssetRequestStatus.SUBMITTED), AssetRequest.project_id)
        .order_by(AssetRequest.submitted_at, AssetRequest.id),
        kind,
        AssetRequest.id,
    )
    items = [
        Item(kind, request.title, project, request.submitted_at, "assets.show_request", {"request_id": request.id})
        for request, project, _total in rows
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
