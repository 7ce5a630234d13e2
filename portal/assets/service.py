"""Asset collection: staff request what they need, clients upload it, staff accept or return it.

Every function takes the actor explicitly, adds to the session and never commits:
the view, job or command that calls it commits once, so the change, its activity
event and its queued emails are saved together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from portal import activity
from portal.access import can_manage_project, is_client_member
from portal.errors import Conflict, DomainError, NotAllowed
from portal.extensions import db
from portal.models import (
    AssetFile,
    AssetRequest,
    AssetRequestStatus,
    AssetReview,
    Project,
    ReviewDecision,
    ReviewState,
    Role,
    User,
)
from portal.notify.service import queue_each
from portal.storage.filetypes import KINDS, extensions_for
from portal.storage.uploads import ReceivedFile
from portal.timeutil import project_today, utcnow
from portal.urls import portal_url

TITLE_MAX = 200
INSTRUCTIONS_MAX = 5000
NOTE_MAX = 2000
STORAGE_PREFIX = "assets"


# --- Checks ---------------------------------------------------------------------------------


def _require_manager(actor: User, project: Project) -> None:
    if not can_manage_project(actor, project):
        raise NotAllowed(_l("Only the project's account manager or an admin can do this."))


def _require_not_archived(project: Project) -> None:
    if project.is_archived:
        raise DomainError(_l("This project is archived. Restore it to collect files again."))


def _clean_kinds(kinds: Iterable[str]) -> list[str]:
    chosen = [kind for kind in KINDS if kind in set(kinds)]  # the documented order, no duplicates
    if not chosen:
        raise DomainError(_l("Choose at least one kind of file."), field="kinds")
    if len(chosen) != len(set(kinds)):
        raise DomainError(_l("Choose kinds of file from the list."), field="kinds")
    return ["any"] if "any" in chosen else chosen


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise DomainError(_l("Say what you need, for example \u201cLogo as a vector file\u201d."), field="title")
    if len(title) > TITLE_MAX:
        raise DomainError(_l("Keep the title under %(count)s characters.", count=TITLE_MAX), field="title")
    return title


def _clean_instructions(text: str) -> str:
    text = (text or "").strip()
    if len(text) > INSTRUCTIONS_MAX:
        raise DomainError(_l("Keep the instructions under %(count)s characters.", count=INSTRUCTIONS_MAX), field="instructions")
    return text


def _check_due(due: date | None, project: Project, today: date | None) -> None:
    if due is not None and due < (today or project_today(project)):
        raise DomainError(_l("The due date cannot be in the past."), field="due_date")


# --- Recipients -----------------------------------------------------------------------------


def client_recipients(project: Project) -> list[User]:
    """Return the project's client members who want activity emails."""
    return [m.user for m in project.members if m.user.role is Role.CLIENT and m.user.wants_activity_email]


def _email_clients(project: Project, *, kind: str, key: str, template: str, **context: Any) -> None:
    """Queue an email about ``project`` for each of its client members who want activity emails."""
    queue_each(client_recipients(project), kind=kind, key=key, template=template, project=project, **context)


# --- Requests -------------------------------------------------------------------------------


def create_request(
    actor: User,
    project: Project,
    *,
    title: str,
    kinds: Iterable[str],
    instructions: str = "",
    due_date: date | None = None,
    required: bool = True,
    today: date | None = None,
) -> AssetRequest:
    """Ask the client of ``project`` for something; the client members are emailed. The caller commits."""
    _require_manager(actor, project)
    _require_not_archived(project)
    values = {
        "title": _clean_title(title),
        "instructions": _clean_instructions(instructions),
        "kinds": _clean_kinds(kinds),
    }
    _check_due(due_date, project, today)
    asset_request = AssetRequest(
        project=project,
        created_by=actor,
        due_date=due_date,
        required=bool(required),
        status=AssetRequestStatus.OPEN,
        current_version=1,
        **values,
    )
    db.session.add(asset_request)
    db.session.flush()
    activity.record(actor, "asset.requested", asset_request, project=project, data={"title": asset_request.title})
    _email_clients(
        project,
        kind="asset_requested",
        key=f"asset-requested:{asset_request.id}",
        template="emails/asset_requested.html",
        asset_request=asset_request,
        actor=actor,
        link=portal_url("assets.show_request", request_id=asset_request.id),
    )
    return asset_request


