"""What the API answers: each object as JSON, and its JSON Schema for the OpenAPI document beside it.

Schemas and serialisers sit together so that a field added to one is seen missing from
the other in review; ``tests/integration/test_api_openapi.py`` validates answers against them.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from portal.goals.progress import GoalProgress
from portal.goals.queries import GoalRow
from portal.models import (
    AssetRequest,
    Decision,
    Deliverable,
    DeliverableVersion,
    ExpectationNote,
    GoalCheckIn,
    Project,
    Update,
    User,
)


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # "150", "12.5": no exponent, no trailing zeros
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _person(user: User | None) -> dict[str, Any] | None:
    return {"id": user.id, "name": user.name} if user is not None else None


# --- JSON Schema helpers -----------------------------------------------------------------

_STRING = {"type": "string"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}
_DATE = {"type": ["string", "null"], "format": "date"}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_DECIMAL = {"type": ["string", "null"], "description": "A decimal number, as text (no rounding)."}
_PERSON = {"oneOf": [{"$ref": "#/components/schemas/Person"}, {"type": "null"}]}


def _enum(kind: type[enum.Enum]) -> dict[str, Any]:
    return {"type": "string", "enum": [member.value for member in kind]}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


# --- Projects -------------------------------------------------------------------------------


def project(item: Project) -> dict[str, Any]:
    """Return a project as the API shows it."""
    return {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "status": _value(item.status),
        "client": {"id": item.client.id, "name": item.client.name},
        "manager": _person(item.manager),
        "start_date": _value(item.start_date),
        "target_date": _value(item.target_date),
        "timezone": item.timezone,
        "weekly_update": {"weekday": item.weekly_weekday, "hour": item.weekly_hour},
        "archived_at": _value(item.archived_at),
        "created_at": _value(item.created_at),
    }


# --- Goals ----------------------------------------------------------------------------------


def _progress(progress: GoalProgress) -> dict[str, Any]:
    return {
        "on": _value(progress.on),
        "status": _value(progress.status),
        "expected": _value(progress.expected),
        "actual": _value(progress.actual),
        "variance": _value(progress.variance),
        "behind_percent": _value(progress.behind_percent),
        "percent_complete": progress.percent_complete,
        "measured_on": _value(progress.measured_on),
    }


def goal(row: GoalRow) -> dict[str, Any]:
    """Return a goal with its terms (the agreed ones, else the latest proposal) and its progress today."""
    terms = row.terms
    return {
        "id": row.goal.id,
        "project_id": row.goal.project_id,
        "state": _value(row.goal.state),
        "agreed": row.agreed is not None,
        "revision": terms.number,
        "title": terms.title,
        "why": terms.why,
        "measure": _value(terms.measure),
        "metric_name": terms.metric_name,
        "baseline": _value(terms.baseline),
        "target": _value(terms.target),
        "unit": terms.unit,
        "done_when": terms.done_when,
        "target_date": _value(terms.target_date),
        "waiting_for": [_value(side) for side in row.waiting_for],
        "unconfirmed_assumptions": row.unconfirmed,
        "progress": _progress(row.progress),
    }


def check_in(item: GoalCheckIn) -> dict[str, Any]:
    """Return a recorded check-in."""
    return {
        "id": item.id,
        "goal_id": item.goal_id,
        "measured_on": _value(item.measured_on),
        "value": _value(item.value),
        "done": item.done,
        "note": item.note,
        "created_at": _value(item.created_at),
    }


# --- Deliverables ---------------------------------------------------------------------------


def deliverable(item: Deliverable) -> dict[str, Any]:
    """Return a deliverable without its versions (the list)."""
    return {
        "id": item.id,
        "project_id": item.project_id,
        "title": item.title,
        "description": item.description,
        "status": _value(item.status),
        "due_date": _value(item.due_date),
        "included_rounds": item.included_rounds,
        "current_version": item.current_number,
        "approved_at": _value(item.approved_at),
        "updated_at": _value(item.updated_at),
    }


def decision(item: Decision) -> dict[str, Any]:
    """Return an approver's decision on one version (a permanent record)."""
    return {
        "id": item.id,
        "approver": _person(item.approver),
        "outcome": _value(item.outcome),
        "reason_category": _value(item.reason_category),
        "text": item.text,
        "decided_at": _value(item.decided_at),
    }


