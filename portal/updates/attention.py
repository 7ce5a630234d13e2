"""What updates put on the home pages: weekly updates the client has not answered, concerns, silent projects, calls to offer."""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import exists, func, select, type_coerce
from sqlalchemy.orm import joinedload

from portal.attention import SHOWN_PROJECT, ClientItem, ClientScope, Group, Item, StaffScope
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
        scope.with_project(
            select(UpdateAcknowledgement, Update)
            .join(Update, Update.id == UpdateAcknowledgement.update_id)
            .where(
                Update.status == UpdateStatus.PUBLISHED,
                UpdateAcknowledgement.choice.in_(_FLAGS),
                ~staff_answered,
            ),
            Update.project_id,
        )
        .options(joinedload(UpdateAcknowledgement.user))
        .order_by(UpdateAcknowledgement.updated_at, UpdateAcknowledgement.id),
        kind,
        UpdateAcknowledgement.id,
    )
    items = [
        Item(
            kind,
            update.title or update.week_label,
            project,
            ack.updated_at,
            "updates.show",
            {"project_id": update.project_id, "update_id": update.id, "_anchor": f"acknowledgements-{update.id}"},
            {"person": ack.user.display_name, "choice": ack.choice.value, "comment": ack.comment},
        )
        for ack, update, project, _total in rows
    ]
    return scope.group(kind, items, total)


def silent(scope: StaffScope) -> Group:
    """Active and planned projects with no published update for the silence days, the longest silent first."""
    kind = "silent"
    published = type_coerce(
        select(func.max(Update.published_at))
        .where(Update.project_id == Project.id, Update.status == UpdateStatus.PUBLISHED)
        .correlate(Project)
        .scalar_subquery(),
        UTCDateTime(),
    )
    since = type_coerce(func.coalesce(published, Project.created_at), UTCDateTime())
    cutoff = scope.now - timedelta(days=Rules.from_config().silence_days)
    rows, total = scope.rows(
        select(Project, published.label("published"))
        .where(scope.visible, Project.status.in_(_REPORTING), since <= cutoff)
        .options(*SHOWN_PROJECT)
        .order_by(since, Project.id),
        kind,
        Project.id,
    )
    items = [
        Item(kind, project.name, project, last, "updates.create", {"project_id": project.id}, {"started": project.created_at})
        for project, last, _total in rows
    ]
    return scope.group(kind, items, total)


def calls(scope: StaffScope) -> Group:
    """Clients who prefer phone or meetings whose recent weekly update offered a call, the oldest offer first."""
    kind = "call"
    offers = (
        select(
            Update.id,
            Update.project_id,
            Update.published_at,
            func.row_number().over(partition_by=Update.project_id, order_by=(Update.published_at.desc(), Update.id.desc())).label("n"),
        )
        .join(Project, Project.id == Update.project_id)
        .join(Client, Client.id == Project.client_id)
        .where(
            scope.visible,
            Update.kind == UpdateKind.WEEKLY,
            Update.status == UpdateStatus.PUBLISHED,
            Update.suggests_call.is_(True),
            Update.published_at >= scope.now - CALL_WITHIN,
            Client.preferred_channel.in_([PreferredChannel.PHONE, PreferredChannel.MEETING]),
        )
        .subquery()
    )
    rows, total = scope.rows(  # each project's latest offer
        scope.with_project(select(offers.c.id, offers.c.published_at).where(offers.c.n == 1), offers.c.project_id)
        .order_by(offers.c.published_at, Project.id),
        kind,
        offers.c.id,
    )
    items = [
        Item(
            kind,
            project.client.name,
            project,
            published_at,
            "clients.show",
            {"client_id": project.client_id},
            {"channel": project.client.preferred_channel.value, "update_id": update_id},
        )
        for update_id, published_at, project, _total in rows
    ]
    return scope.group(kind, items, total)