def update_request(actor: User, asset_request: AssetRequest, values: Mapping[str, Any], *, today: date | None = None) -> list[str]:
    """Change an open request's title, instructions, kinds, due date or required flag; the caller commits."""
    project = asset_request.project
    _require_manager(actor, project)
    if not asset_request.accepts_files:
        raise Conflict(_l("This request is closed and can no longer be changed."))
    cleaners = {
        "title": _clean_title,
        "instructions": _clean_instructions,
        "kinds": _clean_kinds,
        "due_date": lambda value: value,
        "required": bool,
    }
    changed = []
    for name, clean in cleaners.items():
        if name not in values:
            continue
        value = clean(values[name])
        if getattr(asset_request, name) != value:
            if name == "due_date":
                _check_due(value, project, today)
            setattr(asset_request, name, value)
            changed.append(name)
    if changed:
        activity.record(actor, "asset.request_updated", asset_request, project=project, data={"fields": changed})
    return changed


def cancel_request(actor: User, asset_request: AssetRequest) -> None:
    """Withdraw a request that is no longer needed; its files stay downloadable. The caller commits."""
    _require_manager(actor, asset_request.project)
    if asset_request.status is AssetRequestStatus.CANCELLED:
        raise Conflict(_l("This request was already cancelled."))
    if asset_request.status is AssetRequestStatus.ACCEPTED:
        raise Conflict(_l("This request was already accepted; it cannot be cancelled."))
    asset_request.status = AssetRequestStatus.CANCELLED
    asset_request.closed_at = utcnow()
    activity.record(actor, "asset.request_cancelled", asset_request, project=asset_request.project, data={"title": asset_request.title})


# --- Uploads --------------------------------------------------------------------------------


def accepts_uploads(project: Project, asset_request: AssetRequest | None = None) -> bool:
    """Tell whether files may be added now to ``asset_request`` (or, without one, to the project's shared files)."""
    return not project.is_archived and (asset_request is None or asset_request.accepts_files)


def check_upload_allowed(actor: User, project: Project, asset_request: AssetRequest | None = None) -> None:
    """Refuse an upload before any byte is stored: who may upload, and whether the request takes files."""
    if not (can_manage_project(actor, project) or is_client_member(actor, project)):
        raise NotAllowed(_l("You cannot upload files to this project."))
    _require_not_archived(project)
    if asset_request is None:
        return
    if asset_request.project_id != project.id:
        raise DomainError(_l("This request belongs to another project."))
    if asset_request.status is AssetRequestStatus.CANCELLED:
        raise Conflict(_l("This request was cancelled: the agency no longer needs these files."))
    if asset_request.status is AssetRequestStatus.ACCEPTED:
        raise Conflict(_l("This request was already accepted. To send something new, add it to the project's files."))


def add_files(actor: User, project: Project, asset_request: AssetRequest | None, received: Sequence[ReceivedFile]) -> list[AssetFile]:
    """Record stored uploads for a request (as its current version) or the project's general files.

    Writes an activity event and emails the other side (the account manager when a client
    uploads, the client members when staff do), once per request version. The caller commits;
    if that fails, the caller deletes the stored objects (``UploadBatch.discard_on_error``).
    """
    check_upload_allowed(actor, project, asset_request)
    if not received:
        raise DomainError(_l("Choose at least one file to upload."), field="files")
    now = utcnow()
    version = asset_request.current_version if asset_request else None
    if asset_request is not None:
        allowed = extensions_for(asset_request.kinds)
        for item in received:
            if item.extension not in allowed:
                raise DomainError(_l("%(name)s: this type of file is not accepted here.", name=item.name), field="files")
    files = [
        AssetFile(
            project=project,
            request=asset_request,
            version=version,
            **item.record(),
            uploaded_by=actor,
            review_state=ReviewState.PENDING if asset_request else None,
        )
        for item in received
    ]
    db.session.add_all(files)
    if asset_request is not None:
        # Touching the row bumps its version: a review or cancel committed meanwhile makes this fail.
        asset_request.status = AssetRequestStatus.SUBMITTED
        asset_request.submitted_at = now
    db.session.flush()
    names = [f.original_name for f in files]
    subject = asset_request or files[0]
    data = {"files": names, "version": version, "request_id": asset_request.id if asset_request else None}
    activity.record(actor, "asset.uploaded", subject, project=project, data=data)
    context: dict[str, Any] = {
        "project": project,
        "asset_request": asset_request,
        "actor": actor,
        "names": names,
        "version": version,
        "link": portal_url("assets.show_request", request_id=asset_request.id)
        if asset_request
        else portal_url("assets.index", project_id=project.id),
    }
    # One email per request version (or per uploader and day for general files), however many files arrive.
    key = f"asset-uploaded:{asset_request.id}:v{version}" if asset_request else f"asset-files:{project.id}:{actor.id}:{now:%Y-%m-%d}"
    if actor.is_staff:
        queue_each(client_recipients(project), kind="asset_uploaded", key=key, template="emails/asset_uploaded.html", **context)
    elif project.manager.wants_activity_email:
        queue_each([project.manager], kind="asset_uploaded", key=key, template="emails/asset_uploaded.html", **context)
    return files


