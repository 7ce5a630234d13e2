"""The agency's screens: clients, projects, people, account settings, the email log and the activity log."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal import activity
from portal.extensions import db
from portal.models import (
    ActivityEvent,
    Client,
    EmailStatus,
    OutboxEmail,
    Project,
    ProjectMember,
    Role,
    User,
)
from portal.models.activity import AppendOnlyError
from portal.timeutil import utcnow
from tests.fixtures.activity import events

# --- Helpers ------------------------------------------------------------------------


def location(response) -> str:
    """Return the path a redirect points to."""
    assert response.status_code == 302, response.status_code
    return urlsplit(response.headers["Location"]).path


def page_text(response) -> str:
    """Return the page with HTML entities decoded, as a reader sees its words."""
    return html.unescape(response.get_data(as_text=True))


def field_error(response, field_id: str) -> str:
    """Return the error shown under the form field ``field_id``."""
    match = re.search(rf'<div id="{re.escape(field_id)}-error"[^>]*>(.*?)</div>', page_text(response), re.S)
    assert match, f"no error under {field_id}"
    return " ".join(match.group(1).split())


def count(model) -> int:
    """Return how many rows ``model`` has."""
    return db.session.scalar(select(func.count()).select_from(model))


def client_profile(**values: str) -> dict:
    """Return a complete client form, with ``values`` changed."""
    return {
        "name": "Kuzey Tekstil",
        "decision_makers": "Ahmet Bey (owner)\nLeyla Hanım (marketing)",
        "preferred_channel": "meeting",
        "language": "tr",
        "timezone": "Europe/Istanbul",
        "sensitivities": "Never call on Fridays",
        "internal_notes": "Paid late twice in 2025",
        **values,
    }


def project_form(world, **values) -> dict:
    """Return a complete project form for the own organisation, with ``values`` changed."""
    return {
        "name": "Brand book",
        "client_id": world.own_org.id,
        "manager_id": world.manager.id,
        "description": "A brand book for the new shops",
        "status": "planned",
        "start_date": "2026-03-01",
        "target_date": "2026-06-30",
        "weekly_weekday": "4",
        "weekly_hour": "10",
        "timezone": "Europe/Istanbul",
        "approval_rule": "all",
        "included_rounds": "3",
        **values,
    }


# --- Clients ------------------------------------------------------------------------------


def test_admin_creates_a_client_with_its_profile(web, world):
    """A new client is saved with its whole profile and shown on its page."""
    web.login(world.admin)
    response = web.post("/clients/new", client_profile())
    client = db.session.scalar(select(Client).where(Client.name == "Kuzey Tekstil"))
    assert location(response) == f"/clients/{client.id}"
    page = web.text(f"/clients/{client.id}")
    for words in ("Kuzey Tekstil", "Leyla Hanım (marketing)", "Meeting", "Türkçe", "Never call on Fridays", "Paid late twice in 2025"):
        assert words in page
    [event] = events("client.created")
    assert event.actor_id == world.admin.id and event.client_id == client.id


def test_client_form_errors_keep_what_was_typed(web, world):
    """A refused client form comes back with its errors and everything the admin typed."""
    web.login(world.admin)
    before = count(Client)
    response = web.post("/clients/new", client_profile(name="", timezone="Mars/Olympus"))
    assert response.status_code == 422
    assert field_error(response, "name") == "Enter the organisation's name."
    assert field_error(response, "timezone") == "Choose a time zone from the list."
    page = page_text(response)
    assert "Leyla Hanım (marketing)" in page and "Never call on Fridays" in page and "Paid late twice in 2025" in page
    assert count(Client) == before


def test_manager_edits_a_client_profile(web, world):
    """A manager keeps their client's profile current; the change is logged with the fields."""
    web.login(world.manager)
    response = web.post(f"/clients/{world.own_org.id}/edit", client_profile(name="Anadolu Kahve", sensitivities="Prefers Turkish"))
    assert location(response) == f"/clients/{world.own_org.id}"
    assert "Prefers Turkish" in web.text(f"/clients/{world.own_org.id}")
    [event] = events("client.updated")
    assert event.actor_id == world.manager.id
    assert "sensitivities" in event.data["fields"] and "name" not in event.data["fields"]


