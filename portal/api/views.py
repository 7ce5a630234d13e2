"""The REST API, ``/api/v1``: what the portal shows each person, and the staff's main writes.

Reads go through ``portal.access`` like the pages (another organisation's object is 404);
writes call the same services as the pages, and their refusals come back as JSON 4xx.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import HTTPException

from portal.access import (
    asset_request_or_404,
    can_manage_project,
    deliverable_or_404,
    deliverable_version_or_404,
    expectation_note_or_404,
    goal_or_404,
    incident_or_404,
    project_or_404,
    update_or_404,
    visible_expectation_notes,
    visible_incidents,
    visible_projects,
    visible_updates,
)
from portal.api import body, serialize, spec
from portal.api.auth import api_user, authenticate, rate_key, rate_limit, writes
from portal.api.errors import api_committing, handle_http_error
from portal.api.pagination import paginate
from portal.assets import service as assets_service
from portal.deliverables import service as deliverables_service
from portal.extensions import csrf, db, limiter
from portal.goals import service as goals_service
from portal.goals.queries import goal_rows
from portal.models import (
    AssetRequest,
    Decision,
    Deliverable,
    DeliverableVersion,
    ExpectationNote,
    Goal,
    Project,
    Update,
    VersionStatus,
)
from portal.timeutil import project_today
from portal.updates import service as updates_service

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(authenticate)
bp.register_error_handler(HTTPException, handle_http_error)
csrf.exempt(bp)  # token-only: no cookie opens the API, so no forged form can use it (portal.api.auth)
limiter.limit(rate_limit, key_func=rate_key)(bp)  # each token its own budget


@bp.after_request
def _not_stored(response: Response) -> Response:
    """Keep answers out of shared caches: each is one person's view."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _created(payload: dict[str, Any], location: str):
    response = jsonify(payload)
    response.status_code = 201
    response.headers["Location"] = location
    return response


@bp.get("/openapi.json")
@spec.operation("The OpenAPI 3.1 document of this API", tag="Meta", description="Public: it describes the API, not anyone's data.")
def openapi():
    """Serve the OpenAPI document, generated from the routes."""
    return jsonify(spec.document(current_app))


# --- Projects -----------------------------------------------------------------------------


@bp.get("/projects")
@spec.operation("List the projects you can see", tag="Projects", answers="Project", many=True)
def projects():
    """List the projects the token's owner sees (archived ones too), oldest first."""
    query = visible_projects(api_user(), include_archived=True).options(joinedload(Project.client), joinedload(Project.manager))
    return jsonify(paginate(query, Project.id, lambda rows: [serialize.project(p) for p in rows]))


@bp.get("/projects/<int:project_id>")
@spec.operation("Get a project", tag="Projects", answers="Project")
def project(project_id: int):
    """Show one project."""
    return jsonify(serialize.project(project_or_404(api_user(), project_id)))


# --- Goals --------------------------------------------------------------------------------


def _goals(goals: Sequence[Goal], project: Project) -> list[dict[str, Any]]:
    rows = sorted(goal_rows(goals, project_today(project)), key=lambda row: row.goal.id)
    return [serialize.goal(row) for row in rows]


@bp.get("/projects/<int:project_id>/goals")
@spec.operation("List a project's goals with their status, expected and actual values today", tag="Goals", answers="Goal", many=True)
def goals(project_id: int):
    """List a project's goals with their progress on the project's calendar day."""
    found = project_or_404(api_user(), project_id)
    return jsonify(paginate(select(Goal).where(Goal.project_id == found.id), Goal.id, lambda rows: _goals(rows, found)))


@bp.get("/goals/<int:goal_id>")
@spec.operation("Get a goal with its check-ins", tag="Goals", answers="GoalDetail")
def goal(goal_id: int):
    """Show one goal, its progress today and every check-in (the actual line)."""
    found = goal_or_404(api_user(), goal_id)
    return jsonify({**_goals([found], found.project)[0], "check_ins": [serialize.check_in(c) for c in found.check_ins]})


