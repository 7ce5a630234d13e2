"""The REST API as its users meet it: tokens from the account page, what each person reads, writes and their refusals."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import ApiToken, AssetRequest, TokenScope, Update, UpdateStatus
from tests.fixtures.outbox import emails
from tests.integration.api_support import call, make_token

TOKEN = re.compile(r'value="(rpt_[A-Za-z0-9_-]{43})"')


# --- Tokens on the account page -------------------------------------------------------------


def test_a_token_is_made_on_the_account_page_shown_once_and_stored_hashed(web, world):
    """The page shows the new token once; only its SHA-256 is kept, and the token opens the API as its owner."""
    web.login(world.manager)
    assert "/account/tokens/" in web.text("/account/")
    response = web.post("/account/tokens/", {"name": "Reporting sheet", "scope": "read_write"})
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    assert "shown only once" in page
    secret = TOKEN.search(page).group(1)
    stored = db.session.scalar(select(ApiToken))
    assert stored.name == "Reporting sheet" and stored.scope is TokenScope.READ_WRITE
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in web.text("/account/tokens/")  # never shown again
    assert "Never used" in web.text("/account/tokens/")

    answer = call(web, "GET", "/projects", secret)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in answer.headers
    assert [p["name"] for p in answer.get_json()["data"]] == ["E-commerce relaunch"]
    assert "Last used" in web.text("/account/tokens/")


def test_a_revoked_token_stops_at_once(web, world):
    """Revoking on the page makes the next API call a 401."""
    web.login(world.own_client)
    secret = TOKEN.search(web.post("/account/tokens/", {"name": "", "scope": "read"}).get_data(as_text=True)).group(1)
    assert call(web, "GET", "/projects", secret).status_code == 200
    token = db.session.scalar(select(ApiToken))
    assert web.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    response = call(web, "GET", "/projects", secret)
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_token"
    assert "You have no tokens." in web.text("/account/tokens/")


def test_a_token_stops_when_its_organisation_is_archived(web, world):
    """The same rule as a login: once the client's organisation is archived, its people's tokens are refused."""
    from portal.timeutil import utcnow

    secret = make_token(world.own_client)
    assert call(web, "GET", "/projects", secret).status_code == 200
    world.own_org.archived_at = utcnow()
    db.session.commit()
    assert call(web, "GET", "/projects", secret).status_code == 401


def test_clients_can_only_make_read_tokens(web, world):
    """A client's form offers reading only; a forged read-write choice is refused and no token is made."""
    web.login(world.own_client)
    assert 'value="read_write"' not in web.text("/account/tokens/")
    response = web.post("/account/tokens/", {"name": "Sneaky", "scope": "read_write"})
    assert response.status_code == 422
    assert 'value="Sneaky"' in response.get_data(as_text=True)  # what they typed is kept
    assert db.session.scalar(select(ApiToken)) is None


def test_someone_elses_token_cannot_be_revoked(web, world):
    """Another person's token is not found and keeps working."""
    secret = make_token(world.manager)
    token = db.session.scalar(select(ApiToken))
    web.login(world.admin)
    assert web.post(f"/account/tokens/{token.id}/revoke").status_code == 404
    assert call(web, "GET", "/projects", secret).status_code == 200


def test_a_browser_session_opens_nothing(web, world):
    """Logged in with a cookie but without a token, the API answers 401 (reads) and never acts (writes)."""
    web.login(world.manager)
    assert call(web, "GET", "/projects").status_code == 401
    response = web.post(f"/api/v1/projects/{world.project.id}/updates", {"title": "x", "body": "y"})
    assert response.status_code == 401
    assert db.session.scalar(select(Update)) is None


# --- What each person reads -----------------------------------------------------------------


def test_clients_read_only_what_their_pages_show(web, world, scene_update_and_draft):
    """A client sees their organisation's project and its published updates, never a draft or another organisation's project."""
    token = make_token(world.own_client)
    projects = call(web, "GET", "/projects", token).get_json()["data"]
    assert [p["id"] for p in projects] == [world.project.id]
    titles = [u["title"] for u in call(web, "GET", f"/projects/{world.project.id}/updates", token).get_json()["data"]]
    assert titles == ["Published"]
    assert call(web, "GET", f"/projects/{world.other_project.id}", token).status_code == 404

    staff = make_token(world.manager)
    titles = [u["title"] for u in call(web, "GET", f"/projects/{world.project.id}/updates", staff).get_json()["data"]]
    assert titles == ["Published", "Draft"]


def test_goals_come_with_status_expected_and_actual(web, world, make_agreed_goal):
    """A goal's progress is the one the goal page shows: expected on the plan's line, the last check-in as actual."""
    goal = make_agreed_goal(check_in="150")
    data = call(web, "GET", f"/goals/{goal.id}", make_token(world.own_client)).get_json()
    assert data["agreed"] is True and data["title"] == "More online orders"
    assert data["progress"]["actual"] == "150"
    assert data["progress"]["expected"] is not None
    assert data["progress"]["status"] in {"on_track", "at_risk", "off_track"}
    assert [c["value"] for c in data["check_ins"]] == ["150"]


