"""Read models of updates for pages other than the feed."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Update, UpdateStatus


def latest_updates(project_ids: Sequence[int]) -> dict[int, Update]:
    """Return each project's latest published update (one query)."""
    ranked = (
        select(
            Update.id,
            func.row_number()
            .over(partition_by=Update.project_id, order_by=(Update.published_at.desc(), Update.id.desc()))
            .label("rank"),
        )
        .where(Update.project_id.in_(project_ids), Update.status == UpdateStatus.PUBLISHED)
        .subquery()
    )
    rows = db.session.scalars(select(Update).join(ranked, ranked.c.id == Update.id).where(ranked.c.rank == 1))
    return {update.project_id: update for update in rows}
