"""What deliverables put on the home pages: versions waiting for the client's decision, changes the agency owes, due dates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, select

from portal.attention import ClientItem, ClientScope, Deadline, Group, Item, StaffScope
from portal.extensions import db
from portal.models import ApprovalRule, Decision, Deliverable, DeliverableStatus, DeliverableVersion, VersionStatus


def _current_in_review() -> Select[Deliverable, DeliverableVersion]:
    """Return a select of (deliverable, current version) pairs whose version waits for the client's decision."""
    return (
        select(Deliverable, DeliverableVersion)
        .join(
            DeliverableVersion,
            and_(DeliverableVersion.deliverable_id == Deliverable.id, DeliverableVersion.number == Deliverable.current_number),
        )
        .where(Deliverable.status == DeliverableStatus.IN_REVIEW, DeliverableVersion.status == VersionStatus.IN_REVIEW)
    )


# --- The client's turn ------------------------------------------------------------------------


def reviews(scope: ClientScope) -> list[ClientItem]:
    """Deliverable versions waiting for the client's decision, with who still has to decide (two queries)."""
    rows = db.session.execute(_current_in_review().where(Deliverable.project_id.in_(scope.ids))).all()
    if not rows:
        return []
    decided: dict[int, set[int]] = defaultdict(set)
    for version_id, approver_id in db.session.execute(
        select(Decision.version_id, Decision.approver_id).where(Decision.version_id.in_([v.id for _d, v in rows]))
    ):
        decided[version_id].add(approver_id)
    items = []
    for deliverable, version in rows:
        project = scope.by_id[deliverable.project_id]
        people = scope.approvers.get(project.id, [])
        if project.approval_rule is ApprovalRule.ALL:
            people = [p for p in people if p.id not in decided[version.id]]
        due = version.review_due or deliverable.due_date  # the reviewers' date: the version's own when staff set one
        items.append(
            ClientItem(
                kind="review",
                title=_("%(title)s, version %(number)s", title=deliverable.title, number=version.number),
                project=project,
                since=version.submitted_at or version.created_at,
                url=url_for("deliverables.show", deliverable_id=deliverable.id),
                due=due,
                overdue=due is not None and due < scope.todays[project.id],
                **scope.for_approvers(project.id, people),
            )
        )
    return items


# --- The agency's turn, and the client's as staff see it ----------------------------------


def changes_requested(scope: StaffScope) -> Group:
    """Deliverables whose client asked for changes: the agency owes a new version, oldest request first."""
    kind = "changes_requested"
    rows, total = scope.rows(
        scope.with_project(
            select(Deliverable, DeliverableVersion)
            .join(
                DeliverableVersion,
                and_(DeliverableVersion.deliverable_id == Deliverable.id, DeliverableVersion.number == Deliverable.current_number),
            )
            .where(Deliverable.status == DeliverableStatus.CHANGES_REQUESTED),
            Deliverable.project_id,
        ).order_by(func.coalesce(DeliverableVersion.settled_at, Deliverable.updated_at), Deliverable.id),
        kind,
        Deliverable.id,
    )
    items = [
        Item(
            kind,
            deliverable.title,
            project,
            version.settled_at or deliverable.updated_at,
            "deliverables.show",
            {"deliverable_id": deliverable.id},
            {"number": version.number},
        )
        for deliverable, version, project, _total in rows
    ]
    return scope.group(kind, items, total)


def client_decisions(scope: StaffScope) -> Group:
    """Deliverable versions waiting for the client's decision, the longest waiting first."""
    kind = "client_decision"
    rows, total = scope.rows(
        scope.with_project(_current_in_review(), Deliverable.project_id).order_by(DeliverableVersion.submitted_at, Deliverable.id),
        kind,
        Deliverable.id,
    )
    items = [
        Item(
            kind,
            deliverable.title,
            project,
            version.submitted_at,
            "deliverables.show",
            {"deliverable_id": deliverable.id},
            {"number": version.number},
        )
        for deliverable, version, project, _total in rows
    ]
    return scope.group(kind, items, total)


# --- Deadlines --------------------------------------------------------------------------------


def due_dates(project_ids: Sequence[int], earliest: date) -> list[Deadline]:
    """The due dates of deliverables not approved yet, from ``earliest`` on (one query)."""
    rows = db.session.execute(
        select(Deliverable.project_id, Deliverable.due_date, Deliverable.title, Deliverable.id).where(
            Deliverable.project_id.in_(project_ids), Deliverable.status != DeliverableStatus.APPROVED, Deliverable.due_date >= earliest
        )
    )
    return [Deadline(row.project_id, row.due_date, row.title, url_for("deliverables.show", deliverable_id=row.id)) for row in rows]
