"""Incidents and their recovery plans: the rules of the service, the pages, the weekly update they lead, and the record."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.errors import Conflict, DomainError, NotAllowed
from portal.extensions import db
from portal.incidents import service
from portal.incidents.queries import recovery_for
from portal.models import ActivityEvent, Incident, OutboxEmail, PlanAcceptance, Role, TrustAnswer, Update, UpdateKind
from portal.models.activity import AppendOnlyError
from portal.timeutil import utcnow
from portal.updates.dispatch import dispatch_weekly
from tests.fixtures.outbox import emails

NOW = datetime(2026, 3, 4, 10, tzinfo=UTC)  # a Wednesday


def values(**changes):
    """Return the fields of an incident, with ``changes``."""
    base = {
        "title": "The shop was down for three hours",
        "details": "Checkout returned errors.",
        "detected_at": NOW - timedelta(hours=2),
        "affected": "Every customer paying by card",
        "impact": "About 40 lost orders on a sale day",
        "cause": "",
        "visibility": "shared",
    }
    return {**base, **changes}


def open_incident(project, actor=None, **changes) -> Incident:
    """Open and commit an incident on ``project``."""
    incident = service.open_incident(actor or project.manager, project, values(**changes), now=NOW)
    db.session.commit()
    return incident


def add_steps(incident, actor, count: int, *, start: date = date(2026, 3, 5)):
    """Add ``count`` steps to the plan, a day apart, each owned by ``actor``; commit."""
    steps = [
        service.add_step(actor, incident, title=f"Step {i + 1}", due_on=start + timedelta(days=i), owner=service.Owner(actor)) for i in range(count)
    ]
    db.session.commit()
    return steps


def verbs(incident) -> list[str]:
    """Return the verbs of the incident's record, oldest first."""
    return list(
        db.session.scalars(
            select(ActivityEvent.verb).where(ActivityEvent.object_type == "incident", ActivityEvent.object_id == incident.id).order_by(ActivityEvent.id)
        )
    )


# --- recovery_for ------------------------------------------------------------------------------


def test_recovery_for_counts_steps_of_open_shared_incidents_only_in_one_query(world, count_queries):
    """Only open shared incidents count; a plan not written yet is (0, 0); other projects are left out."""
    manager = world.manager
    incident = open_incident(world.project)
    steps = add_steps(incident, manager, 5)
    service.mark_step_done(manager, steps[0])
    service.mark_step_done(manager, steps[1])
    db.session.commit()
    open_incident(world.project, visibility="internal")  # internal: not counted
    other = open_incident(world.other_project, actor=world.other_manager)
    ids = [world.project.id, world.other_project.id, 99999]
    with count_queries() as counted:
        found = recovery_for(ids)
    assert counted.count == 1
    assert found == {ids[0]: (2, 5), ids[1]: (0, 0)}

    add_steps(other, world.other_manager, 1)
    service.mark_step_done(world.other_manager, other.steps[0])
    service.close_incident(world.other_manager, other, "All fixed")
    db.session.commit()
    assert recovery_for([world.project.id, world.other_project.id]) == {world.project.id: (2, 5)}
    assert recovery_for([]) == {}


# --- Opening and editing -------------------------------------------------------------------------


def test_only_the_manager_or_an_admin_opens_an_incident(world):
    """A client, another manager are refused; the admin may."""
    for outsider in (world.own_client, world.other_manager):
        with pytest.raises(NotAllowed):
            service.open_incident(outsider, world.project, values(), now=NOW)
    db.session.rollback()
    incident = open_incident(world.project, actor=world.admin)
    assert incident.opened_by_id == world.admin.id and incident.is_open and verbs(incident) == ["incident.opened"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"impact": "  "}, "impact"),
        ({"title": ""}, "title"),
        ({"detected_at": NOW + timedelta(hours=1)}, "detected_at"),
        ({"detected_at": None}, "detected_at"),
        ({"visibility": "public"}, "visibility"),
        ({"title": "x" * 201}, "title"),
    ],
)
def test_bad_incident_input_is_refused_on_its_field(world, changes, field):
    """The impact on the client is required; detection is never in the future."""
    with pytest.raises(DomainError) as refused:
        service.open_incident(world.manager, world.project, values(**changes), now=NOW)
    assert refused.value.field == field


