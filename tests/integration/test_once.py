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
    "client user invitation": Case(
        "manager",
        "/clients/{client}",
        "/clients/{client}/invite",
        lambda w: {"name": "Selin Demir", "email": "selin@example.com", "language": "tr"},
        User,
    ),
}
# The first send of these tells someone by email; the repeat must not tell them again.
TELLS_SOMEONE = {"goal", "asset request", "invitation", "update", "client user invitation"}


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
    ids = {"project": world.project.id, "goal": goal.id, "deliverable": deliverable.id, "update": update.id, "client": world.own_org.id}
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
    if name in TELLS_SOMEONE:
        assert emails_after_first > emails_before, "the first send told no one: the repeat's count proves nothing"


def test_the_same_page_sent_again_with_other_values_is_a_new_submission(make_web, scene):
    """Back, an edit, and send: what the form now says is made too (the key stands for what was said)."""
    world, ids = scene
    browser = make_web()
    browser.login(world.own_client)
    page = f"/projects/{ids['project']}/goals/new"
    key = key_on(browser.text(page), "")
    before = count(Goal)
    first = browser.post(page, {**goal_fields(world), "submission_key": key})
    edited = browser.post(page, {**goal_fields(world), "title": "Fewer unsubscribes", "submission_key": key})
    assert first.status_code == edited.status_code == 302
    assert count(Goal) == before + 2
    assert edited.headers["Location"] != first.headers["Location"]
    assert "already sent" not in browser.text(edited.headers["Location"])
    # And each of the two is now a repeat of itself.
    assert browser.post(page, {**goal_fields(world), "title": "Fewer unsubscribes", "submission_key": key}).status_code == 302
    assert count(Goal) == before + 2


def test_a_twin_sent_at_the_same_moment_lands_on_the_first_result(make_web, scene, monkeypatch):
    """Two sends racing past the check: the loser's unique key rolls it back and it lands on the winner's result."""
    from portal import once

    world, ids = scene
    browser = make_web()
    browser.login(world.manager)
    page = f"/projects/{ids['project']}/deliverables/new"
    fields = {"title": "Homepage design", "included_rounds": "2", "submission_key": key_on(browser.text(page), "")}
    first = browser.post(page, fields)
    assert first.status_code == 302
    before = count(Deliverable)
    # The twin checked before the first committed: its first look finds nothing.
    real = once.Submission.earlier
    looks: list[int] = []

    def racing(self):
        looks.append(1)
        return None if len(looks) == 1 else real(self)

    monkeypatch.setattr(once.Submission, "earlier", racing)
    twin = browser.post(page, fields)
    assert twin.status_code == 302 and twin.headers["Location"] == first.headers["Location"]
    assert count(Deliverable) == before, "the twin's deliverable was kept"
    landed = browser.text(twin.headers["Location"])
    assert "This was already sent, so nothing was added again." in landed
    assert "Someone changed this in the meantime" not in landed


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
def test_a_malformed_key_goes_through_as_a_first_send(make_web, scene, key):
    """A tampered or truncated key loses nothing: the form is saved once, under a fresh key."""
    world, ids = scene
    browser = make_web()
    browser.login(world.manager)
    before = count(Deliverable)
    response = browser.post(f"/projects/{ids['project']}/deliverables/new", {"title": "Homepage kept", "included_rounds": "2", "submission_key": key})
    assert response.status_code == 302
    assert count(Deliverable) == before + 1
    assert "Homepage kept" in browser.text(response.headers["Location"])


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


def test_files_uploaded_without_the_script_and_sent_again_are_stored_once(make_web, scene):
    """The plain upload form (no JavaScript): Back and Upload again keeps one copy; other files are a new upload."""
    from portal.models import AssetFile

    world, ids = scene
    browser = make_web()
    browser.login(world.own_client)
    page = f"/projects/{ids['project']}/assets"
    key = key_on(browser.text(page), "")
    before = count(AssetFile)

    def send(name: str, content: bytes):
        fields = {"submission_key": key, "files": (io.BytesIO(content), name)}
        return browser.post(f"/projects/{ids['project']}/assets/files", fields, content_type="multipart/form-data")

    first = send("logo.pdf", b"%PDF-1.7\n%%EOF\n")
    again = send("logo.pdf", b"%PDF-1.7\n%%EOF\n")
    assert first.status_code == again.status_code == 302
    assert count(AssetFile) == before + 1, "the repeat stored the file twice"
    assert "This was already sent, so nothing was added again." in browser.text(again.headers["Location"])
    other = send("brief.pdf", b"%PDF-1.7\n% other\n%%EOF\n")
    assert other.status_code == 302
    assert count(AssetFile) == before + 2
