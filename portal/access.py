"""The one place that decides what a user may see.

Every view loads objects through these functions. Another organisation's
object, or one the user is not a member of, is answered with 404, never 403:
its existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.models import (
    ActivityEvent,
    AssetFile,
    AssetRequest,
    Client,
    Deliverable,
    DeliverableFile,
    DeliverableVersion,
    ExpectationNote,
    Goal,
    Incident,
    Project,
    ProjectMember,
    RecoveryStep,
    ReviewPin,
    Role,
    Update,
    UpdateAttachment,
    UpdateStatus,
    User,
    VersionStatus,
    Visibility,
)

F = TypeVar("F", bound=Callable[..., Any])


def visible_projects(user: User, *, include_archived: bool = False) -> Select[Project]:
    """Return a select of the projects ``user`` may see."""
    query = select(Project)
    if user.role is Role.MANAGER:
        query = query.where(Project.manager_id == user.id)
    elif user.role is Role.CLIENT:
        query = query.join(ProjectMember, ProjectMember.project_id == Project.id).where(
            ProjectMember.user_id == user.id, Project.client_id == user.client_id
        )
    if not include_archived:
        query = query.where(Project.archived_at.is_(None))
    return query


def visible_clients(user: User) -> Select[Client]:
    """Return a select of the client organisations ``user`` may see."""
    query = select(Client)
    if user.role is Role.MANAGER:
        query = query.where(Client.id.in_(select(Project.client_id).where(Project.manager_id == user.id)))
    elif user.role is Role.CLIENT:
        query = query.where(Client.id == user.client_id)
    return query


def project_or_404(user: User, project_id: int, *, include_archived: bool = True) -> Project:
    """Return the project if ``user`` may see it, else abort with 404.

    Its manager and its members (with their users) come in the same query: every project
    page shows them or checks access with them.
    """
    query = visible_projects(user, include_archived=include_archived).where(Project.id == project_id)
    query = query.options(joinedload(Project.manager), joinedload(Project.members).joinedload(ProjectMember.user))
    project = db.session.execute(query).unique().scalar_one_or_none()
    if project is None:
        abort(404)
    return project


def can_manage_project(user: User, project: Project) -> bool:
    """Tell whether ``user`` acts for the agency on ``project`` (its manager or an admin)."""
    return user.role is Role.ADMIN or (user.role is Role.MANAGER and project.manager_id == user.id)


def is_client_member(user: User, project: Project) -> bool:
    """Tell whether ``user`` is a person of ``project``'s client organisation who was given access to it."""
    return user.role is Role.CLIENT and user.client_id == project.client_id and any(m.user_id == user.id for m in project.members)


def is_project_approver(user: User, project: Project) -> bool:
    """Tell whether ``user`` is a client member of ``project`` who approves (signs goals, decides on deliverables)."""
    return (
        user.role is Role.CLIENT
        and user.client_id == project.client_id
        and any(m.user_id == user.id and m.is_approver for m in project.members)
    )


def client_or_404(user: User, client_id: int) -> Client:
    """Return the client organisation if ``user`` may see it, else abort with 404."""
    client = db.session.scalar(visible_clients(user).where(Client.id == client_id))
    if client is None:
        abort(404)
    return client


def managed_user_or_404(actor: User, user_id: int) -> User:
    """Return a user ``actor`` may manage: admins any user, managers their clients' users."""
    query = select(User).where(User.id == user_id)
    if actor.role is Role.MANAGER:
        query = query.where(User.role == Role.CLIENT, User.client_id.in_(visible_clients(actor).with_only_columns(Client.id)))
    elif actor.role is not Role.ADMIN:
        abort(404)
    user = db.session.scalar(query)
    if user is None:
        abort(404)
    return user


def staff_required(view: F) -> F:
    """Let only agency staff (admins and managers) through; others get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def admin_required(view: F) -> F:
    """Let only agency admins through; others get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


# --- Goals ---------------------------------------------------------------------------



def visible_goals(user: User) -> Select[Goal]:
    """Return a select of the goals ``user`` may see: those of the projects they see (archived ones included)."""
    projects = visible_projects(user, include_archived=True).with_only_columns(Project.id)
    return select(Goal).where(Goal.project_id.in_(projects))