def test_archiving_a_client_logs_its_people_out_until_restored(web, make_web, world):
    """Archiving a client ends its people's sessions and blocks their login; restoring lets them back."""
    ayse = make_web()
    ayse.login(world.own_client)
    assert ayse.get("/").status_code == 200
    web.login(world.admin)

    response = web.post(f"/clients/{world.own_org.id}/archive", follow_redirects=True)
    assert "Anadolu Kahve is archived. Its people can no longer log in." in page_text(response)
    assert location(ayse.get("/")) == "/login"
    assert ayse.login(world.own_client).status_code == 401
    assert "Anadolu Kahve" not in web.text("/clients/")
    assert "Anadolu Kahve" in web.text("/clients/?archived=1")

    assert location(web.post(f"/clients/{world.own_org.id}/restore")) == f"/clients/{world.own_org.id}"
    assert location(ayse.login(world.own_client)) == "/"
    assert len(events("client.archived")) == len(events("client.restored")) == 1


# --- Projects ----------------------------------------------------------------------------------


def test_admin_creates_a_project(web, world):
    """A project is created with its settings and shown to its manager."""
    web.login(world.admin)
    response = web.post("/projects/new", project_form(world))
    project = db.session.scalar(select(Project).where(Project.name == "Brand book"))
    assert location(response) == f"/projects/{project.id}"
    assert (project.weekly_weekday, project.weekly_hour, project.included_rounds) == (4, 10, 3)
    assert project.client_id == world.own_org.id and project.manager_id == world.manager.id
    [event] = events("project.created")
    assert event.project_id == project.id
    web.logout()
    web.login(world.manager)
    assert "Brand book" in web.text("/")


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"start_date": "2026-05-01", "target_date": "2026-04-30"}, "target_date", "The target date cannot be before the start date."),
        ({"timezone": "Mars/Olympus"}, "timezone", "Choose a time zone from the list."),
        ({"weekly_hour": "24"}, "weekly_hour", "Enter an hour from 0 to 23."),
    ],
    ids=["target before start", "unknown time zone", "hour 24"],
)
def test_project_form_refuses_bad_settings(web, world, values, field, message):
    """Impossible settings are refused at their field with a 4xx, and no project is created."""
    web.login(world.admin)
    before = count(Project)
    response = web.post("/projects/new", project_form(world, **values))
    assert response.status_code == 422
    assert field_error(response, field) == message
    assert 'value="Brand book"' in response.get_data(as_text=True)
    assert count(Project) == before


def test_manager_edits_their_project(web, world):
    """A manager changes their project's settings; the change is logged."""
    web.login(world.manager)
    response = web.post(f"/projects/{world.project.id}/edit", project_form(world, name="E-commerce relaunch 2.0"))
    assert location(response) == f"/projects/{world.project.id}"
    assert "E-commerce relaunch 2.0" in web.text(f"/projects/{world.project.id}")
    [event] = events("project.updated")
    assert "name" in event.data["fields"] and "manager" not in event.data["fields"]


def test_manager_cannot_reassign_the_manager(web, world):
    """A manager's form offers only themselves as manager, and a smuggled other manager changes nothing."""
    web.login(world.manager)
    form = web.text(f"/projects/{world.project.id}/edit")
    assert "Sarah Other" not in form
    web.post(f"/projects/{world.project.id}/edit", project_form(world, name="E-commerce relaunch", manager_id=world.other_manager.id))
    assert db.session.get(Project, world.project.id).manager_id == world.manager.id
    assert "Can Manager" in web.text(f"/projects/{world.project.id}")
    assert [e for e in events("project.updated") if "manager" in e.data["fields"]] == []