@bp.post("/goals/<int:goal_id>/check-ins")
@spec.operation("Record a check-in of an agreed goal", tag="Goals", answers="CheckIn", body="NewCheckIn", status=201)
@writes
def check_in(goal_id: int):
    """Record the actual value (or done / not done) of an agreed goal on a date."""
    user = api_user()
    found = goal_or_404(user, goal_id)
    data = body.json_object()
    with api_committing():
        recorded = goals_service.record_check_in(
            user,
            found,
            measured_on=body.day(data, "measured_on"),
            value=body.number(data, "value"),
            done=body.optional_flag(data, "done"),
            note=body.text(data, "note"),
        )
    return _created(serialize.check_in(recorded), url_for("api.goal", goal_id=found.id))


# --- Deliverables -------------------------------------------------------------------------


@bp.get("/projects/<int:project_id>/deliverables")
@spec.operation("List a project's deliverables", tag="Deliverables", answers="Deliverable", many=True)
def deliverables(project_id: int):
    """List a project's deliverables."""
    found = project_or_404(api_user(), project_id)
    query = select(Deliverable).where(Deliverable.project_id == found.id)
    return jsonify(paginate(query, Deliverable.id, lambda rows: [serialize.deliverable(d) for d in rows]))


def _versions(deliverable: Deliverable, *, drafts: bool) -> list[DeliverableVersion]:
    query = (
        select(DeliverableVersion)
        .where(DeliverableVersion.deliverable_id == deliverable.id)
        .options(
            selectinload(DeliverableVersion.links),
            selectinload(DeliverableVersion.files),
            selectinload(DeliverableVersion.decisions).joinedload(Decision.approver),
        )
        .order_by(DeliverableVersion.number)
    )
    if not drafts:
        query = query.where(DeliverableVersion.status != VersionStatus.DRAFT)
    return list(db.session.scalars(query))


@bp.get("/deliverables/<int:deliverable_id>")
@spec.operation("Get a deliverable with its versions and their decisions", tag="Deliverables", answers="DeliverableDetail")
def deliverable(deliverable_id: int):
    """Show a deliverable, each version its reader may see (drafts: staff who manage it) and every decision."""
    user = api_user()
    found = deliverable_or_404(user, deliverable_id)
    return jsonify(serialize.deliverable_detail(found, _versions(found, drafts=can_manage_project(user, found.project))))


@bp.get("/deliverables/<int:deliverable_id>/versions/<int:number>")
@spec.operation("Get one version of a deliverable with its decisions", tag="Deliverables", answers="Version")
def version(deliverable_id: int, number: int):
    """Show one version (drafts: staff who manage the deliverable only)."""
    return jsonify(serialize.version(deliverable_version_or_404(api_user(), deliverable_id, number)))


@bp.post("/deliverables/<int:deliverable_id>/versions")
@spec.operation(
    "Submit the next version (links; files are uploaded on the page)",
    tag="Deliverables",
    answers="Version",
    body="NewVersion",
    status=201,
    description="Starts the next version (or takes the draft in preparation, with any files uploaded to it on the page), "
    "puts the links and notes on it and submits it for review; with `submit: false` keeps it as the draft.",
)
@writes
def submit_version(deliverable_id: int):
    """Start (or continue) the next version, add its links and submit it for review."""
    user = api_user()
    found = deliverable_or_404(user, deliverable_id)
    data = body.json_object()
    links, notes, impact = body.links(data), body.text(data, "change_notes"), body.text(data, "impact_note")
    submit = body.flag(data, "submit", True)
    with api_committing():
        draft = deliverables_service.start_version(user, found)
        if submit:
            deliverables_service.submit_version(user, draft, change_notes=notes, links=links, impact_note=impact)
        else:
            deliverables_service.save_draft(user, draft, change_notes=notes, links=links, impact_note=impact)
    return _created(serialize.version(draft), url_for("api.version", deliverable_id=found.id, number=draft.number))


# --- Asset requests -----------------------------------------------------------------------


@bp.get("/projects/<int:project_id>/asset-requests")
@spec.operation("List a project's asset requests", tag="Asset requests", answers="AssetRequest", many=True)
def asset_requests(project_id: int):
    """List what the agency asked the project's client for."""
    found = project_or_404(api_user(), project_id)
    query = select(AssetRequest).where(AssetRequest.project_id == found.id)
    return jsonify(paginate(query, AssetRequest.id, lambda rows: [serialize.asset_request(r) for r in rows]))


@bp.get("/asset-requests/<int:request_id>")
@spec.operation("Get an asset request", tag="Asset requests", answers="AssetRequest")
def asset_request(request_id: int):
    """Show one asset request."""
    return jsonify(serialize.asset_request(asset_request_or_404(api_user(), request_id)))