def test_the_cause_is_added_later_and_a_shared_incident_stays_shared(world):
    """Editing records which fields changed; a shared incident cannot become internal; a closed one cannot change."""
    incident = open_incident(world.project)
    changed = service.update_incident(world.manager, incident, values(cause="An expired certificate"), now=NOW)
    db.session.commit()
    assert changed == ["cause"] and incident.cause == "An expired certificate"
    assert service.update_incident(world.manager, incident, values(cause="An expired certificate"), now=NOW) == []
    with pytest.raises(DomainError, match="stays shared"):
        service.update_incident(world.manager, incident, values(visibility="internal"), now=NOW)
    db.session.rollback()
    internal = open_incident(world.project, visibility="internal")
    service.update_incident(world.manager, internal, values(visibility="shared"), now=NOW)
    db.session.commit()
    assert internal.is_shared
    service.close_incident(world.manager, internal, "Done")
    db.session.commit()
    with pytest.raises(Conflict):
        service.update_incident(world.manager, internal, values(cause="Later"), now=NOW)
    assert verbs(incident) == ["incident.opened", "incident.edited"]


# --- The plan ------------------------------------------------------------------------------------


def test_steps_have_a_date_and_an_owner_and_a_change_is_a_new_plan(world, make_user):
    """A step needs a title and a date; its owner is staff or the client; adding or editing changes the plan's version."""
    incident = open_incident(world.project)
    assert incident.plan_version == 1
    with pytest.raises(DomainError) as refused:
        service.add_step(world.manager, incident, title="Restore", due_on=None, owner=service.CLIENT)
    assert refused.value.field == "due_on"
    with pytest.raises(DomainError) as refused:
        service.add_step(world.manager, incident, title="Restore", due_on=date(2026, 3, 5), owner=service.Owner(world.own_client))
    assert refused.value.field == "owner"
    db.session.rollback()
    step = service.add_step(world.manager, incident, title="Send the list of lost orders", due_on=date(2026, 3, 6), owner=service.CLIENT)
    db.session.commit()
    assert step.owner_is_client and step.owner is None and incident.plan_version == 2
    assert service.edit_step(world.manager, step, title="Send the list of lost orders", due_on=date(2026, 3, 6), owner=service.CLIENT) is False
    assert service.edit_step(world.manager, step, title="Send the lost orders", due_on=date(2026, 3, 7), owner=service.Owner(world.admin)) is True
    db.session.commit()
    assert (step.title, step.owner_id, step.owner_is_client, incident.plan_version) == ("Send the lost orders", world.admin.id, False, 3)
    with pytest.raises(NotAllowed):
        service.add_step(world.other_manager, incident, title="x", due_on=date(2026, 3, 5), owner=service.CLIENT)


def test_a_step_done_is_posted_to_the_client_of_a_shared_incident_only(world, make_user):
    """Marking a step done emails client members who want activity emails; an internal incident tells nobody; done is done once."""
    quiet = make_user(Role.CLIENT, world.own_org, notify_activity=False)
    world.project.members.append(type(world.project.members[0])(user=quiet, is_approver=False))
    db.session.commit()
    incident = open_incident(world.project)
    first, _second = add_steps(incident, world.manager, 2)
    service.mark_step_done(world.manager, first)
    db.session.commit()
    [email] = emails("incident_step_done")
    assert email.to_address == world.own_client.email
    assert "Step 1" in email.subject and "1 of 2 steps done" in email.text_body and "Next: “Step 2”" in email.text_body
    assert f"/incidents/{incident.id}" in email.text_body
    with pytest.raises(Conflict, match="already"):
        service.mark_step_done(world.manager, first)
    db.session.rollback()
    with pytest.raises(Conflict, match="done"):
        service.edit_step(world.manager, first, title="Changed", due_on=date(2026, 3, 9), owner=service.CLIENT)
    db.session.rollback()

    internal = open_incident(world.project, visibility="internal")
    [step] = add_steps(internal, world.manager, 1)
    service.mark_step_done(world.manager, step)
    db.session.commit()
    assert len(emails("incident_step_done")) == 1
    internal_events = db.session.scalars(select(ActivityEvent).where(ActivityEvent.object_id == internal.id, ActivityEvent.object_type == "incident"))
    assert all(event.internal for event in internal_events)