def test_admin_reassigns_the_manager(web, make_web, world):
    """When an admin gives a project to another manager, the former one no longer finds it."""
    web.login(world.admin)
    form = project_form(world, name="E-commerce relaunch", manager_id=world.other_manager.id)
    assert location(web.post(f"/projects/{world.project.id}/edit", form)) == f"/projects/{world.project.id}"
    former = make_web()
    former.login(world.manager)
    assert former.get(f"/projects/{world.project.id}").status_code == 404
    assert "manager" in events("project.updated")[0].data["fields"]


def test_manager_adds_a_member_from_the_clients_organisation(web, make_web, make_user, world):
    """A person of the project's organisation, once added, sees the project."""
    deniz = make_user(Role.CLIENT, world.own_org, name="Deniz Colleague")
    web.login(world.manager)
    assert "Deniz Colleague" in web.text(f"/projects/{world.project.id}")  # offered in the form
    response = web.post(f"/projects/{world.project.id}/members", {"member-user_id": deniz.id, "member-is_approver": "y"})
    assert location(response) == f"/projects/{world.project.id}"
    member = db.session.scalar(select(ProjectMember).where(ProjectMember.user_id == deniz.id))
    assert member.project_id == world.project.id and member.is_approver
    colleague = make_web()
    colleague.login(deniz)
    assert "E-commerce relaunch" in colleague.text("/")
    assert events("project.member_added")[0].data == {"user_id": deniz.id, "approver": True}


def test_adding_another_organisations_user_is_refused(web, world):
    """Even an admin cannot make another organisation's person a member of this project."""
    web.login(world.admin)
    assert "Tom Other" not in web.text(f"/projects/{world.project.id}")
    response = web.post(f"/projects/{world.project.id}/members", {"member-user_id": world.other_client.id})
    assert response.status_code == 422
    assert count(ProjectMember) == 2
    assert events("project.member_added") == []


def test_manager_toggles_the_approver_role(web, world):
    """Taking the approver role away and giving it back is saved and logged each time."""
    member = world.project.members[0]
    web.login(world.manager)
    url = f"/projects/{world.project.id}/members/{member.id}/approver"
    assert location(web.post(url, {"approver": "0"})) == f"/projects/{world.project.id}"
    assert db.session.get(ProjectMember, member.id).is_approver is False
    assert "Make approver" in web.text(f"/projects/{world.project.id}")
    web.post(url, {"approver": "1"})
    assert db.session.get(ProjectMember, member.id).is_approver is True
    assert [e.data["approver"] for e in events("project.approver_changed")] == [False, True]


def test_manager_removes_a_member(web, make_web, world):
    """A removed member no longer finds the project."""
    member_id = world.project.members[0].id
    web.login(world.manager)
    response = web.post(f"/projects/{world.project.id}/members/{member_id}/remove")
    assert location(response) == f"/projects/{world.project.id}"
    assert db.session.get(ProjectMember, member_id) is None
    ayse = make_web()
    ayse.login(world.own_client)
    assert ayse.get(f"/projects/{world.project.id}").status_code == 404
    assert events("project.member_removed")[0].data == {"user_id": world.own_client.id}


# --- People ---------------------------------------------------------------------------------


def invite(web, email: str, role: str = "manager", client_id: int = 0):
    """Invite someone through the people page."""
    return web.post(
        "/admin/users/invite",
        {"invite-name": "Mert", "invite-email": email, "invite-role": role, "invite-client_id": client_id, "invite-language": "en"},
    )


def test_admin_invites_a_member_of_staff(web, world):
    """An invited manager appears in the people list as invited, with an email on its way."""
    web.login(world.admin)
    assert location(invite(web, "mert@example.com")) == "/admin/users"
    mert = db.session.scalar(User.by_email("mert@example.com"))
    assert mert.role is Role.MANAGER and mert.client_id is None and not mert.has_password
    people = web.text("/admin/users")
    assert "mert@example.com" in people and "Invited" in people
    assert events("user.invited")[0].object_id == mert.id


