"""The API's access matrix: every endpoint × role × token scope.

Reads answer what the pages show each person (another organisation's object, or another
manager's project, is 404); writes need a read-write token (a read token gets 403 before
anything is looked up) and a member of staff who manages the project (a client 403). A
refusal changes nothing and answers JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import ActivityEvent, OutboxEmail, TokenScope
from portal.timeutil import project_today
from tests.integration.api_support import call, make_incident, make_token
from tests.integration.test_access_matrix import Scene

ROLES = ("other_client", "own_client", "manager", "other_manager", "admin")

ALL = (200, 200, 200, 200, 200)
OWN = (404, 200, 200, 404, 200)  # the project's organisation and its staff
STAFF_ONLY = (404, 404, 200, 404, 200)  # drafts and internal notes
READ_TOKEN_WRITES = (403, 403, 403, 403, 403)
WRITES = (404, 403, 201, 404, 201)


@dataclass(frozen=True)
class Endpoint:
    """One endpoint, with what each role gets and, for writes, the body it sends."""

    method: str
    path: str
    expect: tuple[int, ...]
    body: Callable[[Scene], dict[str, Any]] | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _check_in(scene: Scene) -> dict[str, Any]:
    return {"measured_on": project_today(scene.world.project).isoformat(), "value": "150"}


def _version(scene: Scene) -> dict[str, Any]:
    return {"links": [{"url": "https://staging.example.com", "label": "Staging"}], "change_notes": "Bigger logo"}


def _asset_request(scene: Scene) -> dict[str, Any]:
    return {"title": "Brand fonts", "kinds": ["documents"], "instructions": "The licensed files, please."}


def _update(scene: Scene) -> dict[str, Any]:
    return {"title": "Sprint 4", "body": "Payments are live.", "publish": True}


def _internal_note(scene: Scene) -> int:
    """An expectation note kept inside the agency."""
    from portal.models import Assessment, ExpectationNote, Visibility

    note = ExpectationNote(
        project=scene.world.project, author=scene.world.manager, expected="Copy by Monday", reality="Not yet",
        assessment=Assessment.WORSE, visibility=Visibility.INTERNAL,
    )
    db.session.add(note)
    db.session.commit()
    return note.id


def _drafted_version(scene: Scene) -> int:
    return scene.drafted_deliverable()


Scene.internal_note = _internal_note
Scene.drafted = _drafted_version
Scene.shared_incident = lambda scene: make_incident(scene.world)
Scene.internal_incident = lambda scene: make_incident(scene.world, shared=False)

# fmt: off
READS = [
    Endpoint("GET", "/projects",                                          ALL),
    Endpoint("GET", "/projects/{project}",                                OWN),
    Endpoint("GET", "/projects/{project}/goals",                          OWN),
    Endpoint("GET", "/goals/{goal}",                                      OWN),
    Endpoint("GET", "/projects/{project}/deliverables",                   OWN),
    Endpoint("GET", "/deliverables/{deliverable}",                        OWN),
    Endpoint("GET", "/deliverables/{deliverable}/versions/1",             OWN),
    Endpoint("GET", "/deliverables/{drafted}/versions/2",                 STAFF_ONLY),
    Endpoint("GET", "/projects/{project}/asset-requests",                 OWN),
    Endpoint("GET", "/asset-requests/{asset_request}",                    OWN),
    Endpoint("GET", "/projects/{project}/updates",                        OWN),
    Endpoint("GET", "/projects/{project}/updates/{update}",               OWN),
    Endpoint("GET", "/projects/{project}/updates/{kept_draft}",           STAFF_ONLY),
    Endpoint("GET", "/projects/{project}/expectation-notes",              OWN),
    Endpoint("GET", "/projects/{project}/expectation-notes/{xnote}",      OWN),
    Endpoint("GET", "/projects/{project}/expectation-notes/{internal_note}", STAFF_ONLY),
    Endpoint("GET", "/projects/{project}/incidents",                      OWN),
    Endpoint("GET", "/incidents/{shared_incident}",                       OWN),
    Endpoint("GET", "/incidents/{internal_incident}",                     STAFF_ONLY),
]
WRITE_ENDPOINTS = [
    Endpoint("POST", "/goals/{agreed_goal}/check-ins",                    WRITES, _check_in),
    Endpoint("POST", "/deliverables/{review_deliverable}/versions",       WRITES, _version),
    Endpoint("POST", "/projects/{project}/asset-requests",                WRITES, _asset_request),
    Endpoint("POST", "/projects/{project}/updates",                       WRITES, _update),
]
# fmt: on
CASES = (
    [(e, TokenScope.READ, e.expect) for e in READS]
    + [(e, TokenScope.READ_WRITE, e.expect) for e in READS]
    + [(e, TokenScope.READ, READ_TOKEN_WRITES) for e in WRITE_ENDPOINTS]
    + [(e, TokenScope.READ_WRITE, e.expect) for e in WRITE_ENDPOINTS]
)


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(ActivityEvent)),
        db.session.scalar(select(func.count()).select_from(OutboxEmail)),
    )


@pytest.fixture
def scene(world, make_user) -> Scene:
    """Return the access matrix's world, ready to make what each endpoint acts on."""
    return Scene(world, make_user)


