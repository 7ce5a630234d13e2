"""Know the client where you write to them: the profile panel beside staff's writing, decision makers with an account.

Staff see who decides, how the client likes to hear from us, their time now and what to handle
with care on every page where they write to the client; a client never sees any of it.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from flask import g, render_template
from flask_babel import refresh
from sqlalchemy import select

from portal.assets import service as assets
from portal.clients import service as clients
from portal.clients.queries import profile_for, staff_profile
from portal.deliverables import service as deliverables
from portal.errors import DomainError
from portal.extensions import db
from portal.ids import MAX_INT
from portal.models import ActivityEvent, ClientDecisionMaker, DecisionOutcome, PreferredChannel, ReasonCategory, Role
from portal.seed import CLIENTS, seed_demo
from portal.templating import local_datetime
from portal.updates import service as updates
from tests.integration.deliverables_support import make_deliverable, submit
from tests.integration.goals_support import agreed_goal

SENSITIVE = "Never mention the old logo"
UNLINKED = "Hakan Bey, finance, has no account"
PANEL = "data-client-profile"


@pytest.fixture
def profiled(world, make_user):
    """The own organisation with a full profile and a decision maker with an account who is not on the project."""
    org = world.own_org
    org.sensitivities = SENSITIVE
    org.decision_makers = UNLINKED
    org.preferred_channel = PreferredChannel.PHONE
    org.language = "tr"
    org.internal_notes = "Pays late"
    world.decider = make_user(Role.CLIENT, org, name="Mehmet Decider", email="mehmet@anadolu.example")
    db.session.add(ClientDecisionMaker(client_id=org.id, user_id=world.decider.id))
    db.session.commit()
    return world


def client_form(world, **values) -> dict:
    """Return the own organisation's complete profile form, with ``values`` changed."""
    org = world.own_org
    return {
        "name": org.name,
        "decision_makers": org.decision_makers,
        "preferred_channel": org.preferred_channel.value,
        "language": org.language,
        "timezone": org.timezone,
        "sensitivities": org.sensitivities,
        "internal_notes": org.internal_notes,
        **values,
    }


def linked_ids(client_id: int) -> set[int]:
    """Return the ids of the users linked to the client as decision makers."""
    return set(db.session.scalars(select(ClientDecisionMaker.user_id).where(ClientDecisionMaker.client_id == client_id)))


def writing_pages(world) -> dict[str, str]:
    """Make something on each page where staff write to the client; return the pages' URLs by name."""
    project = world.project
    draft = updates.save_update(world.manager, project, {"title": "Sprint 3", "body": "Draft"}, publish=False)
    request = assets.create_request(world.manager, project, title="Logo as a vector file", kinds=["images"])
    reviewed = make_deliverable(world.manager, project, title="Homepage design")
    db.session.commit()
    version = submit(world.manager, reviewed)
    deliverables.decide(world.own_client, version, outcome=DecisionOutcome.CHANGES_REQUESTED, reason_category=ReasonCategory.QUALITY, text="Bigger logo")
    db.session.commit()
    deliverables.start_version(world.manager, reviewed)
    db.session.commit()
    world.draft, world.request, world.reviewed = draft, request, reviewed
    return {
        "new update": f"/projects/{project.id}/updates/new",
        "draft update": f"/projects/{project.id}/updates/{draft.id}/edit",
        "weekly preview and note": f"/projects/{project.id}/weekly",
        "change-request response": f"/deliverables/{reviewed.id}",
        "next version": f"/deliverables/{reviewed.id}/draft",
        "new asset request": f"/projects/{project.id}/assets/requests/new",
        "asset request edit": f"/assets/requests/{request.id}/edit",
    }


# --- Staff see the panel where they write ------------------------------------------------------


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_staff_see_the_profile_on_every_page_where_they_write_to_the_client(make_web, profiled, who):
    """The update form, the weekly preview and note, the change-request response and the asset request form show the profile."""
    pages = writing_pages(profiled)
    web = make_web()
    web.login(getattr(profiled, who))
    for name, url in pages.items():
        page = web.text(url)
        assert PANEL in page and "Know your client" in page, name
        assert "Mehmet Decider" in page and "mehmet@anadolu.example" in page, name
        assert UNLINKED in page and SENSITIVE in page, name
        assert "Phone call" in page and "Türkçe" in page, name
        assert "Istanbul" in page, name  # their time now, in their zone
        assert "Pays late" not in page, name  # internal notes stay on the client's own page


def test_a_refused_weekly_note_keeps_the_profile_beside_it(make_web, profiled):
    """The note form shown again after a refusal still has the profile beside it."""
    web = make_web()
    web.login(profiled.manager)
    response = web.post(f"/projects/{profiled.project.id}/weekly/note", {"body": "x" * 20_000})
    assert response.status_code == 422
    assert PANEL in response.get_data(as_text=True)