@bp.post("/projects/<int:project_id>/asset-requests")
@spec.operation("Request an asset from the client", tag="Asset requests", answers="AssetRequest", body="NewAssetRequest", status=201)
@writes
def request_asset(project_id: int):
    """Ask the project's client for something; the client members are emailed."""
    user = api_user()
    found = project_or_404(user, project_id)
    data = body.json_object()
    with api_committing():
        created = assets_service.create_request(
            user,
            found,
            title=body.text(data, "title"),
            kinds=body.strings(data, "kinds"),
            instructions=body.text(data, "instructions"),
            due_date=body.day(data, "due_date"),
            required=body.flag(data, "required", True),
        )
    return _created(serialize.asset_request(created), url_for("api.asset_request", request_id=created.id))


# --- Progress updates ---------------------------------------------------------------------


@bp.get("/projects/<int:project_id>/updates")
@spec.operation("List a project's progress updates (clients: published ones)", tag="Updates", answers="Update", many=True)
def updates(project_id: int):
    """List a project's updates the reader may see."""
    user = api_user()
    found = project_or_404(user, project_id)
    query = visible_updates(user, found).options(joinedload(Update.author))
    return jsonify(paginate(query, Update.id, lambda rows: [serialize.update(u) for u in rows]))


@bp.get("/projects/<int:project_id>/updates/<int:update_id>")
@spec.operation("Get a progress update", tag="Updates", answers="Update")
def update(project_id: int, update_id: int):
    """Show one update (drafts: staff only)."""
    return jsonify(serialize.update(update_or_404(api_user(), project_id, update_id)))


@bp.post("/projects/<int:project_id>/updates")
@spec.operation("Write a progress update, as a draft or published", tag="Updates", answers="Update", body="NewUpdate", status=201)
@writes
def create_update(project_id: int):
    """Write a manual update; published at once with ``publish: true`` (the client members who want it are emailed)."""
    user = api_user()
    found = project_or_404(user, project_id)
    data = body.json_object()
    values = {name: body.text(data, name) for name in updates_service.UPDATE_FIELDS}
    publish = body.flag(data, "publish", False)
    with api_committing():
        created = updates_service.save_update(user, found, values, publish=publish)
    return _created(serialize.update(created), url_for("api.update", project_id=found.id, update_id=created.id))


# --- Expectation notes --------------------------------------------------------------------


@bp.get("/projects/<int:project_id>/expectation-notes")
@spec.operation("List a project's expectation-vs-reality notes (clients: shared ones)", tag="Expectation notes", answers="ExpectationNote", many=True)
def expectation_notes(project_id: int):
    """List a project's expectation notes the reader may see."""
    user = api_user()
    found = project_or_404(user, project_id)
    query = visible_expectation_notes(user, found)
    return jsonify(paginate(query, ExpectationNote.id, lambda rows: [serialize.expectation_note(n) for n in rows]))


@bp.get("/projects/<int:project_id>/expectation-notes/<int:note_id>")
@spec.operation("Get an expectation-vs-reality note", tag="Expectation notes", answers="ExpectationNote")
def expectation_note(project_id: int, note_id: int):
    """Show one expectation note (internal ones: staff only)."""
    return jsonify(serialize.expectation_note(expectation_note_or_404(api_user(), project_id, note_id)))


# --- Incidents ----------------------------------------------------------------------------
# Loaded through the incidents feature's own loaders (clients: shared incidents of their projects only).


@bp.get("/projects/<int:project_id>/incidents")
@spec.operation("List a project's incidents (clients: shared ones)", tag="Incidents", answers="Incident", many=True)
def incidents(project_id: int):
    """List a project's incidents the reader may see."""
    from portal.models import Incident

    user = api_user()
    found = project_or_404(user, project_id)
    query = visible_incidents(user).where(Incident.project_id == found.id)
    return jsonify(paginate(query, Incident.id, lambda rows: [serialize.incident(i) for i in rows]))


@bp.get("/incidents/<int:incident_id>")
@spec.operation("Get an incident with its recovery plan", tag="Incidents", answers="IncidentDetail")
def incident(incident_id: int):
    """Show one incident and the dated steps of its recovery plan."""

    return jsonify(serialize.incident_detail(incident_or_404(api_user(), incident_id)))