def version(item: DeliverableVersion) -> dict[str, Any]:
    """Return a version with its links, files (names and sizes) and decisions."""
    return {
        "number": item.number,
        "status": _value(item.status),
        "round": item.round,
        "over_rounds": item.over_rounds,
        "change_notes": item.change_notes,
        "impact_note": item.impact_note,
        "submitted_at": _value(item.submitted_at),
        "settled_at": _value(item.settled_at),
        "links": [{"url": link.url, "label": link.label} for link in item.links],
        "files": [{"id": f.id, "name": f.original_name, "size": f.size, "content_type": f.content_type, "sha256": f.sha256} for f in item.files],
        "decisions": [decision(d) for d in item.decisions],
    }


def deliverable_detail(item: Deliverable, versions: Sequence[DeliverableVersion]) -> dict[str, Any]:
    """Return a deliverable with the versions its reader may see, oldest first."""
    return {**deliverable(item), "versions": [version(v) for v in versions]}


# --- Asset requests, updates, expectation notes --------------------------------------------


def asset_request(item: AssetRequest) -> dict[str, Any]:
    """Return an asset request (what the agency asks the client for)."""
    return {
        "id": item.id,
        "project_id": item.project_id,
        "title": item.title,
        "instructions": item.instructions,
        "kinds": list(item.kinds or []),
        "due_date": _value(item.due_date),
        "required": item.required,
        "status": _value(item.status),
        "current_version": item.current_version,
        "submitted_at": _value(item.submitted_at),
        "closed_at": _value(item.closed_at),
        "created_at": _value(item.created_at),
    }


def update(item: Update) -> dict[str, Any]:
    """Return a progress update (Markdown texts as written)."""
    return {
        "id": item.id,
        "project_id": item.project_id,
        "kind": _value(item.kind),
        "status": _value(item.status),
        "title": item.title,
        "body": item.body,
        "done": item.done,
        "next_steps": item.next_steps,
        "blockers": item.blockers,
        "needs": item.needs,
        "author": _person(item.author),
        "published_at": _value(item.published_at),
        "week_of": _value(item.week_of),
        "created_at": _value(item.created_at),
    }


def expectation_note(item: ExpectationNote) -> dict[str, Any]:
    """Return an expectation-vs-reality note."""
    return {
        "id": item.id,
        "project_id": item.project_id,
        "source": _value(item.source),
        "visibility": _value(item.visibility),
        "assessment": _value(item.assessment),
        "expected": item.expected,
        "reality": item.reality,
        "variance": item.variance,
        "cause": item.cause,
        "impact": item.impact,
        "next_step": item.next_step,
        "week_of": _value(item.week_of),
        "created_at": _value(item.created_at),
    }


def incident(item: Any) -> dict[str, Any]:
    """Return an incident (``portal.models.incidents``) without its plan (the list)."""
    return {
        "id": item.id,
        "project_id": item.project_id,
        "title": item.title,
        "details": item.details,
        "detected_at": _value(item.detected_at),
        "affected": item.affected,
        "impact": item.impact,
        "cause": item.cause,
        "visibility": _value(item.visibility),
        "status": _value(item.status),
        "closed_at": _value(item.closed_at),
        "closing_note": item.closing_note,
        "plan_version": item.plan_version,
    }


def incident_detail(item: Any) -> dict[str, Any]:
    """Return an incident with the dated steps of its recovery plan."""
    steps = [
        {
            "id": step.id,
            "title": step.title,
            "due_on": _value(step.due_on),
            "owner": _person(step.owner),
            "owner_is_client": step.owner_is_client,
            "done_at": _value(step.done_at),
        }
        for step in item.steps
    ]
    return {**incident(item), "steps": steps}