def test_closing_needs_every_step_done_and_a_note(world):
    """Close refuses open steps and an empty note; the client is told and asked about trust."""
    incident = open_incident(world.project)
    [step] = add_steps(incident, world.manager, 1)
    with pytest.raises(DomainError, match="Every step"):
        service.close_incident(world.manager, incident, "Fixed")
    with pytest.raises(DomainError) as refused:
        service.close_incident(world.manager, incident, " ")
    assert refused.value.field == "note"
    db.session.rollback()
    service.mark_step_done(world.manager, step)
    service.close_incident(world.manager, incident, "Certificates now renew themselves")
    db.session.commit()
    assert not incident.is_open and incident.closed_by_id == world.manager.id
    [email] = emails("incident_closed")
    assert email.to_address == world.own_client.email and "trust" in email.text_body
    with pytest.raises(Conflict):
        service.add_step(world.manager, incident, title="More", due_on=date(2026, 3, 9), owner=service.CLIENT)


# --- The client's answers ---------------------------------------------------------------------


def test_the_client_accepts_each_version_of_the_plan_once(world):
    """Acceptance is recorded with who and when; a changed plan can be accepted again; the manager is told."""
    incident = open_incident(world.project)
    with pytest.raises(Conflict, match="no plan"):
        service.accept_plan(world.own_client, incident)
    db.session.rollback()
    steps = add_steps(incident, world.manager, 2)
    with pytest.raises(NotAllowed):
        service.accept_plan(world.manager, incident)
    with pytest.raises(NotAllowed):
        service.accept_plan(world.other_client, incident)
    db.session.rollback()
    with time_machine.travel(NOW, tick=False):
        accepted = service.accept_plan(world.own_client, incident)
        db.session.commit()
    assert (accepted.user_id, accepted.plan_version, accepted.created_at) == (world.own_client.id, incident.plan_version, NOW)
    with pytest.raises(Conflict, match="already accepted"):
        service.accept_plan(world.own_client, incident)
    db.session.rollback()
    service.mark_step_done(world.manager, steps[0])  # progress is not a change of plan
    db.session.commit()
    with pytest.raises(Conflict, match="already accepted"):
        service.accept_plan(world.own_client, incident)
    db.session.rollback()
    service.add_step(world.manager, incident, title="Refund the lost orders", due_on=date(2026, 3, 10), owner=service.Owner(world.manager))
    db.session.commit()
    again = service.accept_plan(world.own_client, incident)
    db.session.commit()
    assert again.plan_version == incident.plan_version > accepted.plan_version
    assert [e.to_address for e in emails("incident_accepted")] == [world.manager.email] * 2
    accepted.user_id = world.admin.id
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_clients_cannot_accept_an_internal_plan(world):
    """An internal incident is not the client's to answer."""
    incident = open_incident(world.project, visibility="internal")
    add_steps(incident, world.manager, 1)
    with pytest.raises(NotAllowed):
        service.accept_plan(world.own_client, incident)


def test_trust_is_answered_once_after_closing_and_a_no_needs_a_note(world):
    """Not while open; "no" without a note is refused; one answer per incident; the manager is told."""
    incident = open_incident(world.project)
    [step] = add_steps(incident, world.manager, 1)
    with pytest.raises(Conflict, match="not closed"):
        service.answer_trust(world.own_client, incident, restored=True, note="")
    db.session.rollback()
    service.mark_step_done(world.manager, step)
    service.close_incident(world.manager, incident, "Fixed for good")
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        service.answer_trust(world.own_client, incident, restored=False, note="  ")
    assert refused.value.field == "note"
    with pytest.raises(NotAllowed):
        service.answer_trust(world.manager, incident, restored=True, note="")
    db.session.rollback()
    answer = service.answer_trust(world.own_client, incident, restored=False, note="We still check every order by hand")
    db.session.commit()
    assert answer.restored is False and answer.user_id == world.own_client.id
    with pytest.raises(Conflict, match="already answered"):
        service.answer_trust(world.own_client, incident, restored=True, note="")
    db.session.rollback()
    [email] = emails("incident_trust")
    assert email.to_address == world.manager.email and "not restored" in email.subject and "by hand" in email.text_body
    assert db.session.scalar(select(TrustAnswer.id)) == answer.id