def goal_or_404(user: User, goal_id: int) -> Goal:
    """Return the goal if ``user`` may see its project, else abort with 404."""
    goal = db.session.scalar(visible_goals(user).where(Goal.id == goal_id))
    if goal is None:
        abort(404)
    return goal


# --- Asset collection ------------------------------------------------------------------



def visible_asset_requests(user: User) -> Select[AssetRequest]:
    """Return a select of the asset requests ``user`` may see: those of the projects they see (archived ones included)."""
    projects = visible_projects(user, include_archived=True).with_only_columns(Project.id)
    return select(AssetRequest).where(AssetRequest.project_id.in_(projects))


def asset_request_or_404(user: User, request_id: int) -> AssetRequest:
    """Return the asset request if ``user`` may see its project, else abort with 404."""
    found = db.session.scalar(visible_asset_requests(user).where(AssetRequest.id == request_id))
    if found is None:
        abort(404)
    return found


def managed_asset_request_or_404(user: User, request_id: int) -> AssetRequest:
    """Return an asset request ``user`` acts on for the agency (its project's manager or an admin), else abort with 404."""
    found = asset_request_or_404(user, request_id)
    if not can_manage_project(user, found.project):
        abort(404)
    return found


def asset_file_or_404(user: User, file_id: int) -> AssetFile:
    """Return an uploaded file (for downloads too) if ``user`` may see its project, else abort with 404."""
    projects = visible_projects(user, include_archived=True).with_only_columns(Project.id)
    found = db.session.scalar(select(AssetFile).where(AssetFile.id == file_id, AssetFile.project_id.in_(projects)))
    if found is None:
        abort(404)
    return found


# --- Progress updates and expectation notes ---------------------------------------------




def managed_project_or_404(user: User, project_id: int) -> Project:
    """Return a project ``user`` acts on for the agency (its manager or an admin), else abort with 404."""
    project = project_or_404(user, project_id)
    if not can_manage_project(user, project):
        abort(404)
    return project


def visible_events(user: User, project: Project) -> Select[ActivityEvent]:
    """Return a select of ``project``'s activity events ``user`` may see (clients: none of the internal ones)."""
    query = select(ActivityEvent).where(ActivityEvent.project_id == project.id)
    if not user.is_staff:
        query = query.where(ActivityEvent.internal.is_(False))
    return query


def visible_updates(user: User, project: Project) -> Select[Update]:
    """Return a select of the updates of ``project`` that ``user`` may read (clients: published only)."""
    query = select(Update).where(Update.project_id == project.id)
    if not user.is_staff:
        query = query.where(Update.status == UpdateStatus.PUBLISHED)
    return query


def update_or_404(user: User, project_id: int, update_id: int) -> Update:
    """Return an update of a project ``user`` may see (drafts: staff only), else abort with 404."""
    project = project_or_404(user, project_id)
    update = db.session.scalar(visible_updates(user, project).where(Update.id == update_id))
    if update is None:
        abort(404)
    return update


def update_attachment_or_404(user: User, project_id: int, update_id: int, attachment_id: int) -> UpdateAttachment:
    """Return a file of an update ``user`` may read (clients: published updates of their projects), else 404."""
    update = update_or_404(user, project_id, update_id)
    found = db.session.scalar(
        select(UpdateAttachment).where(UpdateAttachment.id == attachment_id, UpdateAttachment.update_id == update.id)
    )
    if found is None:
        abort(404)
    return found


def visible_expectation_notes(user: User, project: Project) -> Select[ExpectationNote]:
    """Return a select of the expectation notes of ``project`` that ``user`` may read (clients: shared only)."""
    query = select(ExpectationNote).where(ExpectationNote.project_id == project.id)
    if not user.is_staff:
        query = query.where(ExpectationNote.visibility == Visibility.SHARED)
    return query


def expectation_note_or_404(user: User, project_id: int, note_id: int) -> ExpectationNote:
    """Return an expectation note ``user`` may see, else abort with 404."""
    project = project_or_404(user, project_id)
    note = db.session.scalar(visible_expectation_notes(user, project).where(ExpectationNote.id == note_id))
    if note is None:
        abort(404)
    return note


