"""What asset requests contribute to the weekly update and to the weekly expectation note (registered on import).

Weekly update kinds (sentences in ``templates/assets/_facts.html``):

- ``asset_overdue`` (bad): the client's part is past its due date — days overdue, whether the
  work needs it, and the agency's note if the last upload was returned.
- ``asset_needed`` (need): open or returned requests not overdue yet — "what we need from you",
  with due dates and the return note.
- ``asset_provided`` (progress): the client sent files in the period; the agency reviews them.
- ``asset_accepted`` (progress): the agency accepted a request in the period.

Expectation note kind: ``asset_schedule`` — every request: due date against when the client's
files arrived (the first upload of the version in force), and the time it waited on the client
(from the request, or from a return, to the next upload) separately from the time it waited on
the agency (from an upload to its review). Both are computed from the request's ``created_at``,
the first ``created_at`` of each version's files and each version's review: no activity events
are needed.

Both providers take a whole batch of projects (``batch_provider``): their queries read every
project of the batch at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from portal.assets.queries import request_turns, turn_times
from portal.extensions import db
from portal.models import AssetRequest, AssetRequestStatus, AssetReview, ReviewDecision
from portal.timeutil import local_today, zone_named
from portal.urls import portal_path
from portal.waiting import AGENCY, split
from portal.weekly.facts import Fact, Period, batch_provider

# The kinds whose sentences are in templates/assets/_facts.html (portal.weekly.facts.fact_sentences).
SENTENCE_KINDS = frozenset(
    {
        "asset_overdue",
        "asset_needed",
        "asset_provided",
        "asset_accepted",
        "asset_schedule",
    }
)


def _link(asset_request: AssetRequest) -> str:
    return portal_path("assets.show_request", request_id=asset_request.id)


@batch_provider
def asset_facts(periods: Sequence[Period]) -> list[list[Fact]]:
    """Return overdue requests, what we still need from the client, and what arrived or was accepted (two queries for the batch)."""
    found: dict[int, list[AssetRequest]] = defaultdict(list)
    for item in db.session.scalars(
        select(AssetRequest)
        .where(
            AssetRequest.project_id.in_(sorted({p.project.id for p in periods})),
            or_(
                AssetRequest.status.in_((AssetRequestStatus.OPEN, AssetRequestStatus.RETURNED, AssetRequestStatus.SUBMITTED)),
                and_(AssetRequest.status == AssetRequestStatus.ACCEPTED, AssetRequest.closed_at >= min(p.period_start for p in periods)),
            ),
        )
        .order_by(AssetRequest.due_date.is_(None), AssetRequest.due_date, AssetRequest.id)
    ):
        found[item.project_id].append(item)
    returned = sorted({r.id for items in found.values() for r in items if r.status is AssetRequestStatus.RETURNED})
    notes: dict[int, str] = {}
    if returned:
        notes = dict(
            db.session.execute(
                select(AssetReview.request_id, AssetReview.note)
                .join(AssetRequest, AssetRequest.id == AssetReview.request_id)
                .where(
                    AssetReview.request_id.in_(returned),
                    AssetReview.decision == ReviewDecision.RETURNED,
                    AssetReview.version == AssetRequest.current_version - 1,
                )
            ).all()
        )
    return [_asset_facts(period, found.get(period.project.id, []), notes) for period in periods]


def _asset_facts(period: Period, found: list[AssetRequest], notes: Mapping[int, str]) -> list[Fact]:
    """Return one period's asset facts from its project's requests."""
    period_start, period_end = period.period_start, period.period_end
    requests = [
        r for r in found
        if r.status is not AssetRequestStatus.ACCEPTED or (r.closed_at is not None and r.closed_at >= period_start)
    ]
    if not requests:
        return []
    today = local_today(period.project.timezone, period.now)
    bad, need, progress = [], [], []
    for item in requests:
        base = {"request_id": item.id, "title": item.title, "required": item.required}
        if item.waiting_on_client:
            params = {
                **base,
                "due_date": item.due_date.isoformat() if item.due_date else None,
                "returned": item.status is AssetRequestStatus.RETURNED,
                "note": notes.get(item.id, ""),
            }
            if item.due_date is not None and item.is_overdue(today):
                bad.append(Fact("asset_overdue", "bad", {**params, "days": (today - item.due_date).days}, _link(item)))
            else:
                days_left = (item.due_date - today).days if item.due_date else None
                need.append(Fact("asset_needed", "need", {**params, "days": days_left}, _link(item)))
        elif item.status is AssetRequestStatus.SUBMITTED and item.submitted_at and period_start <= item.submitted_at < period_end:
            progress.append(Fact("asset_provided", "progress", {**base, "submitted_at": item.submitted_at.isoformat()}, _link(item)))
        elif item.status is AssetRequestStatus.ACCEPTED and item.closed_at and period_start <= item.closed_at < period_end:
            progress.append(Fact("asset_accepted", "progress", {**base, "accepted_at": item.closed_at.isoformat()}, _link(item)))
    bad.sort(key=lambda f: (-f.params["days"], f.params["request_id"]))
    return bad + need + progress


# --- The weekly expectation note -----------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """How long a request waited on each side, and when the client's files in force arrived."""

    on_client: timedelta
    on_agency: timedelta
    received_at: datetime | None