def test_everything_is_in_the_append_only_record(world):
    """Opened, edited, step added and done, plan accepted, closed, trust answered: each one event, none changeable."""
    incident = open_incident(world.project)
    service.update_incident(world.manager, incident, values(cause="Expired certificate"), now=NOW)
    [step] = add_steps(incident, world.manager, 1)
    service.edit_step(world.manager, step, title="Renew the certificate", due_on=date(2026, 3, 5), owner=service.CLIENT)
    service.accept_plan(world.own_client, incident)
    service.mark_step_done(world.manager, step)
    service.close_incident(world.manager, incident, "Renewed")
    service.answer_trust(world.own_client, incident, restored=True, note="")
    db.session.commit()
    assert verbs(incident) == [
        "incident.opened",
        "incident.edited",
        "incident.step_added",
        "incident.step_edited",
        "incident.plan_accepted",
        "incident.step_done",
        "incident.closed",
        "incident.trust_answered",
    ]
    event = db.session.scalar(select(ActivityEvent).where(ActivityEvent.object_id == incident.id, ActivityEvent.object_type == "incident").limit(1))
    event.verb = "incident.forgotten"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


# --- The weekly update ----------------------------------------------------------------------------


def weekly_of(project) -> Update:
    db.session.expire_all()
    return db.session.scalars(select(Update).where(Update.kind == UpdateKind.WEEKLY, Update.project_id == project.id).order_by(Update.id.desc())).first()


@pytest.fixture
def weekly_world(world):
    """The world, with the project's weekly slot on Monday 09:00 in Istanbul and created long ago."""
    world.project.weekly_weekday = 0
    world.project.weekly_hour = 9
    world.project.created_at = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.commit()
    return world


def test_an_open_shared_incident_leads_every_weekly_update_with_its_progress(weekly_world):
    """It comes first of the bad news, with "2 of 3 steps done" and the next step's date, until it is closed."""
    world = weekly_world
    from portal.expectations import service as expectations_service

    with time_machine.travel(NOW, tick=False):
        expectations_service.create_note(
            world.manager, world.project,
            {"expected": "Live by May", "reality": "Live in June", "assessment": "worse", "impact": "Later sales", "visibility": "shared"},
        )
        incident = open_incident(world.project)
        steps = add_steps(incident, world.manager, 3)
        service.mark_step_done(world.manager, steps[0])
        service.mark_step_done(world.manager, steps[1])
        open_incident(world.project, title="Internal slip", visibility="internal")
        db.session.commit()
    with time_machine.travel(datetime(2026, 3, 9, 6, 1, tzinfo=UTC), tick=False):
        dispatch_weekly(utcnow())
    update = weekly_of(world.project)
    assert update.facts[0]["kind"] == "incident_open" and update.facts[0]["severity"] == "bad"
    assert [f["params"].get("title") for f in update.facts if f["kind"] == "incident_open"] == ["The shop was down for three hours"]
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "weekly", OutboxEmail.to_address == world.own_client.email))
    body = email.text_body
    headline = body.index("Incident: The shop was down for three hours")
    assert headline < body.index("Live in June")
    assert "Recovery plan: 2 of 3 steps done." in body and "Next: “Step 3”, by March 7, 2026." in body
    assert "Impact on you: About 40 lost orders on a sale day" in body
    assert "Internal slip" not in body

    with time_machine.travel(datetime(2026, 3, 10, tzinfo=UTC), tick=False):
        service.mark_step_done(world.manager, steps[2])
        service.close_incident(world.manager, incident, "All orders refunded")
        db.session.commit()
    with time_machine.travel(datetime(2026, 3, 16, 6, 1, tzinfo=UTC), tick=False):
        dispatch_weekly(utcnow())
    kinds = [f["kind"] for f in weekly_of(world.project).facts]
    assert "incident_open" not in kinds and "incident_closed" in kinds


def test_the_preview_leads_with_the_incident_and_nothing_staff_send_removes_it(web, weekly_world):
    """The preview shows the incident first; a note form stuffed with removals changes nothing."""
    world = weekly_world
    with time_machine.travel(NOW, tick=False):
        incident = open_incident(world.project)
        add_steps(incident, world.manager, 2)
        web.login(world.manager)
        page = web.text(f"/projects/{world.project.id}/weekly")
        bad = page[page.index("Off track and at risk") :]
        assert bad.index("Incident: The shop was down for three hours") < bad.index("</section>")
        assert "0 of 2 steps done" in bad
        web.post(f"/projects/{world.project.id}/weekly/note", {"body": "All good!", "remove": "incidents", "hide": "incident_open", "facts": "[]"})
    with time_machine.travel(datetime(2026, 3, 9, 6, 1, tzinfo=UTC), tick=False):
        dispatch_weekly(utcnow())
    assert weekly_of(world.project).facts[0]["kind"] == "incident_open"