def schemas() -> dict[str, dict[str, Any]]:
    """Return the JSON Schema of every object the API answers with (components of the OpenAPI document)."""
    from portal.goals.progress import ProgressStatus
    from portal.models import (
        Assessment,
        AssetRequestStatus,
        DecisionOutcome,
        DeliverableStatus,
        GoalState,
        MeasureKind,
        NoteSource,
        ProjectStatus,
        ReasonCategory,
        Side,
        UpdateKind,
        UpdateStatus,
        VersionStatus,
        Visibility,
    )

    return {
        "Error": {
            "type": "object",
            "properties": {"error": _STRING, "message": _STRING, "field": _STRING},
            "required": ["error", "message"],
        },
        "Person": _object({"id": _INT, "name": _STRING}),
        "Project": _object({
            "id": _INT, "name": _STRING, "description": _STRING, "status": _enum(ProjectStatus),
            "client": _object({"id": _INT, "name": _STRING}), "manager": _PERSON,
            "start_date": _DATE, "target_date": _DATE, "timezone": _STRING,
            "weekly_update": _object({"weekday": {"type": "integer", "minimum": 0, "maximum": 6}, "hour": {"type": "integer", "minimum": 0, "maximum": 23}}),
            "archived_at": _TIME, "created_at": _TIME,
        }),
        "GoalProgress": _object({
            "on": _DATE, "status": _enum(ProgressStatus), "expected": _DECIMAL, "actual": _DECIMAL, "variance": _DECIMAL,
            "behind_percent": _DECIMAL, "percent_complete": {"type": "integer", "minimum": 0, "maximum": 100}, "measured_on": _DATE,
        }),
        "Goal": _object({
            "id": _INT, "project_id": _INT, "state": _enum(GoalState), "agreed": _BOOL, "revision": _INT, "title": _STRING, "why": _STRING,
            "measure": _enum(MeasureKind), "metric_name": _STRING, "baseline": _DECIMAL, "target": _DECIMAL, "unit": _STRING,
            "done_when": _STRING, "target_date": _DATE, "waiting_for": {"type": "array", "items": _enum(Side)},
            "unconfirmed_assumptions": _INT, "progress": {"$ref": "#/components/schemas/GoalProgress"},
        }),
        "GoalDetail": {
            "allOf": [
                {"$ref": "#/components/schemas/Goal"},
                {
                    "type": "object",
                    "properties": {"check_ins": {"type": "array", "items": {"$ref": "#/components/schemas/CheckIn"}}},
                    "required": ["check_ins"],
                },
            ]
        },
        "CheckIn": _object({
            "id": _INT, "goal_id": _INT, "measured_on": _DATE, "value": _DECIMAL, "done": {"type": ["boolean", "null"]}, "note": _STRING, "created_at": _TIME,
        }),
        "Deliverable": _object({
            "id": _INT, "project_id": _INT, "title": _STRING, "description": _STRING, "status": _enum(DeliverableStatus), "due_date": _DATE,
            "included_rounds": _INT, "current_version": {"type": ["integer", "null"]}, "approved_at": _TIME, "updated_at": _TIME,
        }),
        "Decision": _object({
            "id": _INT, "approver": _PERSON, "outcome": _enum(DecisionOutcome),
            "reason_category": {"oneOf": [_enum(ReasonCategory), {"type": "null"}]}, "text": _STRING, "decided_at": _TIME,
        }),
        "Version": _object({
            "number": _INT, "status": _enum(VersionStatus), "round": _INT, "over_rounds": _BOOL, "change_notes": _STRING, "impact_note": _STRING,
            "submitted_at": _TIME, "settled_at": _TIME,
            "links": {"type": "array", "items": _object({"url": _STRING, "label": _STRING})},
            "files": {"type": "array", "items": _object({"id": _INT, "name": _STRING, "size": _INT, "content_type": _STRING, "sha256": _STRING})},
            "decisions": {"type": "array", "items": {"$ref": "#/components/schemas/Decision"}},
        }),
        "DeliverableDetail": {
            "allOf": [
                {"$ref": "#/components/schemas/Deliverable"},
                {"type": "object", "properties": {"versions": {"type": "array", "items": {"$ref": "#/components/schemas/Version"}}}, "required": ["versions"]},
            ]
        },
        "AssetRequest": _object({
            "id": _INT, "project_id": _INT, "title": _STRING, "instructions": _STRING, "kinds": {"type": "array", "items": _STRING},
            "due_date": _DATE, "required": _BOOL, "status": _enum(AssetRequestStatus), "current_version": _INT,
            "submitted_at": _TIME, "closed_at": _TIME, "created_at": _TIME,
        }),
        "Update": _object({
            "id": _INT, "project_id": _INT, "kind": _enum(UpdateKind), "status": _enum(UpdateStatus), "title": _STRING, "body": _STRING,
            "done": _STRING, "next_steps": _STRING, "blockers": _STRING, "needs": _STRING, "author": _PERSON,
            "published_at": _TIME, "week_of": _DATE, "created_at": _TIME,
        }),
        "ExpectationNote": _object({
            "id": _INT, "project_id": _INT, "source": _enum(NoteSource), "visibility": _enum(Visibility),
            "assessment": {"oneOf": [_enum(Assessment), {"type": "null"}]}, "expected": _STRING, "reality": _STRING,
            "variance": _STRING, "cause": _STRING, "impact": _STRING, "next_step": _STRING, "week_of": _DATE, "created_at": _TIME,
        }),
        "Incident": _object({
            "id": _INT, "project_id": _INT, "title": _STRING, "details": _STRING, "detected_at": _TIME, "affected": _STRING, "impact": _STRING,
            "cause": _STRING, "visibility": _enum(Visibility), "status": {"type": "string", "enum": ["open", "closed"]}, "closed_at": _TIME,
            "closing_note": _STRING, "plan_version": _INT,
        }),
        "IncidentDetail": {
            "allOf": [
                {"$ref": "#/components/schemas/Incident"},
                {
                    "type": "object",
                    "properties": {
                        "steps": {
                            "type": "array",
                            "items": _object({
                                "id": _INT, "title": _STRING, "due_on": _DATE, "owner": _PERSON, "owner_is_client": _BOOL, "done_at": _TIME,
                            }),
                        }
                    },
                    "required": ["steps"],
                },
            ]
        },
        # Request bodies of the write endpoints.
        "NewUpdate": {
            "type": "object",
            "properties": {
                "title": _STRING, "body": _STRING, "done": _STRING, "next_steps": _STRING, "blockers": _STRING, "needs": _STRING,
                "publish": {**_BOOL, "default": False, "description": "Publish at once (clients see it and are emailed); else a draft."},
            },
            "required": ["title"],
        },
        "NewAssetRequest": {
            "type": "object",
            "properties": {
                "title": _STRING, "kinds": {"type": "array", "items": _STRING, "description": "Accepted kinds of files, e.g. images, documents."},
                "instructions": _STRING, "due_date": {**_DATE, "description": "A calendar day of the project."}, "required": {**_BOOL, "default": True},
            },
            "required": ["title", "kinds"],
        },
        "NewVersion": {
            "type": "object",
            "properties": {
                "links": {"type": "array", "items": {"type": "object", "properties": {"url": _STRING, "label": _STRING}, "required": ["url"]}},
                "change_notes": _STRING, "impact_note": _STRING,
                "submit": {**_BOOL, "default": True, "description": "Submit for review (the approvers are emailed); else keep it as the draft."},
            },
        },
        "NewCheckIn": {
            "type": "object",
            "properties": {
                "measured_on": {"type": "string", "format": "date"}, "value": {"type": ["string", "number"], "description": "Metric goals."},
                "done": {**_BOOL, "description": "\"Done when\" goals."}, "note": _STRING,
            },
            "required": ["measured_on"],
        },
    }
