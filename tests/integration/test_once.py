"""One-time submission keys: Back and send again (or a double click) makes nothing twice and lands on the first result."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    AssetRequest,
    Client,
    Deliverable,
    DeliverableComment,
    ExpectationNote,
    Goal,
    GoalCheckIn,
    GoalComment,
    OutboxEmail,
    Project,
    Update,
    UpdateComment,
    UpdateKind,
    UpdateStatus,
    User,
)
from portal.timeutil import project_today, utcnow
from tests.integration.deliverables_support import make_deliverable
from tests.integration.goals_support import agreed_goal


@dataclass(frozen=True)
class Case:
    """One create form: who fills it, where it is shown and posted, what it sends, what it makes."""

    who: str
    page: str
    post: str | None
    fields: Callable[[Any], dict]
    model: type
    prefix: str = ""


def goal_fields(w) -> dict:
    return {
        "title": "More newsletter sign-ups",
        "measure": "metric",
        "metric_name": "Sign-ups per month",
        "baseline": "40",
        "target": "90",
        "unit": "count",
        "target_date": (project_today(w.project) + timedelta(days=60)).isoformat(),
    }


def project_fields(w) -> dict:
    return {
        "name": "Brand book",
        "client_id": w.own_org.id,
        "manager_id": w.manager.id,
        "status": "active",
        "weekly_weekday": "0",
        "weekly_hour": "9",
        "timezone": "Europe/Istanbul",
        "approval_rule": "any",
        "included_rounds": "2",
    }


CASES = {
    "goal": Case("own_client", "/projects/{project}/goals/new", None, goal_fields, Goal),
    "deliverable": Case("manager", "/projects/{project}/deliverables/new", None, lambda w: {"title": "Homepage design", "included_rounds": "2"}, Deliverable),
    "asset request": Case(
        "manager", "/projects/{project}/assets/requests/new", None, lambda w: {"title": "Logo", "kinds": ["images"], "required": "y"}, AssetRequest
    ),
    "project": Case("admin", "/projects/new", None, project_fields, Project),
    "client": Case(
        "admin",
        "/clients/new",
        None,
        lambda w: {"name": "Kuzey Tekstil", "preferred_channel": "email", "language": "tr", "timezone": "Europe/Istanbul"},
        Client,
    ),
    "invitation": Case(
        "admin",
        "/admin/users/invite",
        None,
        lambda w: {"invite-name": "Mert Staff", "invite-email": "mert@example.com", "invite-role": "manager", "invite-client_id": "0", "invite-language": "en"},
        User,
        prefix="invite-",
    ),
    "expectation note": Case(
        "manager",
        "/projects/{project}/expectations/new",
        None,
        lambda w: {"expected": "Live by May", "reality": "Live in June", "assessment": "worse", "impact": "Later campaign", "visibility": "shared"},
        ExpectationNote,
    ),
    "update": Case("manager", "/projects/{project}/updates/new", None, lambda w: {"title": "Sprint 4", "body": "Search is live.", "action": "publish"}, Update),
    "draft update": Case("manager", "/projects/{project}/updates/new", None, lambda w: {"title": "Sprint 4", "body": "Almost.", "action": "draft"}, Update),
    "goal comment": Case(
        "own_client", "/goals/{goal}", "/goals/{goal}/comments", lambda w: {"comment-body": "Can we aim higher?"}, GoalComment, prefix="comment-"
    ),
    "check-in": Case(
        "manager",
        "/goals/{goal}",
        "/goals/{goal}/check-ins",
        lambda w: {"checkin-measured_on": project_today(w.project).isoformat(), "checkin-value": "55"},
        GoalCheckIn,
        prefix="checkin-",
    ),
    "deliverable comment": Case(
        "own_client",
        "/deliverables/{deliverable}",
        "/deliverables/{deliverable}/comments",
        lambda w: {"comment-body": "Looks good"},
        DeliverableComment,
        prefix="comment-",
    ),
    "update comment": Case(
        "own_client", "/projects/{project}/updates/{update}", "/projects/{project}/updates/{update}/comments", lambda w: {"body": "Thanks!"}, UpdateComment
    ),
}


@pytest.fixture
def scene(world):
    """The world plus an agreed goal, a deliverable and a published update to comment on."""
    goal = agreed_goal(world.manager, world.own_client, world.project)
    deliverable = make_deliverable(world.manager, world.project)
    update = Update(
        project=world.project, author=world.manager, kind=UpdateKind.MANUAL, status=UpdateStatus.PUBLISHED, title="Sprint 3", body="x", published_at=utcnow()
    )
    db.session.add(update)
    db.session.commit()
    ids = {"project": world.project.id, "goal": goal.id, "deliverable": deliverable.id, "update": update.id}
    return world, ids


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def key_on(page: str, prefix: str) -> str:
    """Return the one-time key the page's form carries."""
    found = re.search(rf'name="{re.escape(prefix)}submission_key"[^>]*value="([^"]+)"', page) or re.search(
        rf'value="([^"]+)"[^>]*name="{re.escape(prefix)}submission_key"', page
    )
    assert found, f"no {prefix}submission_key on the page"
    return found.group(1)