# --- Pagination -----------------------------------------------------------------------------


def test_lists_page_by_cursor(web, world, make_project):
    """Pages of ``limit`` items follow each other by ``next_cursor`` without gaps or repeats; the last has none."""
    for n in range(4):
        make_project(world.own_org, world.manager, name=f"Project {n}")
    token = make_token(world.admin)
    seen, cursor, pages = [], None, 0
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = call(web, "GET", f"/projects{query}", token).get_json()
        seen += [p["id"] for p in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 6 and seen == sorted(set(seen))


def test_bad_limits_and_cursors_are_a_400(web, world):
    """A limit out of 1–100, not a number, or a cursor the API did not give is refused with a clear JSON message."""
    token = make_token(world.admin)
    for query in ("limit=0", "limit=101", "limit=ten", "cursor=garbage", "cursor=djE6OTk5OTk5OTk5OTk5", "cursor=" + "A" * 60):
        response = call(web, "GET", f"/projects?{query}", token)
        assert response.status_code == 400, query
        assert response.get_json()["error"] in {"invalid_limit", "invalid_cursor"}


# --- Writes ---------------------------------------------------------------------------------


def test_staff_publish_an_update_through_the_api(web, world):
    """A published update reaches the client members by email, like one posted on the page."""
    token = make_token(world.manager, TokenScope.READ_WRITE)
    response = call(web, "POST", f"/projects/{world.project.id}/updates", token, json={"title": "Sprint 4", "body": "Payments live", "publish": True})
    assert response.status_code == 201
    update = db.session.get(Update, response.get_json()["id"])
    assert update.status is UpdateStatus.PUBLISHED and update.author_id == world.manager.id
    assert response.headers["Location"].endswith(f"/api/v1/projects/{world.project.id}/updates/{update.id}")
    assert emails("update", to=world.own_client.email)


def test_service_refusals_come_back_as_json_naming_the_field(web, world):
    """A rule of the service refuses with 422 and the field; nothing is saved."""
    token = make_token(world.manager, TokenScope.READ_WRITE)
    response = call(web, "POST", f"/projects/{world.project.id}/updates", token, json={"title": "", "body": "x"})
    assert response.status_code == 422
    assert response.get_json() == {"error": "invalid", "message": "Give the update a title.", "field": "title"}
    response = call(web, "POST", f"/projects/{world.project.id}/asset-requests", token, json={"title": "Logo", "kinds": ["spreadsheets-of-doom"]})
    assert response.status_code == 422 and response.get_json()["field"] == "kinds"
    assert db.session.scalar(select(Update)) is None and db.session.scalar(select(AssetRequest)) is None


def test_malformed_bodies_are_refused(web, world):
    """No JSON, a JSON array, or a field of the wrong type: 400 or 422, never a 500."""
    token = make_token(world.manager, TokenScope.READ_WRITE)
    path = f"/projects/{world.project.id}/updates"
    assert call(web, "POST", path, token, data="title=x").status_code == 400
    assert call(web, "POST", path, token, json=["title"]).status_code == 400
    response = call(web, "POST", path, token, json={"title": 7})
    assert response.status_code == 422 and response.get_json()["field"] == "title"
    response = call(web, "POST", path, token, json={"title": "x", "body": "y", "publish": "yes"})
    assert response.status_code == 422 and response.get_json()["field"] == "publish"


def test_a_check_in_on_a_goal_not_agreed_is_refused(web, world, scene):
    """The goals service's rule comes back as 422 with its own (translated) message."""
    token = make_token(world.manager, TokenScope.READ_WRITE)
    goal_id = scene.goal()  # proposed, not agreed
    response = call(web, "POST", f"/goals/{goal_id}/check-ins", token, json={"measured_on": "2026-01-01", "value": 3})
    assert response.status_code == 422
    assert response.get_json()["message"] == "Check-ins start once both sides have agreed the goal."


def test_a_version_on_an_approved_deliverable_is_a_conflict(web, world, scene):
    """An approved deliverable is locked: 409."""
    token = make_token(world.admin, TokenScope.READ_WRITE)
    response = call(web, "POST", f"/deliverables/{scene.approved_deliverable()}/versions", token, json={"links": [{"url": "https://x.example.com"}]})
    assert response.status_code == 409 and response.get_json()["error"] == "conflict"


def test_messages_follow_the_token_owners_language(web, world):
    """A Turkish-speaking manager is answered in Turkish."""
    world.manager.language = "tr"
    db.session.commit()
    token = make_token(world.manager, TokenScope.READ_WRITE)
    response = call(web, "POST", f"/projects/{world.project.id}/updates", token, json={"title": ""})
    assert response.status_code == 422
    assert response.get_json()["message"] != "Give the update a title."


# --- HTTP-level errors ----------------------------------------------------------------------


def test_unknown_paths_and_methods_answer_json(web, world):
    """A path that is not in the API is a JSON 404; a method it does not take a JSON 405 with Allow."""
    token = make_token(world.admin)
    response = call(web, "GET", "/nothing-here", token)
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    response = call(web, "DELETE", "/projects", token)
    assert response.status_code == 405 and response.get_json()["error"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]
    response = call(web, "GET", f"/projects/{2**31}", token)
    assert response.status_code == 404 and response.is_json


def test_each_token_has_its_own_rate_limit(app, web, world):
    """Past the limit a token gets a JSON 429; another token still gets through."""
    app.config["RATELIMIT_API"] = "3 per minute"
    busy, other = make_token(world.admin), make_token(world.manager)
    assert [call(web, "GET", "/projects", busy).status_code for _ in range(3)] == [200, 200, 200]
    response = call(web, "GET", "/projects", busy)
    assert response.status_code == 429 and response.get_json()["error"] == "too_many_requests"
    assert response.headers.get("Retry-After")
    assert call(web, "GET", "/projects", other).status_code == 200


# --- Fixtures -------------------------------------------------------------------------------

@pytest.fixture
def scene(world, make_user):
    """Return the access matrix's scene (objects made without activity events)."""
    from tests.integration.test_access_matrix import Scene

    return Scene(world, make_user)


@pytest.fixture
def scene_update_and_draft(world):
    """A published update and a draft on the project."""
    from portal.timeutil import utcnow

    db.session.add_all([
        Update(project=world.project, author=world.manager, title="Published", body="x", status=UpdateStatus.PUBLISHED, published_at=utcnow()),
        Update(project=world.project, author=world.manager, title="Draft", body="y", status=UpdateStatus.DRAFT),
    ])
    db.session.commit()


@pytest.fixture
def make_agreed_goal(world, scene):
    """Return a builder of an agreed goal with an optional check-in today."""
    from decimal import Decimal

    from portal.models import Goal, GoalCheckIn
    from portal.timeutil import project_today

    def build(check_in: str | None = None) -> Goal:
        goal = db.session.get(Goal, scene.agreed_goal())
        if check_in is not None:
            db.session.add(GoalCheckIn(goal=goal, revision_number=goal.agreed_number, measured_on=project_today(world.project),
                                       value=Decimal(check_in), recorded_by=world.manager))
            db.session.commit()
        return goal

    return build



# --- Queries per page -----------------------------------------------------------------------


def _queries(web, count_queries, path: str, token: str) -> int:
    with count_queries() as counted:
        response = call(web, "GET", path, token)
    assert response.status_code == 200, response.get_data(as_text=True)
    return counted.count


def test_lists_run_the_same_queries_for_5_items_as_for_40(web, world, make_project, scene, count_queries):
    """Projects, goals (with progress) and updates: the number of queries does not grow with the page."""
    token = make_token(world.admin)
    paths = ("/projects?limit=100", f"/projects/{world.project.id}/goals?limit=100", f"/projects/{world.project.id}/updates?limit=100")

    def grow(n: int) -> None:
        for _ in range(n):
            make_project(world.own_org, world.manager, name="More")
            scene._goal(agreed=True)
            scene._update(published=True)

    grow(5)
    call(web, "GET", "/projects", token)  # the token's first use is noted (once a minute), not part of the count
    few = [_queries(web, count_queries, path, token) for path in paths]
    grow(35)
    assert [_queries(web, count_queries, path, token) for path in paths] == few


def test_a_deliverable_with_many_versions_runs_few_queries(web, world, scene, count_queries):
    """A deliverable's versions, links, files and decisions come in a constant number of queries."""
    from portal.models import Decision, DecisionOutcome, Deliverable, DeliverableLink, DeliverableVersion, ReasonCategory, VersionStatus

    deliverable = db.session.get(Deliverable, scene.deliverable())
    token = make_token(world.own_client)
    call(web, "GET", "/projects", token)  # the token's first use is noted (once a minute), not part of the count
    few = _queries(web, count_queries, f"/deliverables/{deliverable.id}", token)
    for number in range(2, 12):
        version = DeliverableVersion(deliverable=deliverable, number=number, created_by=world.manager, status=VersionStatus.SUPERSEDED)
        db.session.add_all([
            version,
            DeliverableLink(version=version, url="https://staging.example.com", label="Staging"),
            Decision(deliverable=deliverable, version=version, approver=world.own_client, outcome=DecisionOutcome.CHANGES_REQUESTED,
                     reason_category=ReasonCategory.QUALITY, text="Bigger"),
        ])
    db.session.commit()
    assert _queries(web, count_queries, f"/deliverables/{deliverable.id}", token) == few
    versions = call(web, "GET", f"/deliverables/{deliverable.id}", token).get_json()["versions"]
    assert len(versions) == 11 and versions[-1]["decisions"][0]["approver"]["name"] == "Ayşe Client"