@pytest.mark.parametrize(("endpoint", "scope", "expect"), CASES, ids=lambda v: v.id if isinstance(v, Endpoint) else str(v))
def test_api_access(make_web, scene: Scene, endpoint: Endpoint, scope: TokenScope, expect: tuple[int, ...]):
    """Each role, with a token of this scope, gets exactly what the matrix promises; refusals are JSON and change nothing."""
    wrong = []
    for role, expected in zip(ROLES, expect, strict=True):
        token = make_token(getattr(scene.world, role), scope)
        path = endpoint.path.format_map(scene)
        body = endpoint.body(scene) if endpoint.body else None
        before = _counts()
        response = call(make_web(), endpoint.method, path, token, json=body)
        if response.status_code != expected:
            wrong.append(f"  {role}: expected {expected}, got {response.status_code} {response.get_data(as_text=True)[:200]}")
            continue
        payload = response.get_json()
        if expected >= 400:
            if set(payload) - {"field"} != {"error", "message"} or not payload["message"]:
                wrong.append(f"  {role}: not a JSON error: {payload}")
            if _counts() != before:
                wrong.append(f"  {role}: refused with {expected}, yet something was changed")
    assert not wrong, f"{endpoint.id} ({scope.value})\n" + "\n".join(wrong)


@pytest.mark.parametrize("endpoint", READS + WRITE_ENDPOINTS, ids=lambda e: e.id)
@pytest.mark.parametrize("kind", ["none", "unknown", "revoked", "deactivated", "not bearer"])
def test_every_endpoint_refuses_a_request_without_a_working_token(make_web, scene: Scene, endpoint: Endpoint, kind: str):
    """No token, a made-up one, a revoked one or a deactivated person's one: 401, JSON, and nothing changes."""
    from portal.api import tokens
    from portal.models import ApiToken

    user = scene.world.admin
    token: str | None = make_token(user, TokenScope.READ_WRITE)
    headers = {}
    if kind == "none":
        token = None
    elif kind == "unknown":
        token = tokens.PREFIX + "not-a-token-anyone-has-0000000000000"
    elif kind == "revoked":
        db.session.scalar(select(ApiToken).where(ApiToken.token_hash == tokens.digest(token))).revoked_at = db.func.now()
        db.session.commit()
    elif kind == "deactivated":
        user.active = False
        db.session.commit()
    else:
        headers = {"Authorization": f"Basic {token}"}
        token = None
    path = endpoint.path.format_map(scene)
    body = endpoint.body(scene) if endpoint.body else None
    before = _counts()
    response = call(make_web(), endpoint.method, path, token, json=body, headers=headers)
    if endpoint.method == "POST" and token is None:
        # Without a Bearer token a POST is checked as a browser's form post first (portal.api.auth): 400, never acted on.
        assert (response.status_code, response.get_json()["error"]) == (400, "missing_token"), response.get_data(as_text=True)
    else:
        assert response.status_code == 401, (kind, response.get_data(as_text=True))
        assert response.get_json()["error"] in {"unauthorized", "invalid_token"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _counts() == before
