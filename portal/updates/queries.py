"""Read models of updates: one update as the feed shows it, and for pages other than the feed."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select

from portal.access import visible_updates
from portal.extensions import db
from portal.models import Update, UpdateKind, UpdateStatus, User
from portal.updates.service import FeedItem, feed


def latest_published(project_ids: Sequence[int], *, kind: UpdateKind | None = None) -> Select[Update]:
    """Return a select of each project's latest published update (of ``kind``, if given), to narrow further."""
    query = select(
        Update.id,
        func.row_number().over(partition_by=Update.project_id, order_by=(Update.published_at.desc(), Update.id.desc())).label("rank"),
    ).where(Update.project_id.in_(project_ids), Update.status == UpdateStatus.PUBLISHED)
    if kind is not None:
        query = query.where(Update.kind == kind)
    ranked = query.subquery()
    return select(Update).join(ranked, ranked.c.id == Update.id).where(ranked.c.rank == 1)


def latest_updates(project_ids: Sequence[int]) -> dict[int, Update]:
    """Return each project's latest published update (one query)."""
    return {update.project_id: update for update in db.session.scalars(latest_published(project_ids))}


def feed_item(viewer: User, update: Update) -> FeedItem:
    """Return one update as ``viewer`` sees it in the feed, with all its comments."""
    items, _more = feed(viewer, update.project, visible_updates(viewer, update.project).where(Update.id == update.id), limit=1, comments_each=None)
    return items[0]