def test_manager_cannot_invite_staff(web, world):
    """A manager can invite only client people: the staff invitation is refused and a smuggled role ignored."""
    web.login(world.manager)
    assert invite(web, "mert@example.com").status_code == 403
    assert db.session.scalar(User.by_email("mert@example.com")) is None
    web.post(f"/clients/{world.own_org.id}/invite", {"email": "sneaky@example.com", "language": "en", "role": "admin"})
    assert db.session.scalar(User.by_email("sneaky@example.com")).role is Role.CLIENT


def test_duplicate_email_is_refused(web, world):
    """Inviting an address that already has an account is refused at the email field, and nothing is sent."""
    web.login(world.admin)
    response = invite(web, "AYSE@example.com", role="client", client_id=world.own_org.id)
    assert response.status_code == 422
    assert field_error(response, "invite-email") == "Someone with this email already has an account."
    assert count(OutboxEmail) == 0


def test_admin_changes_a_staff_role(web, make_web, world):
    """A manager made admin sees the admin sections from the next page on."""
    can = make_web()
    can.login(world.manager)
    assert "/admin/users" not in can.text("/")
    web.login(world.admin)
    assert location(web.post(f"/admin/users/{world.manager.id}", {"role": "admin"})) == f"/admin/users/{world.manager.id}"
    assert db.session.get(User, world.manager.id).role is Role.ADMIN
    assert "/admin/users" in can.text("/")
    assert events("user.role_changed")[0].data == {"role": "admin"}


def test_admin_cannot_deactivate_themselves(web, world):
    """The admin's own deactivation is refused with a message, and they stay logged in."""
    web.login(world.admin)
    response = web.post(f"/admin/users/{world.admin.id}/deactivate", follow_redirects=True)
    assert "You cannot deactivate your own account." in page_text(response)
    assert db.session.get(User, world.admin.id).active
    assert web.get("/admin/users").status_code == 200
    assert events("user.deactivated") == []


def test_admin_deactivates_and_reactivates_someone(web, make_web, world):
    """A deactivated person cannot log in until reactivated; both changes are logged."""
    web.login(world.admin)
    web.post(f"/admin/users/{world.own_client.id}/deactivate")
    assert make_web().login(world.own_client).status_code == 401
    web.post(f"/admin/users/{world.own_client.id}/reactivate")
    assert location(make_web().login(world.own_client)) == "/"
    assert len(events("user.deactivated")) == len(events("user.reactivated")) == 1


# --- Account settings -------------------------------------------------------------------------


def settings_form(**values: str) -> dict:
    """Return the profile form of the account page, with ``values`` changed."""
    return {"profile-name": "Ayşe Yılmaz", "profile-language": "en", "profile-timezone": "America/New_York", **values}


def test_account_settings_are_saved(web, world):
    """Name, language, time zone and email preferences are saved and shown."""
    web.login(world.own_client)
    response = web.post("/account/", settings_form(**{"profile-notify_activity": "y"}))
    assert location(response) == "/account/"
    user = db.session.get(User, world.own_client.id)
    assert (user.name, user.language, user.timezone) == ("Ayşe Yılmaz", "en", "America/New_York")
    assert user.notify_activity is True and user.notify_weekly is False
    page = web.text("/account/")
    assert "Ayşe Yılmaz" in page and "Your settings are saved." in page


def test_switching_to_turkish_changes_the_next_page(web, world):
    """After choosing Turkish in the settings, the next page is in Turkish."""
    web.login(world.own_client)
    assert '<html lang="en">' in web.text("/")
    web.post("/account/", settings_form(**{"profile-language": "tr"}))
    assert '<html lang="tr">' in web.text("/")