@pytest.mark.parametrize("name", sorted(CASES))
def test_sending_a_create_form_twice_makes_one_thing(make_web, scene, name):
    """The same form sent again (Back, then send) creates nothing more and lands where the first one did."""
    world, ids = scene
    case = CASES[name]
    browser = make_web()
    browser.login(getattr(world, case.who))
    key = key_on(browser.text(case.page.format(**ids)), case.prefix)
    url = (case.post or case.page).format(**ids)
    fields = {**case.fields(world), f"{case.prefix}submission_key": key}
    before, emails_before = count(case.model), count(OutboxEmail)

    first = browser.post(url, fields)
    assert first.status_code == 302, first.get_data(as_text=True)[:2000]
    assert count(case.model) == before + 1
    emails_after_first = count(OutboxEmail)

    again = browser.post(url, fields)
    assert again.status_code == 302
    assert count(case.model) == before + 1, "the repeat created a second one"
    assert count(OutboxEmail) == emails_after_first, "the repeat told people a second time"
    landed = browser.text(again.headers["Location"])
    assert "This was already sent, so nothing was added again." in landed
    if name != "invitation":  # the invitation goes back to the list of people, the repeat to the invited person
        assert again.headers["Location"].split("#")[0] == first.headers["Location"].split("#")[0]
    assert emails_before <= emails_after_first


def test_a_new_visit_to_the_form_gets_a_new_key(make_web, scene):
    """Two goals proposed on purpose (the form opened twice) are two goals."""
    world, ids = scene
    browser = make_web()
    browser.login(world.own_client)
    page = f"/projects/{ids['project']}/goals/new"
    before = count(Goal)
    for title in ("First goal", "Second goal"):
        key = key_on(browser.text(page), "")
        assert browser.post(page, {**goal_fields(world), "title": title, "submission_key": key}).status_code == 302
    assert count(Goal) == before + 2


def test_a_form_refused_for_a_mistake_keeps_its_key_and_goes_through_once(make_web, scene):
    """The key survives a 422: the corrected form is created once, and a repeat of it does nothing."""
    world, ids = scene
    browser = make_web()
    browser.login(world.manager)
    page = f"/projects/{ids['project']}/deliverables/new"
    key = key_on(browser.text(page), "")
    refused = browser.post(page, {"title": "", "included_rounds": "2", "submission_key": key})
    assert refused.status_code == 422 and key_on(refused.get_data(as_text=True), "") == key
    before = count(Deliverable)
    for _ in range(2):
        assert browser.post(page, {"title": "Homepage", "included_rounds": "2", "submission_key": key}).status_code == 302
    assert count(Deliverable) == before + 1


def test_another_persons_key_is_only_unknown(make_web, scene):
    """A key is per person: someone else sending the same key creates their own thing and learns nothing."""
    world, ids = scene
    page = f"/projects/{ids['project']}/goals/new"
    client = make_web()
    client.login(world.own_client)
    key = key_on(client.text(page), "")
    first = client.post(page, {**goal_fields(world), "submission_key": key})
    assert first.status_code == 302
    manager = make_web()
    manager.login(world.manager)
    response = manager.post(page, {**goal_fields(world), "title": "The manager's own", "submission_key": key})
    assert response.status_code == 302
    assert "This was already sent" not in manager.text(response.headers["Location"])
    assert response.headers["Location"] != first.headers["Location"]


@pytest.mark.parametrize("key", ["short", "x" * 65, "<script>", "a b c d e f g h i j"])
def test_a_malformed_key_is_a_form_error_with_the_text_kept(make_web, scene, key):
    """A tampered key is refused with a translated message; what was typed is still there."""
    world, ids = scene
    browser = make_web()
    browser.login(world.manager)
    response = browser.post(f"/projects/{ids['project']}/deliverables/new", {"title": "Homepage kept", "included_rounds": "2", "submission_key": key})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The form expired. Reload the page and send it again." in page and 'value="Homepage kept"' in page


def test_an_update_with_files_sent_twice_keeps_one_update_and_one_set_of_files(make_web, scene):
    """The multipart update form: the repeat's files are not stored a second time."""
    from portal.models import UpdateAttachment

    world, ids = scene
    browser = make_web()
    browser.login(world.manager)
    page = f"/projects/{ids['project']}/updates/new"
    key = key_on(browser.text(page), "")
    for _ in range(2):
        fields = {
            "title": "Minutes",
            "body": "Attached.",
            "action": "publish",
            "submission_key": key,
            "files": (io.BytesIO(b"%PDF-1.7\n%%EOF\n"), "minutes.pdf"),
        }
        assert browser.post(page, fields, content_type="multipart/form-data").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Update).where(Update.title == "Minutes")) == 1
    assert count(UpdateAttachment) == 1