def split_waiting(
    asset_request: AssetRequest,
    first_uploads: Mapping[int, datetime],
    reviews: Mapping[int, datetime],
    now: datetime,
) -> Waiting:
    """Split a request's life between the client's turn and the agency's (:func:`portal.waiting.split`).

    ``first_uploads`` and ``reviews`` map a version number to the moment (see
    :func:`portal.assets.queries.request_turns`); an open turn runs until the request was
    closed, or ``now``.
    """
    turns = request_turns(asset_request, first_uploads, reviews)
    waited = split(turns, now)
    end = asset_request.closed_at if asset_request.closed_at is not None else now
    received = max((turn.start for turn in turns if turn.side == AGENCY and turn.start <= end), default=None)
    return Waiting(waited.client, waited.agency, received)


def _days(span: timedelta) -> float:
    """Return ``span`` in days, to one decimal."""
    return round(span.total_seconds() / 86400, 1)


@batch_provider
def asset_lines(periods: Sequence[Period]) -> list[list[Fact]]:
    """Return every request's due date against when it was received, with the waiting split by side (three queries for the batch)."""
    found: dict[int, list[AssetRequest]] = defaultdict(list)
    for item in db.session.scalars(
        select(AssetRequest)
        .where(
            AssetRequest.project_id.in_(sorted({p.project.id for p in periods})),
            AssetRequest.status != AssetRequestStatus.CANCELLED,
        )
        .order_by(AssetRequest.id)
    ):
        found[item.project_id].append(item)
    if not found:
        return [[] for _ in periods]
    first_uploads, reviews = turn_times([r.id for items in found.values() for r in items])
    results = []
    for period in periods:
        project, now = period.project, period.now
        zone = zone_named(project.timezone)
        today = local_today(project.timezone, now)
        lines = []
        for item in found.get(project.id, []):
            waiting = split_waiting(item, first_uploads.get(item.id, {}), reviews.get(item.id, {}), now)
            received_on: date | None = waiting.received_at.astimezone(zone).date() if waiting.received_at and item.provided else None
            params: dict[str, Any] = {
                "request_id": item.id,
                "title": item.title,
                "status": item.status.value,
                "due_date": item.due_date.isoformat() if item.due_date else None,
                "received_on": received_on.isoformat() if received_on else None,
                "client_days": _days(waiting.on_client),
                "agency_days": _days(waiting.on_agency),
            }
            late = False
            if item.due_date is not None:
                # Positive: days late; negative: days early. Not received yet: late so far, or days left.
                params["days_late"] = days_late = ((received_on or today) - item.due_date).days
                late = days_late > 0
            severity = "bad" if late else "progress" if received_on is not None else "need"
            lines.append(Fact("asset_schedule", severity, params, _link(item)))
        results.append(lines)
    return results