def test_account_settings_refuse_an_unknown_time_zone(web, world):
    """An unknown time zone is refused at its field and nothing is saved."""
    web.login(world.own_client)
    response = web.post("/account/", settings_form(**{"profile-timezone": "Mars/Olympus"}))
    assert response.status_code == 422
    assert field_error(response, "profile-timezone") == "Choose a time zone from the list."
    assert db.session.get(User, world.own_client.id).name == "Ayşe Client"


# --- Email log ------------------------------------------------------------------------------------


def test_admin_sees_a_queued_invitation_in_the_email_log(web, world):
    """An invitation shows up in the email log, queued, with its subject and address."""
    web.login(world.admin)
    invite(web, "mert@example.com")
    log = page_text(web.get("/admin/emails/"))
    assert "mert@example.com" in log
    assert "Elif Admin invites you to join the team on Rapport" in log
    assert "Queued" in log


def test_retrying_a_dead_email_queues_it_again(web, world):
    """An email that failed for good can be sent again from its page."""
    dead = OutboxEmail(
        idempotency_key="weekly:1:2026-W10",
        user_id=world.own_client.id,
        to_address=world.own_client.email,
        subject="Your weekly update",
        text_body="Hello",
        status=EmailStatus.DEAD,
        attempts=8,
        last_error="SMTPServerDisconnected: gone",
        next_attempt_at=utcnow(),
    )
    db.session.add(dead)
    db.session.commit()
    web.login(world.admin)
    assert "Send again" in web.text(f"/admin/emails/{dead.id}")
    response = web.post(f"/admin/emails/{dead.id}/retry", follow_redirects=True)
    assert "The email is queued again; it goes out within a minute." in page_text(response)
    email = db.session.get(OutboxEmail, dead.id)
    assert email.status is EmailStatus.QUEUED and email.attempts == 0


# --- The activity log ----------------------------------------------------------------------------


def test_activity_events_cannot_be_updated_or_deleted(world):
    """The activity log is append-only: changing or deleting an event fails and changes nothing."""
    event = activity.record(world.admin, "client.updated", world.own_org, client=world.own_org)
    db.session.commit()
    event.verb = "client.created"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(ActivityEvent, event.id))
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(ActivityEvent, event.id).verb == "client.updated"


# --- Queries per page --------------------------------------------------------------------------------


def add_clients_with_projects(n: int, prefix: str) -> None:
    """Add ``n`` client organisations, each with its own manager, a project and a member."""
    for i in range(n):
        client = Client(name=f"{prefix} client {i}", timezone="Europe/Istanbul")
        manager = User(email=f"{prefix}.manager{i}@example.com", name=f"Manager {i}", role=Role.MANAGER)
        person = User(email=f"{prefix}.person{i}@example.com", name=f"Person {i}", role=Role.CLIENT, client=client)
        project = Project(name=f"{prefix} project {i}", client=client, manager=manager, timezone="Europe/Istanbul")
        db.session.add_all([client, manager, person, project, ProjectMember(project=project, user=person)])
    db.session.commit()


LIST_PAGES = {
    # name: (url, what the page shows once the 50th item exists)
    "staff home": ("/", 'Projects <span class="badge text-bg-light border">50</span>'),
    "clients": ("/clients/", "many client 44"),
    "people": ("/admin/users?status=all", "many.person44@example.com"),
}


@pytest.mark.parametrize("name", LIST_PAGES)
def test_queries_do_not_grow_with_the_number_of_items(web, world, count_queries, name):
    """A list page runs as many queries for 50 items as for 5."""
    url, fiftieth = LIST_PAGES[name]
    web.login(world.admin)
    add_clients_with_projects(3, "few")  # with the world's two: 5 of each
    web.get(url)
    with count_queries() as few:
        web.text(url)
    add_clients_with_projects(45, "many")
    with count_queries() as many:
        page = web.text(url)
    assert fiftieth in page
    assert many.count == few.count, "\n".join(many.statements)
