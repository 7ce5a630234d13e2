"""Operations on projects and their members."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from portal import activity
from portal.errors import DomainError, NotAllowed
from portal.extensions import db
from portal.models import ApprovalRule, Client, Project, ProjectMember, ProjectStatus, Role, User
from portal.models.projects import ClientReminders
from portal.signals import approvers_changed
from portal.timeutil import utcnow

SETTINGS = (
    "name",
    "description",
    "status",
    "start_date",
    "target_date",
    "weekly_weekday",
    "weekly_hour",
    "timezone",
    "approval_rule",
    "included_rounds",
    "client_reminders",
)


def _apply(project: Project, values: dict[str, Any]) -> list[str]:
    changed = []
    for field in SETTINGS:
        if field not in values:
            continue
        value = values[field]
        if field == "status":
            value = ProjectStatus(value)
        elif field == "approval_rule":
            value = ApprovalRule(value)
        elif field == "client_reminders":
            value = ClientReminders(value)
        elif isinstance(value, str):
            value = value.strip()
        if getattr(project, field) != value:
            setattr(project, field, value)
            changed.append(field)
    if project.start_date and project.target_date and project.target_date < project.start_date:
        raise DomainError(_l("The target date cannot be before the start date."), field="target_date")
    return changed


def _check_manager(manager: User) -> None:
    if not manager.is_staff or not manager.active:
        raise DomainError(_l("Choose an active member of the agency staff."), field="manager_id")


def create_project(actor: User, client: Client, manager: User, values: dict[str, Any]) -> Project:
    """Create a project for ``client`` run by ``manager``; the caller commits."""
    if not actor.is_admin:
        raise NotAllowed(_l("Only an admin can create projects."))
    if client.is_archived:
        raise DomainError(_l("This client is archived. Restore it before adding projects."), field="client_id")
    _check_manager(manager)
    project = Project(client=client, manager=manager)
    _apply(project, values)
    db.session.add(project)
    db.session.flush()
    activity.record(actor, "project.created", project, project=project, internal=True)
    return project


def update_project(actor: User, project: Project, values: dict[str, Any], manager: User | None = None) -> None:
    """Change a project's settings (and, for admins, its manager); the caller commits."""
    changed = _apply(project, values)
    if manager is not None and manager.id != project.manager_id:
        if not actor.is_admin:
            raise NotAllowed(_l("Only an admin can assign the account manager."))
        _check_manager(manager)
        project.manager = manager
        changed.append("manager")
    if changed:
        activity.record(actor, "project.updated", project, project=project, data={"fields": changed}, internal=True)
    if "approval_rule" in changed:
        _resettle(actor, project)


def set_archived(actor: User, project: Project, archived: bool) -> None:
    """Archive or restore a project; the caller commits."""
    if not actor.is_admin:
        raise NotAllowed(_l("Only an admin can archive projects."))
    project.archived_at = utcnow() if archived else None
    activity.record(actor, "project.archived" if archived else "project.restored", project, project=project, internal=True)


def add_member(actor: User, project: Project, user: User, *, is_approver: bool) -> ProjectMember:
    """Give a client user of the project's organisation access to it; the caller commits."""
    if user.role is not Role.CLIENT or user.client_id != project.client_id:
        raise DomainError(_l("Only people of this project's client organisation can be members."), field="user_id")
    if any(m.user_id == user.id for m in project.members):
        raise DomainError(_l("This person is already a member."), field="user_id")
    member = ProjectMember(project=project, user=user, is_approver=is_approver)
    db.session.add(member)
    db.session.flush()
    activity.record(actor, "project.member_added", member, project=project, data={"user_id": user.id, "approver": is_approver})
    return member


def remove_member(actor: User, member: ProjectMember) -> None:
    """Take a client user off a project; the caller commits."""
    project = member.project
    activity.record(actor, "project.member_removed", member, project=project, data={"user_id": member.user_id})
    db.session.delete(member)
    if member.is_approver:
        db.session.flush()
        _resettle(actor, project)


def set_approver(actor: User, member: ProjectMember, is_approver: bool) -> None:
    """Make a member an approver, or not; the caller commits."""
    if member.is_approver != is_approver:
        member.is_approver = is_approver
        activity.record(
            actor, "project.approver_changed", member, project=member.project, data={"user_id": member.user_id, "approver": is_approver}
        )
        if not is_approver:
            db.session.flush()
            _resettle(actor, member.project)


def _resettle(actor: User, project: Project) -> None:
    """Tell the features that build on approvers (deliverables) that they or the rule changed."""
    approvers_changed.send(actor, project=project)