# --- Reviews --------------------------------------------------------------------------------


def _check_reviewable(asset_request: AssetRequest) -> None:
    status = asset_request.status
    if status is AssetRequestStatus.ACCEPTED:
        raise Conflict(_l("This request was already accepted."))
    if status is AssetRequestStatus.CANCELLED:
        raise Conflict(_l("This request was cancelled."))
    if status is not AssetRequestStatus.SUBMITTED:
        raise Conflict(_l("There are no new files to review: the client has not uploaded a new version yet."))


def _review(actor: User, asset_request: AssetRequest, decision: ReviewDecision, note: str) -> AssetReview:
    _require_manager(actor, asset_request.project)
    _check_reviewable(asset_request)
    review = AssetReview(request=asset_request, version=asset_request.current_version, decision=decision, note=note, reviewer=actor)
    db.session.add(review)
    state = ReviewState.ACCEPTED if decision is ReviewDecision.ACCEPTED else ReviewState.RETURNED
    db.session.execute(
        update(AssetFile)
        .where(AssetFile.request_id == asset_request.id, AssetFile.version == asset_request.current_version)
        .values(review_state=state)
        .execution_options(synchronize_session="fetch")
    )
    return review


def accept(actor: User, asset_request: AssetRequest) -> AssetReview:
    """Accept the request's current version: the request is fulfilled and the client is told. The caller commits."""
    review = _review(actor, asset_request, ReviewDecision.ACCEPTED, "")
    asset_request.status = AssetRequestStatus.ACCEPTED
    asset_request.closed_at = utcnow()
    db.session.flush()
    project = asset_request.project
    activity.record(actor, "asset.accepted", asset_request, project=project, data={"title": asset_request.title, "version": review.version})
    _email_clients(
        project,
        kind="asset_accepted",
        key=f"asset-review:{review.id}",
        template="emails/asset_accepted.html",
        asset_request=asset_request,
        actor=actor,
        link=portal_url("assets.show_request", request_id=asset_request.id),
    )
    return review


def return_with_note(actor: User, asset_request: AssetRequest, note: str) -> AssetReview:
    """Return the current version with a note: the request reopens for a new version and the client is told."""
    note = (note or "").strip()
    if not note:
        raise DomainError(_l("Tell the client what to change, for example \u201cthe logo must be a vector file\u201d."), field="note")
    if len(note) > NOTE_MAX:
        raise DomainError(_l("Keep the note under %(count)s characters.", count=NOTE_MAX), field="note")
    review = _review(actor, asset_request, ReviewDecision.RETURNED, note)
    asset_request.status = AssetRequestStatus.RETURNED
    asset_request.current_version += 1
    db.session.flush()
    project = asset_request.project
    data = {"title": asset_request.title, "version": review.version, "note": note}
    activity.record(actor, "asset.returned", asset_request, project=project, data=data)
    _email_clients(
        project,
        kind="asset_returned",
        key=f"asset-review:{review.id}",
        template="emails/asset_returned.html",
        asset_request=asset_request,
        actor=actor,
        note=note,
        link=portal_url("assets.show_request", request_id=asset_request.id),
    )
    return review
