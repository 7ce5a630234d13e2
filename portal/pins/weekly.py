"""What pins contribute to the weekly update: open pins per deliverable (registered by ``portal.pins.init_app``).

Kind ``deliverable_open_pins`` (waiting): a deliverable not yet approved whose pins the
client can read are still open — how many, on which version. Internal pins are never counted.
Sentences in ``templates/pins/_facts.html``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from portal.extensions import db
from portal.models.deliverables import Deliverable, DeliverableStatus, DeliverableVersion
from portal.models.pins import PinStatus, ReviewPin
from portal.urls import portal_path
from portal.weekly.facts import Fact, Period, batch_provider

SENTENCE_KINDS = frozenset({"deliverable_open_pins"})


@batch_provider
def open_pin_facts(periods: Sequence[Period]) -> list[list[Fact]]:
    """Return, per period, one fact per deliverable of its project with open client-visible pins (one query for the batch)."""
    project_ids = [period.project.id for period in periods]
    rows = db.session.execute(
        select(Deliverable.project_id, Deliverable.id, Deliverable.title, func.max(DeliverableVersion.number), func.count(ReviewPin.id))
        .join(ReviewPin, ReviewPin.deliverable_id == Deliverable.id)
        .join(DeliverableVersion, DeliverableVersion.id == ReviewPin.version_id)
        .where(
            Deliverable.project_id.in_(project_ids),
            Deliverable.status != DeliverableStatus.APPROVED,
            ReviewPin.status == PinStatus.OPEN,
            ReviewPin.internal.is_(False),
        )
        .group_by(Deliverable.project_id, Deliverable.id, Deliverable.title)
        .order_by(Deliverable.title, Deliverable.id)
    ).all()
    by_project: dict[int, list[Fact]] = {}
    for project_id, deliverable_id, title, version, count in rows:
        params = {"deliverable_id": deliverable_id, "title": title, "version": version, "count": count}
        by_project.setdefault(project_id, []).append(
            Fact("deliverable_open_pins", "waiting", params, portal_path("deliverables.show", deliverable_id=deliverable_id))
        )
    return [by_project.get(period.project.id, []) for period in periods]