# --- Pages -------------------------------------------------------------------------------------


def test_staff_open_an_incident_through_the_form_and_bad_input_keeps_what_was_typed(web, world):
    """A missing impact or a future detection time: 422 with the message and the typed text kept."""
    url = f"/projects/{world.project.id}/incidents/new"
    form = {"title": "Mail bounced", "detected_at": "2026-03-04T11:00", "impact": "", "visibility": "shared", "affected": "Newsletter readers"}
    with time_machine.travel(NOW, tick=False):
        web.login(world.manager)
        assert "Open an incident" in web.text(url)
        response = web.post(url, form)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "Say how this affects the client" in page and "Newsletter readers" in page and "Mail bounced" in page
        response = web.post(url, {**form, "impact": "Readers missed the sale", "detected_at": "2026-03-05T11:00"})
        assert response.status_code == 422 and "cannot be in the future" in response.get_data(as_text=True)
        response = web.post(url, {**form, "impact": "Readers missed the sale", "detected_at": "yesterday"})
        assert response.status_code == 422
        # Year 1 in a zone east of UTC would not even convert: a message, not a 500.
        world.manager.timezone = "Asia/Tokyo"
        db.session.commit()
        response = web.post(url, {**form, "impact": "Readers missed the sale", "detected_at": "0001-01-01T00:00"})
        assert response.status_code == 422 and "Enter a date from the year 2000 on." in response.get_data(as_text=True)
        world.manager.timezone = "Europe/Istanbul"
        db.session.commit()
        response = web.post(url, {**form, "impact": "Readers missed the sale"})
        assert response.status_code == 302
        incident = db.session.scalar(select(Incident))
        assert incident.detected_at == datetime(2026, 3, 4, 8, tzinfo=UTC)  # 11:00 in Istanbul
        page = web.text(f"/incidents/{incident.id}")
    assert "Readers missed the sale" in page and "No steps yet" in page


def test_the_step_form_and_buttons_on_the_incident_page(web, world):
    """Add a step (bad date: 422, typed title kept), mark it done, close with a confirmation."""
    incident = open_incident(world.project)
    web.login(world.manager)
    url = f"/incidents/{incident.id}"
    response = web.post(f"{url}/steps", {"step-title": "Restore the backup", "step-due_on": "", "step-owner": str(world.manager.id)})
    assert response.status_code == 422 and "Restore the backup" in response.get_data(as_text=True)
    response = web.post(f"{url}/steps", {"step-title": "Restore the backup", "step-due_on": "2026-03-05", "step-owner": "client"})
    assert response.status_code == 302
    step = db.session.scalar(select(Incident).where(Incident.id == incident.id)).steps[0]
    assert step.owner_is_client
    page = web.text(url)
    close_form = f'action="{url}/close" novalidate data-confirm="Close this incident? It cannot be opened again."'
    assert "0 of 1 step done" in page and close_form not in page and "Close it once every step of the plan is done." in page
    assert web.post(f"{url}/steps/{step.id}/done").status_code == 302
    page = web.text(url)
    assert "1 of 1 step done" in page and close_form in page
    response = web.post(f"{url}/close", {"close-note": ""})
    assert response.status_code == 422
    assert web.post(f"{url}/close", {"close-note": "All restored"}).status_code == 302
    assert "All restored" in web.text(url)


