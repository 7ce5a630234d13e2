"""The goal pages as people use them: forms, messages, the chart, the project block and the home panel."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from portal.extensions import db
from portal.goals import service
from portal.models import CloseOutcome, Goal, GoalComment, GoalSignature, GoalState, ProjectMember, Role, Side
from portal.timeutil import project_today, utcnow
from tests.fixtures.outbox import emails
from tests.integration.goals_support import agree, agreed_goal, propose, terms


@pytest.fixture(autouse=True)
def request_context(app):
    """Seed through the services inside a request, as views do (their messages are translated lazily)."""
    with app.test_request_context():
        yield


@pytest.fixture
def reader(world, make_user):
    """A client member who is not an approver."""
    user = make_user(Role.CLIENT, world.own_org, name="Mert Reader", email="mert@example.com")
    db.session.add(ProjectMember(project=world.project, user=user, is_approver=False))
    db.session.commit()
    return user


def as_user(make_web, user):
    """Return a browser logged in as ``user``."""
    browser = make_web()
    browser.login(user)
    return browser


def text_of(response) -> str:
    """Return the page's visible words, tags removed and entities decoded."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|title|desc)\b.*?</\1>", " ", body, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def field_error(response, field_id: str) -> str:
    """Return the error shown under the form field ``field_id``."""
    match = re.search(rf'<div id="{re.escape(field_id)}-error"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.DOTALL)
    assert match, f"no error under {field_id}"
    return " ".join(html.unescape(match.group(1)).split())


def field_value(response, field_id: str) -> str:
    """Return the value an input shows (what the user typed, after an error)."""
    match = re.search(rf'<input[^>]*id="{re.escape(field_id)}"[^>]*>', response.get_data(as_text=True))
    assert match, f"no input {field_id}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else ""


def location(response) -> str:
    """Return the path a redirect points to."""
    assert response.status_code == 302, response.status_code
    return urlsplit(response.headers["Location"]).path


def goal_form(**values: str) -> dict:
    """Return a complete proposal form, with ``values`` changed."""
    return {
        "title": "More online orders",
        "why": "The shop must pay for itself.",
        "measure": "metric",
        "metric_name": "Online orders per month",
        "baseline": "120",
        "target": "200",
        "unit": "orders",
        "target_date": "",
        "assumptions": "Photos arrive by March\nThe payment provider is live",
        **values,
    }


@pytest.fixture
def future(world) -> str:
    """Return a target date 60 days ahead, as a date input sends it."""
    return (project_today(world.project) + timedelta(days=60)).isoformat()


# --- Proposing ---------------------------------------------------------------------


def test_manager_proposes_a_goal_and_the_page_says_who_signs_next(make_web, world, future):
    """After proposing, the goal page shows the terms and that the client approver signs next."""
    manager = as_user(make_web, world.manager)
    response = manager.post(f"/projects/{world.project.id}/goals/new", goal_form(target_date=future))
    goal = db.session.query(Goal).one()
    assert location(response) == f"/goals/{goal.id}"

    page = text_of(manager.get(f"/goals/{goal.id}"))
    assert "Your proposal is sent." in page
    assert "Waiting for the client’s signature." in page
    assert "A client approver signs for the client: Ayşe Client." in page
    assert "Online orders per month" in page and "120 orders" in page and "200 orders" in page
    assert "Photos arrive by March" in page and "The payment provider is live" in page
    assert "Agree to revision 1" not in page  # the agency has signed by proposing


def test_bad_input_gets_field_errors_and_keeps_what_was_typed(make_web, world):
    """Empty title, a word for a number, an unknown unit and a past date: 422, each said on its field, nothing lost."""
    manager = as_user(make_web, world.manager)
    yesterday = (project_today(world.project) - timedelta(days=1)).isoformat()
    response = manager.post(
        f"/projects/{world.project.id}/goals/new",
        goal_form(title="", baseline="a hundred", unit="bananas", target_date=yesterday, why="Keep this text"),
    )
    assert response.status_code == 422
    assert field_error(response, "title") == "Give the goal a title."
    assert field_error(response, "baseline") == "Enter a number, for example 1250 or 12.5."
    assert field_error(response, "unit") == "Choose a unit from the list."
    assert field_error(response, "target_date") == "The target date cannot be in the past."
    assert field_value(response, "baseline") == "a hundred"
    assert field_value(response, "target") == "200"
    assert "Keep this text" in response.get_data(as_text=True)
    assert db.session.query(Goal).count() == 0


def test_numbers_typed_the_turkish_way_are_understood(make_web, world, future):
    """A Turkish reader's "1.250,5" is 1250.5."""
    world.manager.language = "tr"
    db.session.commit()
    manager = as_user(make_web, world.manager)
    response = manager.post(
        f"/projects/{world.project.id}/goals/new", goal_form(baseline="1.250,5", target="2.000", target_date=future)
    )
    assert response.status_code == 302
    revision = db.session.query(Goal).one().current_revision
    assert (revision.baseline, revision.target) == (Decimal("1250.5"), Decimal(2000))


def test_a_done_when_goal_needs_its_statement(make_web, world, future):
    """Choosing "done when" asks for the statement, not for numbers."""
    manager = as_user(make_web, world.manager)
    form = goal_form(measure="done_when", metric_name="", baseline="", target="", done_when="", target_date=future)
    response = manager.post(f"/projects/{world.project.id}/goals/new", form)
    assert response.status_code == 422
    assert field_error(response, "done_when") == "Say when the goal counts as done."
    form["done_when"] = "The new checkout is live for every customer"
    assert manager.post(f"/projects/{world.project.id}/goals/new", form).status_code == 302


def test_a_client_who_is_not_an_approver_cannot_open_the_proposal_form(make_web, world, reader):
    """Non-approvers read and comment; proposing is for the two sides."""
    assert as_user(make_web, reader).get(f"/projects/{world.project.id}/goals/new").status_code == 403


# --- Signing, counter-proposing, declining ---------------------------------------------------


def test_counter_proposal_and_agreement_through_the_pages(make_web, world):
    """The client counter-proposes a lower target; the manager agrees; both see "Agreed" with both signatures."""
    goal = propose(world.manager, world.project)
    client = as_user(make_web, world.own_client)
    form_page = client.get(f"/goals/{goal.id}/revise")
    assert field_value(form_page, "target") == "200" and field_value(form_page, "revision") == "1"

    response = client.post(
        f"/goals/{goal.id}/revise",
        goal_form(target="170", target_date=goal.current_revision.target_date.isoformat(), revision="1", note="Let us be realistic",
                  assumptions="Product photos arrive by the end of the month"),
    )
    assert location(response) == f"/goals/{goal.id}"
    manager = as_user(make_web, world.manager)
    page = text_of(manager.get(f"/goals/{goal.id}"))
    assert "Waiting for the agency’s signature." in page and "Agree to revision 2" in page

    assert location(manager.post(f"/goals/{goal.id}/sign", {"revision": "2"})) == f"/goals/{goal.id}"
    for browser in (manager, client):
        page = text_of(browser.get(f"/goals/{goal.id}"))
        assert "Agreed" in page and "Revision 2 is agreed and in force." in page
        assert "Signed for the client by Ayşe Client" in page and "Signed for the agency by Can Manager" in page
        assert "170 orders" in page


def test_a_stale_counter_proposal_is_refused_and_keeps_what_was_typed(make_web, world):
    """If the other side proposed meanwhile, the form comes back with a 409 naming the new revision."""
    goal = propose(world.manager, world.project)
    service.revise_goal(world.manager, goal, terms(target=Decimal(210)), seen=1)
    db.session.commit()
    client = as_user(make_web, world.own_client)
    response = client.post(
        f"/goals/{goal.id}/revise",
        goal_form(target="150", target_date=goal.current_revision.target_date.isoformat(), revision="1"),
    )
    assert response.status_code == 409
    assert "revision 2 is now the current one" in text_of(response)
    assert field_value(response, "target") == "150"
    assert field_value(response, "revision") == "2"  # a deliberate resend now goes through


def test_signing_a_revision_that_is_no_longer_current_gets_409_naming_the_current_one(make_web, world):
    """The page the client read named revision 1; revision 2 exists now: nothing is signed."""
    goal = propose(world.manager, world.project)
    service.revise_goal(world.manager, goal, terms(target=Decimal(210)), seen=1)
    db.session.commit()
    response = as_user(make_web, world.own_client).post(f"/goals/{goal.id}/sign", {"revision": "1"})
    assert response.status_code == 409
    assert "This goal changed in the meantime: revision 2 is now the current one." in text_of(response)
    db.session.expire_all()
    assert db.session.get(Goal, goal.id).state is GoalState.PROPOSED


def test_a_save_the_database_refuses_at_commit_time_is_a_409_not_a_500(make_web, world, monkeypatch):
    """A unique constraint that fires at commit (a race lost) brings the goal page back with 409; nothing is saved."""
    goal = propose(world.manager, world.project)
    add_comment = service.add_comment

    def racing(actor, goal, body):
        """Add the comment while a second agency signature of revision 1 lands in the same transaction."""
        comment = add_comment(actor, goal, body)
        db.session.add(GoalSignature(revision=goal.current_revision, side=Side.AGENCY, user=actor, signed_at=utcnow()))
        return comment

    monkeypatch.setattr(service, "add_comment", racing)
    response = as_user(make_web, world.manager).post(f"/goals/{goal.id}/comments", {"comment-body": "Lost in the race"})
    assert response.status_code == 409
    assert "Someone changed this in the meantime." in text_of(response)
    db.session.expire_all()
    assert db.session.query(GoalComment).count() == 0


def test_a_non_approver_reads_and_comments_but_cannot_sign(make_web, world, reader):
    """No signing buttons for a non-approver; a forged signature is refused; their comment is posted."""
    goal = propose(world.manager, world.project)
    browser = as_user(make_web, reader)
    page = text_of(browser.get(f"/goals/{goal.id}"))
    assert "Approvers sign goals. You can read everything and write in the conversation." in page
    assert "Agree to revision" not in page and "Counter-propose" not in page and "Send the answer" not in page
    assert browser.post(f"/goals/{goal.id}/sign", {"revision": "1"}).status_code == 403
    response = browser.post(f"/goals/{goal.id}/comments", {"comment-body": "When do the photos arrive?"})
    assert location(response) == f"/goals/{goal.id}"
    assert "When do the photos arrive?" in text_of(browser.get(f"/goals/{goal.id}"))


def test_declining_needs_a_reason(make_web, world):
    """An empty reason keeps the decline form open with an error; a reason declines and is shown."""
    goal = propose(world.manager, world.project)
    client = as_user(make_web, world.own_client)
    response = client.post(f"/goals/{goal.id}/decline", {"decline-revision": "1", "decline-reason": " "})
    assert response.status_code == 422
    assert field_error(response, "decline-reason") == "Say why you decline, so the other side can answer."
    client.post(f"/goals/{goal.id}/decline", {"decline-revision": "1", "decline-reason": "Budget is frozen"})
    page = text_of(as_user(make_web, world.manager).get(f"/goals/{goal.id}"))
    assert "Revision 1 was declined by Ayşe Client" in page and "Reason: Budget is frozen" in page


def test_a_pending_change_shows_the_terms_in_force_and_what_would_change(make_web, world):
    """While new terms wait, the agreed terms stay in force on the page, with the proposed change beside them."""
    goal = agreed_goal(world.manager, world.own_client, world.project)
    service.revise_goal(world.manager, goal, terms(target=Decimal(260), assumptions=["Two campaigns a month"]), seen=1, note="Ads work")
    db.session.commit()
    page = text_of(as_user(make_web, world.own_client).get(f"/goals/{goal.id}"))
    assert "Terms in force (revision 1)" in page
    assert "Revision 2 proposes new terms. Until both sides sign it, revision 1 stays in force." in page
    assert "Proposed in revision 2" in page and "Target 200 orders 260 orders" in page
    assert "Assumptions added Two campaigns a month" in page
    assert "Assumptions withdrawn Product photos arrive by the end of the month" in page


def test_history_shows_each_change_and_each_signature(make_web, world):
    """The history lists revisions newest first, with field-by-field changes and who signed when."""
    goal = propose(world.manager, world.project)
    service.revise_goal(world.own_client, goal, terms(target=Decimal(170), unit="count"), seen=1, note="Lower")
    db.session.commit()
    agree(goal, world.manager)
    page = text_of(as_user(make_web, world.own_client).get(f"/goals/{goal.id}/history"))
    assert page.index("Revision 2") < page.index("Revision 1")
    assert "Target 200 orders 170" in page and "Unit Orders Count" in page
    assert "Signed for the client by Ayşe Client on" in page and "by proposing it" in page
    assert "Signed for the agency by Can Manager on" in page
    assert "Agreed by both sides on" in page
    assert "Title More online orders" in page  # revision 1 lists every term it proposed


# --- Assumptions, check-ins, the chart ---------------------------------------------------


def test_assumption_answers_through_the_page(make_web, world):
    """Denying needs a note; confirming clears the flag on the goal and on the project page."""
    goal = propose(world.manager, world.project)
    [assumption] = goal.assumptions
    client = as_user(make_web, world.own_client)
    prefix = f"assumption-{assumption.id}"
    response = client.post(f"/goals/{goal.id}/assumptions/{assumption.id}", {f"{prefix}-answer": "denied"})
    assert response.status_code == 422
    assert field_error(response, f"{prefix}-note") == "Say what is not right, so the assumption can be fixed."
    assert "1 assumption is not confirmed yet" in text_of(client.get(f"/goals/{goal.id}"))
    assert "1 assumption behind these goals is not confirmed yet." in text_of(client.get(f"/projects/{world.project.id}"))

    client.post(f"/goals/{goal.id}/assumptions/{assumption.id}", {f"{prefix}-answer": "confirmed"})
    page = text_of(client.get(f"/goals/{goal.id}"))
    assert "Confirmed by Ayşe Client" in page and "not confirmed yet" not in page
    assert "not confirmed" not in text_of(client.get(f"/projects/{world.project.id}"))


def test_another_goals_assumption_or_closure_is_not_found(make_web, world):
    """Ids of another goal, smuggled into this goal's URLs, are not found and change nothing."""
    mine = propose(world.manager, world.project)
    other = agreed_goal(world.manager, world.own_client, world.project, title="Other")
    closure = service.close_goal(world.manager, other, outcome=CloseOutcome.MISSED, reason="x", impact="y")
    db.session.commit()
    client = as_user(make_web, world.own_client)
    assumption = other.assumptions[0]
    assert client.post(f"/goals/{mine.id}/assumptions/{assumption.id}", {f"assumption-{assumption.id}-answer": "confirmed"}).status_code == 404
    assert client.post(f"/goals/{mine.id}/closures/{closure.id}/confirm").status_code == 404
    db.session.expire_all()
    assert db.session.get(Goal, other.id).state is GoalState.AGREED


def test_check_in_and_the_expected_vs_actual_chart(make_web, world):
    """The manager records a value; both sides see the figures and an accessible SVG chart."""
    goal = agreed_goal(world.manager, world.own_client, world.project)
    manager = as_user(make_web, world.manager)
    today = project_today(world.project)
    response = manager.post(f"/goals/{goal.id}/check-ins", {"checkin-measured_on": today.isoformat(), "checkin-value": "131", "checkin-note": "Ads live"})
    assert location(response) == f"/goals/{goal.id}"

    for browser in (manager, as_user(make_web, world.own_client)):
        body = browser.get(f"/goals/{goal.id}").get_data(as_text=True)
        svg = re.search(r"<svg class=\"goal-chart\".*?</svg>", body, re.DOTALL).group(0)
        assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
        assert "style=" not in svg and "<script" not in svg
        assert 'class="chart-expected"' in svg and 'class="chart-point"' in svg
        page = text_of(browser.get(f"/goals/{goal.id}"))
        assert "131 orders" in page and "Ads live" in page
        assert "Actual on" in page and "Ahead of plan by 11 orders." in page and "Status: On track." in page
    assert [e.kind for e in emails("goal_check_in")] == ["goal_check_in"]


def test_the_chart_reads_in_turkish(make_web, world):
    """A Turkish reader gets the axis dates in Turkish."""
    goal = agreed_goal(world.manager, world.own_client, world.project)
    service.record_check_in(world.manager, goal, measured_on=project_today(world.project), value=Decimal(125))
    db.session.commit()
    world.own_client.language = "tr"
    db.session.commit()
    body = as_user(make_web, world.own_client).get(f"/goals/{goal.id}").get_data(as_text=True)
    assert '<html lang="tr">' in body
    months = re.findall(r'<text class="chart-label-middle"[^>]*>([^<]+)</text>', body)
    turkish = ("Oca", "Şub", "Mar", "Nis", "May", "Haz", "Tem", "Ağu", "Eyl", "Eki", "Kas", "Ara")
    assert any(any(m in label for m in turkish) for label in months), months


def test_check_in_errors_keep_what_was_typed(make_web, world):
    """A word for the value or a future date: 422, the error on its field, the typed text kept."""
    goal = agreed_goal(world.manager, world.own_client, world.project)
    tomorrow = (project_today(world.project) + timedelta(days=1)).isoformat()
    response = as_user(make_web, world.manager).post(
        f"/goals/{goal.id}/check-ins", {"checkin-measured_on": tomorrow, "checkin-value": "lots"}
    )
    assert response.status_code == 422
    assert field_error(response, "checkin-value") == "Enter a number, for example 1250 or 12.5."
    assert field_error(response, "checkin-measured_on") == "The date cannot be in the future."
    assert field_value(response, "checkin-value") == "lots"


def test_thresholds_come_from_configuration(app, make_web, world):
    """The same shortfall is on track under the defaults and off track under stricter settings."""
    goal = agreed_goal(world.manager, world.own_client, world.project, baseline=Decimal(100), target=Decimal(200))
    service.record_check_in(world.manager, goal, measured_on=project_today(world.project), value=Decimal(95))
    db.session.commit()
    browser = as_user(make_web, world.manager)
    assert "Behind plan by 5 orders, 5% of the planned change. Status: On track." in text_of(browser.get(f"/goals/{goal.id}"))
    app.config.update(GOAL_AT_RISK_PERCENT=1, GOAL_OFF_TRACK_PERCENT=4)
    assert "Status: Off track." in text_of(browser.get(f"/goals/{goal.id}"))


# --- Closing ----------------------------------------------------------------------------


def test_missing_a_goal_is_asked_and_confirmed_through_the_page(make_web, world):
    """The manager asks to close as missed (impact required); the client confirms; the goal shows Missed."""
    goal = agreed_goal(world.manager, world.own_client, world.project)
    manager = as_user(make_web, world.manager)
    response = manager.post(f"/goals/{goal.id}/close", {"close-outcome": "missed", "close-reason": "Supplier failed"})
    assert response.status_code == 422
    assert field_error(response, "close-impact") == "Say how this affects the client."
    manager.post(f"/goals/{goal.id}/close", {"close-outcome": "missed", "close-reason": "Supplier failed", "close-impact": "Launch moves to May"})
    closure = db.session.get(Goal, goal.id).pending_closure

    client = as_user(make_web, world.own_client)
    page = text_of(client.get(f"/goals/{goal.id}"))
    assert "Can Manager asks to close this goal as Missed." in page and "Impact on the client: Launch moves to May" in page
    assert location(client.post(f"/goals/{goal.id}/closures/{closure.id}/confirm")) == f"/goals/{goal.id}"
    page = text_of(client.get(f"/goals/{goal.id}"))
    assert "Closed as Missed" in page and "Confirmed by Ayşe Client." in page


# --- The project page, the home panel, and their cost ------------------------------------------


def test_project_page_lists_goals_by_status_with_progress_bars(make_web, world):
    """Goals appear grouped: waiting for signatures, in progress (with a progress bar), closed."""
    propose(world.manager, world.project, title="Waiting goal")
    moving = agreed_goal(world.manager, world.own_client, world.project, title="Moving goal")
    service.record_check_in(world.manager, moving, measured_on=project_today(world.project), value=Decimal(160))
    done = agreed_goal(world.manager, world.own_client, world.project, title="Finished goal")
    service.close_goal(world.manager, done, outcome=CloseOutcome.ACHIEVED)
    db.session.commit()

    body = as_user(make_web, world.own_client).get(f"/projects/{world.project.id}").get_data(as_text=True)
    page = text_of_html(body)
    assert page.index("Waiting for signatures") < page.index("Waiting goal") < page.index("Agreed and in progress")
    assert page.index("Agreed and in progress") < page.index("Moving goal") < page.index("Closed") < page.index("Finished goal")
    assert re.search(r'<progress class="goal-progress goal-progress-on_track" max="100" value="50" aria-label="Progress of Moving goal"', body)
    assert "Waiting for the client’s signature." in page


def text_of_html(body: str) -> str:
    """Return the words of an HTML string."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_empty_goals_block_says_what_to_do(make_web, world, reader):
    """With no goals the block invites the two sides to propose one; a reader is told who sets them."""
    page = text_of(as_user(make_web, world.manager).get(f"/projects/{world.project.id}"))
    assert "No goals yet" in page and "Propose a goal" in page
    page = text_of(as_user(make_web, reader).get(f"/projects/{world.project.id}"))
    assert "No goals yet" in page and "Propose a goal" not in page


def test_client_home_lists_goals_waiting_for_the_approvers_signature(make_web, world, reader):
    """Approvers see what waits for them; a goal they already signed or one waiting for the agency does not."""
    waiting = propose(world.manager, world.project, title="Sign me")
    propose(world.own_client, world.project, title="Agency signs this")
    agreed_goal(world.manager, world.own_client, world.project, title="Already agreed")
    approver_home = as_user(make_web, world.own_client).get("/").get_data(as_text=True)
    start = approver_home.index("Needs your attention")
    section = "".join(item for item in approver_home[start : approver_home.index("</section>", start)].split("<li") if 'data-kind="sign"' in item)
    assert f'href="/goals/{waiting.id}"' in section and "Sign me" in section
    assert "Agency signs this" not in section and "Already agreed" not in section

    assert "You can decide" not in as_user(make_web, reader).get("/").get_data(as_text=True)  # readers see who must sign
    manager_home = text_of(as_user(make_web, world.manager).get("/"))
    queue = manager_home[manager_home.index("Goals awaiting agreement"):]
    assert "Agency signs this" in queue and "Waiting for your signature" in queue


def test_approver_with_nothing_to_sign_is_told_so(make_web, world):
    """The attention list's empty state says what will appear there."""
    page = text_of(as_user(make_web, world.own_client).get("/"))
    assert "Nothing needs you right now" in page and "proposes a goal" in page


def _seed(world, count: int) -> None:
    """Make ``count`` goals in every state the lists show."""
    today = project_today(world.project)
    for n in range(count):
        kind = n % 4
        if kind == 0:
            propose(world.manager, world.project, title=f"Goal {n}")
        elif kind == 1:
            propose(world.own_client, world.project, title=f"Goal {n}")
        else:
            goal = agreed_goal(world.manager, world.own_client, world.project, title=f"Goal {n}")
            service.record_check_in(world.manager, goal, measured_on=today, value=Decimal(130 + n))
            if kind == 3:
                service.revise_goal(world.manager, goal, terms(title=f"Goal {n}", target=Decimal(300)), seen=1)
            db.session.commit()


@pytest.mark.parametrize(("who", "url"), [
    ("manager", "/projects/{project}/goals"),
    ("own_client", "/projects/{project}/goals"),
    ("own_client", "/projects/{project}"),
    ("own_client", "/"),
    ("manager", "/"),
])
def test_goal_lists_run_the_same_queries_for_5_and_50_goals(make_web, world, count_queries, who, url):
    """The goals list, the project block and the home panel do not query per goal."""
    browser = as_user(make_web, getattr(world, who))
    path = url.format(project=world.project.id)
    counts = []
    for total in (5, 50):
        _seed(world, total - (5 if counts else 0))
        browser.get(path)  # warm up: the first request of a session may refresh it
        with count_queries() as q:
            response = browser.get(path)
        assert response.status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1], counts


def test_goal_page_queries_do_not_grow_with_revisions_or_check_ins(make_web, world, count_queries):
    """The goal page loads revisions, signatures, assumptions and check-ins in a fixed number of queries."""
    goal = agreed_goal(world.manager, world.own_client, world.project)
    browser = as_user(make_web, world.manager)
    counts = []
    for rounds in (1, 6):
        for n in range(rounds):
            service.record_check_in(world.manager, goal, measured_on=project_today(world.project), value=Decimal(120 + n))
            service.add_comment(world.own_client, goal, f"Comment {n}")
        db.session.commit()
        browser.get(f"/goals/{goal.id}/history")
        with count_queries() as q:
            assert browser.get(f"/goals/{goal.id}").status_code == 200
            assert browser.get(f"/goals/{goal.id}/history").status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1], counts