def test_the_panel_shows_the_clients_time_now_in_their_zone(app, profiled):
    """Their time is read in the client's zone, in the reader's language, whatever the manager's own zone is."""
    profiled.own_org.timezone = "America/New_York"
    profiled.manager.timezone = "Europe/Istanbul"
    profiled.manager.language = "en"
    db.session.commit()
    moment = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)  # 07:00 in New York, 15:00 in Istanbul
    with app.test_request_context("/"):
        g._login_user = profiled.manager
        refresh()
        assert local_datetime(moment, "short", zone="America/New_York") == "12/3/26, 7:00\u202fAM"
        assert local_datetime(moment, "short") == "12/3/26, 3:00\u202fPM"  # the reader's own zone is unchanged
        panel = render_template("clients/_profile_panel.html", client_profile=profile_for(profiled.own_org, moment))
    assert "7:00\u202fAM (New York)" in panel and "3:00" not in panel


def test_the_deliverable_page_shows_the_profile_only_while_answering_a_request_for_changes(make_web, profiled):
    """Staff see the profile on a deliverable awaiting their answer to a request for changes, not on one in review."""
    in_review = make_deliverable(profiled.manager, profiled.project, title="Logo")
    submit(profiled.manager, in_review)
    web = make_web()
    web.login(profiled.manager)
    assert PANEL not in web.text(f"/deliverables/{in_review.id}")


# --- Clients never see it -----------------------------------------------------------------------


def test_a_client_never_sees_the_profile_on_any_page_of_their_project(make_web, profiled):
    """Every page the project's client member can open carries none of the profile, not even its marker."""
    writing_pages(profiled)
    project = profiled.project
    published = updates.save_update(profiled.manager, project, {"title": "Week 2", "body": "Done"}, publish=True)
    goal = agreed_goal(profiled.manager, profiled.own_client, project)
    db.session.commit()
    web = make_web()
    web.login(profiled.own_client)
    readable = [
        "/",
        f"/projects/{project.id}",
        f"/projects/{project.id}/updates",
        f"/projects/{project.id}/updates/{published.id}",
        f"/projects/{project.id}/deliverables",
        f"/deliverables/{profiled.reviewed.id}",  # changes requested: the page staff answer it from
        f"/projects/{project.id}/assets",
        f"/assets/requests/{profiled.request.id}",
        f"/projects/{project.id}/goals",
        f"/goals/{goal.id}",
        f"/projects/{project.id}/expectations/",
    ]
    for url in readable:
        page = web.text(url)
        for secret in (PANEL, "Know your client", SENSITIVE, UNLINKED, "Mehmet Decider", "mehmet@anadolu.example", "Pays late"):
            assert secret not in page, (url, secret)
    # The staff pages where the panel lives are closed to them altogether.
    staff_only = [
        f"/projects/{project.id}/updates/new",
        f"/projects/{project.id}/updates/{profiled.draft.id}/edit",
        f"/projects/{project.id}/weekly",
        f"/deliverables/{profiled.reviewed.id}/draft",
        f"/projects/{project.id}/assets/requests/new",
        f"/assets/requests/{profiled.request.id}/edit",
    ]
    for url in staff_only:
        response = web.get(url)
        assert response.status_code in (403, 404), url
        assert SENSITIVE not in response.get_data(as_text=True) and PANEL not in response.get_data(as_text=True), url


def test_the_profile_is_staff_only_by_construction(profiled):
    """The loader gives a client nothing to render."""
    assert staff_profile(profiled.own_client, profiled.own_org) is None
    assert staff_profile(profiled.manager, profiled.own_org) is not None


# --- Linking decision makers --------------------------------------------------------------------


def test_staff_link_the_clients_own_people_as_decision_makers(make_web, profiled, make_user):
    """The edit form offers the client's active people; ticked ones are saved and shown on the profile and the project card."""
    gone = make_user(Role.CLIENT, profiled.own_org, name="Gone Person", active=False)
    web = make_web()
    web.login(profiled.manager)
    form = web.text(f"/clients/{profiled.own_org.id}/edit")
    offered = {
        person.id
        for person in (profiled.own_client, profiled.decider, gone, profiled.other_client, profiled.manager)
        if f'id="decision_maker_ids-{person.id}"' in form
    }
    assert offered == {profiled.own_client.id, profiled.decider.id}
    assert f'value="{profiled.decider.id}" id="decision_maker_ids-{profiled.decider.id}" checked' in form

    response = web.post(f"/clients/{profiled.own_org.id}/edit", client_form(profiled, decision_maker_ids=[profiled.own_client.id]))
    assert response.status_code == 302
    assert linked_ids(profiled.own_org.id) == {profiled.own_client.id}
    event = db.session.scalars(select(ActivityEvent).where(ActivityEvent.verb == "client.updated")).one()
    assert event.data["fields"] == ["decision_maker_ids"]

    show = web.text(f"/clients/{profiled.own_org.id}")
    assert "Ayşe Client" in show and "ayse@example.com" in show and UNLINKED in show
    page = web.text(f"/projects/{profiled.project.id}")
    card = page[page.index('id="kyc-heading"') :].split("</section>", 1)[0]
    assert "ayse@example.com" in card and UNLINKED in card and "Mehmet Decider" not in card
    assert gone.id not in linked_ids(profiled.own_org.id)