def test_the_client_accepts_the_plan_and_answers_trust_on_the_page(web, world):
    """Accept button, "changed since you accepted", then the trust question after closing."""
    incident = open_incident(world.project)
    [step] = add_steps(incident, world.manager, 1)
    web.login(world.own_client)
    url = f"/incidents/{incident.id}"
    page = web.text(url)
    assert "Accept the plan" in page and "Edit incident" not in page and "Mark done" not in page
    assert web.post(f"{url}/accept").status_code == 302
    page = web.text(url)
    assert "Accepted by Ayşe Client" in page and "Accept the plan" not in page
    assert web.post(f"{url}/accept").status_code == 409
    service.edit_step(world.manager, step, title="Restore and check", due_on=date(2026, 3, 6), owner=service.CLIENT)
    db.session.commit()
    page = web.text(url)
    assert "The plan changed since you accepted it." in page and "Accept the plan again" in page
    service.mark_step_done(world.manager, db.session.get(type(step), step.id))
    service.close_incident(world.manager, db.session.get(Incident, incident.id), "Done")
    db.session.commit()
    page = web.text(url)
    assert "Is your trust in us restored?" in page
    response = web.post(f"{url}/trust", {"trust-restored": "no", "trust-note": ""})
    assert response.status_code == 422 and "what is still missing" in response.get_data(as_text=True)
    assert web.post(f"{url}/trust", {"trust-restored": "yes", "trust-note": ""}).status_code == 302
    assert "yes, trust is restored" in web.text(url)


def test_clients_never_see_internal_incidents(web, world):
    """An internal incident is a 404 for the client and absent from their project page and list."""
    internal = open_incident(world.project, title="Staff-only mistake", visibility="internal")
    shared = open_incident(world.project, title="Visible outage")
    web.login(world.own_client)
    assert web.get(f"/incidents/{internal.id}").status_code == 404
    listing = web.text(f"/projects/{world.project.id}/incidents")
    assert "Visible outage" in listing and "Staff-only mistake" not in listing
    overview = web.text(f"/projects/{world.project.id}")
    assert "Visible outage" in overview and "Staff-only mistake" not in overview
    assert web.get(f"/incidents/{shared.id}").status_code == 200


def test_empty_states_say_what_to_do(web, world):
    """The list says what to do when there is nothing; the project page offers to open one."""
    web.login(world.manager)
    page = web.text(f"/projects/{world.project.id}/incidents")
    assert "No open incident" in page and "No closed incident yet" in page
    page = web.text(f"/projects/{world.project.id}")
    assert "Open an incident" in page


def test_the_project_section_runs_a_constant_number_of_queries(web, world, count_queries):
    """The project page and the incident list do not grow with the number of incidents and steps."""
    web.login(world.manager)

    def counted(url: str) -> int:
        with count_queries() as q:
            web.text(url)
        return q.count

    incident = open_incident(world.project)
    add_steps(incident, world.manager, 2)
    few = (counted(f"/projects/{world.project.id}"), counted(f"/projects/{world.project.id}/incidents"))
    for _ in range(6):
        more = open_incident(world.project)
        add_steps(more, world.manager, 3)
    many = (counted(f"/projects/{world.project.id}"), counted(f"/projects/{world.project.id}/incidents"))
    assert many == few


def test_a_plan_acceptance_race_is_a_clear_409(web, world):
    """Two acceptances of the same plan cannot both be recorded: the unique key refuses the second."""
    incident = open_incident(world.project)
    add_steps(incident, world.manager, 1)
    db.session.add(PlanAcceptance(incident=incident, plan_version=incident.plan_version, user=world.own_client))
    db.session.commit()
    web.login(world.own_client)
    response = web.post(f"/incidents/{incident.id}/accept")
    assert response.status_code == 409 and "already accepted" in response.get_data(as_text=True)


def test_staff_add_the_cause_later_through_the_edit_form(web, world):
    """The form opens with the incident's values (detection in the manager's zone); a shared one cannot be made internal."""
    incident = open_incident(world.project)
    url = f"/incidents/{incident.id}/edit"
    with time_machine.travel(NOW, tick=False):
        web.login(world.manager)
        page = web.text(url)
        assert 'value="2026-03-04T11:00"' in page  # 08:00 UTC is 11:00 in Istanbul
        form = {"title": incident.title, "detected_at": "2026-03-04T11:00", "impact": incident.impact, "visibility": "shared"}
        form["cause"] = "An expired certificate"
        assert web.post(url, form).status_code == 302
        response = web.post(url, {**form, "visibility": "internal", "cause": "Typed again"})
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "stays shared with them" in page and "Typed again" in page
        assert db.session.get(Incident, incident.id).cause == "An expired certificate"
        assert "An expired certificate" in web.text(f"/incidents/{incident.id}")
