"""What updates put on the home pages: weekly updates the client has not answered, concerns, silent projects, calls to offer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import exists, func, select, type_coerce
from sqlalchemy.orm import joinedload

from portal.attention import ClientItem, ClientScope, Group, Item, StaffScope
from portal.extensions import db
from portal.health import Rules
from portal.models import (
    AckChoice,
    Client,
    PreferredChannel,
    Project,
    ProjectStatus,
    Role,
    Update,
    UpdateAcknowledgement,
    UpdateComment,
    UpdateKind,
    UpdateStatus,
    User,
)
from portal.timeutil import UTCDateTime
from portal.updates.queries import latest_published

CALL_WITHIN = timedelta(days=8)  # a weekly update's call suggestion stays in the queue this long
# Projects expected to report every week (as portal.health counts silence).
_REPORTING = (ProjectStatus.PLANNED, ProjectStatus.ACTIVE)
_FLAGS = (AckChoice.CONCERN, AckChoice.NOT_ACCURATE)


# --- The client's turn ------------------------------------------------------------------------


def unanswered_weekly(scope: ClientScope) -> list[ClientItem]:
    """Each project's latest weekly update, if the viewer has not answered it yet (one query).

    Only the latest counts: an older week is superseded by the newer one.
    """
    answered = select(UpdateAcknowledgement.id).where(
        UpdateAcknowledgement.update_id == Update.id, UpdateAcknowledgement.user_id == scope.viewer.id
    )
    rows = db.session.scalars(latest_published(scope.ids, kind=UpdateKind.WEEKLY).where(~answered.exists()))
    return [
        ClientItem(
            kind="acknowledge",
            title=update.title or _("Weekly update"),
            project=scope.by_id[update.project_id],
            since=update.published_at or update.created_at,
            url=url_for("updates.show", project_id=update.project_id, update_id=update.id, _anchor=f"ack-{update.id}"),
        )
        for update in rows
    ]


# --- The agency's turn ------------------------------------------------------------------------


def concerns(scope: StaffScope) -> Group:
    """Clients' concerns and "not accurate" answers no one of the agency has commented on since."""
    kind = "concern"
    staff_answered = exists().where(
        UpdateComment.update_id == UpdateAcknowledgement.update_id,
        UpdateComment.created_at >= UpdateAcknowledgement.updated_at,
        UpdateComment.author_id.in_(select(User.id).where(User.role.in_([Role.ADMIN, Role.MANAGER]))),
    )
    rows, total = scope.rows(
        select(UpdateAcknowledgement, Update)
        .join(Update, Update.id == UpdateAcknowledgement.update_id)
        .where(
            Update.project_id.in_(scope.ids),
            Update.status == UpdateStatus.PUBLISHED,
            UpdateAcknowledgement.choice.in_(_FLAGS),
            ~staff_answered,
        )
        .options(joinedload(UpdateAcknowledgement.user))
        .order_by(UpdateAcknowledgement.updated_at, UpdateAcknowledgement.id),
        kind,
    )
    items = [
        Item(
            kind,
            update.title or update.week_label,
            scope.projects[update.project_id],
            ack.updated_at,
            "updates.show",
            {"project_id": update.project_id, "update_id": update.id, "_anchor": f"acknowledgements-{update.id}"},
            {"person": ack.user.display_name, "choice": ack.choice.value, "comment": ack.comment},
        )
        for ack, update, _total in rows
    ]
    return scope.group(kind, items, total)


def silent(scope: StaffScope) -> Group:
    """Active and planned projects with no published update for the silence days, the longest silent first."""
    kind = "silent"
    last: dict[int, datetime] = dict(
        db.session.execute(
            select(Update.project_id, type_coerce(func.max(Update.published_at), UTCDateTime()))
            .where(Update.project_id.in_(scope.ids), Update.status == UpdateStatus.PUBLISHED)
            .group_by(Update.project_id)
        ).all()
    )
    cutoff = scope.now - timedelta(days=Rules.from_config().silence_days)
    items = []
    for project in scope.projects.values():
        published = last.get(project.id)
        if project.status not in _REPORTING or (published or project.created_at) > cutoff:
            continue
        items.append(Item(kind, project.name, project, published, "updates.create", {"project_id": project.id}, {"started": project.created_at}))
    items.sort(key=lambda i: (i.since or i.detail["started"], i.project.id))
    return scope.group(kind, items)


def calls(scope: StaffScope) -> Group:
    """Clients who prefer phone or meetings whose recent weekly update offered a call, the oldest offer first."""
    kind = "call"
    rows = db.session.execute(
        select(Update.id, Update.project_id, Update.published_at)
        .join(Project, Project.id == Update.project_id)
        .join(Client, Client.id == Project.client_id)
        .where(
            Update.project_id.in_(scope.ids),
            Update.kind == UpdateKind.WEEKLY,
            Update.status == UpdateStatus.PUBLISHED,
            Update.suggests_call.is_(True),
            Update.published_at >= scope.now - CALL_WITHIN,
            Client.preferred_channel.in_([PreferredChannel.PHONE, PreferredChannel.MEETING]),
        )
        .order_by(Update.published_at.desc(), Update.id.desc())
    ).all()
    latest: dict[int, Any] = {}
    for row in rows:
        latest.setdefault(row.project_id, row)
    items = []
    for row in latest.values():
        project = scope.projects[row.project_id]
        items.append(
            Item(
                kind,
                project.client.name,
                project,
                row.published_at,
                "clients.show",
                {"client_id": project.client_id},
                {"channel": project.client.preferred_channel.value, "update_id": row.id},
            )
        )
    items.sort(key=lambda i: (i.since, i.project.id))
    return scope.group(kind, items)