# --- Deliverable review -------------------------------------------------------------------



def visible_deliverables(user: User) -> Select[Deliverable]:
    """Return a select of the deliverables ``user`` may see: those of the projects they see (archived ones included)."""
    projects = visible_projects(user, include_archived=True).with_only_columns(Project.id)
    return select(Deliverable).where(Deliverable.project_id.in_(projects))


def deliverable_or_404(user: User, deliverable_id: int) -> Deliverable:
    """Return the deliverable if ``user`` may see its project, else abort with 404."""
    found = db.session.scalar(visible_deliverables(user).where(Deliverable.id == deliverable_id))
    if found is None:
        abort(404)
    return found


def managed_deliverable_or_404(user: User, deliverable_id: int) -> Deliverable:
    """Return a deliverable ``user`` works on for the agency (its project's manager or an admin), else abort with 404."""
    found = deliverable_or_404(user, deliverable_id)
    if not can_manage_project(user, found.project):
        abort(404)
    return found


def deliverable_version_or_404(user: User, deliverable_id: int, number: int) -> DeliverableVersion:
    """Return version ``number`` of a deliverable ``user`` may see; drafts only to staff who manage it, else 404."""
    deliverable = deliverable_or_404(user, deliverable_id)
    query = select(DeliverableVersion).where(DeliverableVersion.deliverable_id == deliverable.id, DeliverableVersion.number == number)
    if not can_manage_project(user, deliverable.project):
        query = query.where(DeliverableVersion.status != VersionStatus.DRAFT)
    version = db.session.scalar(query)
    if version is None:
        abort(404)
    return version


def deliverable_file_or_404(user: User, file_id: int) -> DeliverableFile:
    """Return a deliverable's file (for downloads too) if ``user`` may see its version, else abort with 404."""
    query = (
        select(DeliverableFile)
        .join(DeliverableVersion, DeliverableVersion.id == DeliverableFile.version_id)
        .where(DeliverableFile.id == file_id, DeliverableVersion.deliverable_id.in_(visible_deliverables(user).with_only_columns(Deliverable.id)))
    )
    if not user.is_staff:
        query = query.where(DeliverableVersion.status != VersionStatus.DRAFT)
    found = db.session.scalar(query)
    if found is None:
        abort(404)
    return found


# --- Incidents and pins ---------------------------------------------------------------------


def visible_incidents(user: User) -> Select[Incident]:
    """Return a select of the incidents ``user`` may see: those of the projects they see; clients only shared ones."""
    projects = visible_projects(user, include_archived=True).with_only_columns(Project.id)
    query = select(Incident).where(Incident.project_id.in_(projects))
    if not user.is_staff:
        query = query.where(Incident.visibility == Visibility.SHARED)
    return query


def incident_or_404(user: User, incident_id: int) -> Incident:
    """Return the incident if ``user`` may see it, else abort with 404."""
    query = visible_incidents(user).where(Incident.id == incident_id).options(selectinload(Incident.steps).joinedload(RecoveryStep.owner))
    incident = db.session.scalar(query)
    if incident is None:
        abort(404)
    return incident


def managed_incident_or_404(user: User, incident_id: int) -> Incident:
    """Return an incident ``user`` acts on for the agency (its project's manager or an admin), else abort with 404."""
    incident = incident_or_404(user, incident_id)
    if not can_manage_project(user, incident.project):
        abort(404)
    return incident


def step_or_404(incident: Incident, step_id: int) -> RecoveryStep:
    """Return the step of ``incident`` numbered ``step_id``, else abort with 404."""
    step = next((s for s in incident.steps if s.id == step_id), None)
    if step is None:
        abort(404)
    return step


def pin_or_404(user: User, pin_id: int) -> ReviewPin:
    """Return a pin ``user`` may read (its deliverable visible to them; internal pins for staff only), else 404."""
    pin = db.session.get(ReviewPin, pin_id)
    if pin is None or (pin.internal and not user.is_staff):
        abort(404)
    deliverable_or_404(user, pin.deliverable_id)
    if pin.version.status is VersionStatus.DRAFT and not can_manage_project(user, pin.deliverable.project):
        abort(404)
    return pin