def test_unticking_everyone_removes_the_links_and_keeps_the_free_text(make_web, profiled):
    """A form with nobody ticked leaves no linked decision maker; the free text still names the others."""
    web = make_web()
    web.login(profiled.admin)
    assert web.post(f"/clients/{profiled.own_org.id}/edit", client_form(profiled)).status_code == 302
    assert linked_ids(profiled.own_org.id) == set()
    assert profiled.own_org.decision_makers == UNLINKED


@pytest.mark.parametrize("chosen", ["other_client", "manager", "inactive", "unknown", "too_big", "not_a_number"])
def test_only_the_clients_own_people_can_be_linked(make_web, profiled, make_user, chosen):
    """Another organisation's user, staff, a deactivated account or a made-up id is a form error: a 422, nothing saved."""
    values = {
        "other_client": lambda: profiled.other_client.id,
        "manager": lambda: profiled.manager.id,
        "inactive": lambda: make_user(Role.CLIENT, profiled.own_org, active=False).id,
        "unknown": lambda: 999_999,
        "too_big": lambda: MAX_INT + 1,
        "not_a_number": lambda: "1; drop table users",
    }
    smuggled = values[chosen]()
    web = make_web()
    web.login(profiled.manager)
    form = client_form(profiled, name="Renamed", decision_maker_ids=[profiled.own_client.id, smuggled])
    response = web.post(f"/clients/{profiled.own_org.id}/edit", form)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "Choose decision makers among this client's own people." in page
    assert f'value="{profiled.own_client.id}" id="decision_maker_ids-{profiled.own_client.id}" checked' in page  # kept as ticked
    assert linked_ids(profiled.own_org.id) == {profiled.decider.id}
    assert profiled.own_org.name == "Anadolu Kahve"


def test_a_new_client_has_no_one_to_link(make_web, world):
    """Creating a client offers no decision makers; a smuggled id is refused and nothing is created."""
    web = make_web()
    web.login(world.admin)
    assert "decision_maker_ids" not in web.text("/clients/new")
    form = client_form(world, name="Smuggler Ltd", decision_maker_ids=[world.own_client.id])
    assert web.post("/clients/new", form).status_code == 422
    assert db.session.scalars(select(ClientDecisionMaker)).all() == []


def test_the_service_refuses_another_clients_user(profiled):
    """The rule holds below the form too: the whole change is refused."""
    with pytest.raises(DomainError) as refused:
        clients.set_decision_makers(profiled.own_org, [profiled.own_client.id, profiled.other_client.id])
    assert refused.value.field == "decision_maker_ids"
    db.session.rollback()
    assert linked_ids(profiled.own_org.id) == {profiled.decider.id}


# --- Cost and seed ------------------------------------------------------------------------------


def test_the_panel_costs_the_same_queries_for_1_and_5_decision_makers(make_web, profiled, make_user, count_queries):
    """Loading the profile is one query, and the update form runs as many statements, however many people decide."""
    url = f"/projects/{profiled.project.id}/updates/new"
    web = make_web()
    web.login(profiled.manager)
    web.text(url)  # warm the session and caches

    def measure() -> tuple[int, int]:
        db.session.expire_all()
        with count_queries() as loading:
            profile = profile_for(profiled.own_org)
            assert profile.decision_makers
        with count_queries() as page:
            web.text(url)
        return loading.count, page.count

    one = measure()
    for n in range(4):
        person = make_user(Role.CLIENT, profiled.own_org, name=f"Decider {n}")
        db.session.add(ClientDecisionMaker(client_id=profiled.own_org.id, user_id=person.id))
    db.session.commit()
    five = measure()
    assert len(profile_for(profiled.own_org).decision_makers) == 5
    assert one == five
    assert one[0] <= 2  # the client (when not loaded yet) and its decision makers


def test_the_demo_links_each_clients_decision_makers(app):
    """Every demo client has its deciding people linked, so the demo shows the panel's names."""
    seed_demo()
    rows = db.session.scalars(select(ClientDecisionMaker)).all()
    linked = {link.user.email for link in rows}
    assert linked == {email for spec in CLIENTS for email in spec["deciders"]}
    assert all(link.user.client_id == link.client_id for link in rows)
    assert {link.client.name for link in rows} == {spec["name"] for spec in CLIENTS}
