"""The daily digest: one email a day per client, at their hour in their zone, of what waits on them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from portal.assets import service as assets
from portal.auth.service import set_active
from portal.deliverables.review_due import set_review_due
from portal.digest.service import DigestReport, send_digests, waiting_on
from portal.errors import DomainError
from portal.extensions import db
from portal.models import AssetRequest, ProjectMember, Role, User
from portal.models.projects import ClientReminders
from portal.timeutil import local_today
from tests.fixtures.outbox import emails
from tests.integration.deliverables_support import make_deliverable, submit
from tests.integration.goals_support import propose

# Monday 7 December 2026, 05:30 UTC: 08:30 in Istanbul (UTC+3), 00:30 in New York (UTC-5).
MORNING = datetime(2026, 12, 7, 5, 30, tzinfo=UTC)
TODAY = date(2026, 12, 7)  # the day it is in Istanbul, the projects' zone, at MORNING


def run(moment: datetime) -> DigestReport:
    """Run the digest job's service at ``moment`` and commit, as the job does."""
    with time_machine.travel(moment, tick=False):
        report = send_digests()
        db.session.commit()
    return report


def request_due(world, title: str, days: int) -> AssetRequest:
    """Ask the world's client for files due ``days`` after TODAY (negative: overdue)."""
    with time_machine.travel(MORNING - timedelta(days=30), tick=False):
        asset_request = assets.create_request(world.manager, world.project, title=title, kinds=["images"], due_date=TODAY + timedelta(days=days))
        db.session.commit()
    return asset_request


def digests(to: User | None = None):
    """Return the digests queued (to ``to``)."""
    return emails("digest", to=to.email if to else None)


@pytest.fixture
def new_yorker(world, make_user) -> User:
    """An approver of the world's project who lives in New York."""
    user = make_user(Role.CLIENT, world.own_org, name="Nora York", email="nora@example.com", timezone="America/New_York")
    db.session.add(ProjectMember(project=world.project, user=user, is_approver=True))
    db.session.commit()
    return user


def test_each_person_gets_the_digest_at_their_own_hour_in_their_own_zone(world, new_yorker):
    """At 08:30 in Istanbul the Istanbul client gets hers; the New Yorker gets his at 08:30 New York time."""
    request_due(world, "Logo files", 1)

    assert run(MORNING - timedelta(hours=1)).digests == 0  # 07:30 in Istanbul: not yet
    assert run(MORNING).digests == 1
    assert [e.to_address for e in digests()] == [world.own_client.email]
    assert run(MORNING + timedelta(hours=7)).digests == 0  # 07:30 in New York
    assert run(MORNING + timedelta(hours=8)).digests == 1  # 08:30 in New York
    assert len(digests(new_yorker)) == 1 and len(digests(world.own_client)) == 1


def test_the_hour_is_each_persons_own_setting(world):
    """Someone who chose 18:00 hears nothing in the morning, and gets the digest at six in the evening."""
    world.own_client.digest_hour = 18
    db.session.commit()
    request_due(world, "Logo files", 1)
    assert run(MORNING).digests == 0
    assert run(MORNING + timedelta(hours=9, minutes=30)).digests == 1  # 18:00 in Istanbul


def test_at_most_one_digest_a_day(world):
    """Runs later the same day queue nothing; the next morning brings the next digest."""
    request_due(world, "Logo files", -1)
    assert run(MORNING).digests == 1
    assert run(MORNING + timedelta(minutes=15)).digests == 0
    assert run(MORNING + timedelta(hours=3)).digests == 0
    assert run(MORNING + timedelta(days=1)).digests == 1
    assert len(digests(world.own_client)) == 2


def test_a_late_scheduler_still_sends_the_morning_digest_but_never_at_night(world):
    """After downtime the digest goes a few hours late; the evening finds the day's digest skipped."""
    request_due(world, "Logo files", -1)
    assert run(MORNING + timedelta(hours=13)).digests == 0  # 21:30 in Istanbul: too late for the 08:00 digest
    assert run(MORNING + timedelta(hours=3)).digests == 1  # 11:30: late, still sent


def test_nothing_is_sent_when_nothing_waits(world):
    """No open item (or only files due next week): no email at all."""
    assert run(MORNING).digests == 0
    request_due(world, "Video next week", 7)
    assert run(MORNING + timedelta(minutes=15)).digests == 0
    assert digests() == []


def test_every_kind_of_item_is_listed_by_project_with_its_date_and_link(world, make_project):
    """Versions to review (with the reviewers' date), goals to sign, assumptions, files due soon or overdue: each with an absolute link."""
    with time_machine.travel(MORNING - timedelta(days=2), tick=False):
        deliverable = make_deliverable(world.manager, world.project, title="Homepage design")
        version = submit(world.manager, deliverable)
        set_review_due(world.manager, version, TODAY + timedelta(days=3))
        goal = propose(world.manager, world.project, title="More online orders", assumptions=["Photos arrive by Friday"])
    overdue = request_due(world, "Product photos", -2)
    soon = request_due(world, "Texts for the shop", 2)
    request_due(world, "Video next week", 7)
    second = make_project(world.own_org, world.manager, [(world.own_client, True)], name="Brand refresh")
    with time_machine.travel(MORNING - timedelta(days=1), tick=False):
        assets.create_request(world.manager, second, title="Old logo", kinds=["images"], due_date=TODAY)
        db.session.commit()

    assert run(MORNING).digests == 1
    (email,) = digests(world.own_client)
    assert email.subject == "6 things wait on you in Rapport"
    body = email.text_body
    assert "Deliverable to review: Homepage design, version 1 (due Dec 10, 2026)" in body
    assert "Goal to sign: More online orders" in body
    assert "Assumption to confirm: “Photos arrive by Friday” (goal: More online orders)" in body
    assert "Files requested: Product photos (overdue since Dec 5, 2026)" in body
    assert "Files requested: Texts for the shop (due Dec 9, 2026)" in body
    assert "Video next week" not in body
    # Grouped by project, by name; within one, the overdue first.
    order = ["Brand refresh", "Old logo", "E-commerce relaunch", "Product photos", "Texts for the shop", "Homepage design"]
    assert [body.index(text) for text in order] == sorted(body.index(text) for text in order)
    for link in (
        f"http://portal.test/deliverables/{deliverable.id}",
        f"http://portal.test/goals/{goal.id}",
        f"http://portal.test/goals/{goal.id}#assumptions",
        f"http://portal.test/assets/requests/{overdue.id}",
        f"http://portal.test/assets/requests/{soon.id}",
    ):
        assert link in body and f'href="{link}"' in email.html_body
    assert "http://portal.test/account/" in body  # where to change the hour


def test_the_reviewers_date_falls_back_to_the_deliverables_due_date(world):
    """A version without its own review date shows the deliverable's due date."""
    with time_machine.travel(MORNING - timedelta(days=2), tick=False):
        deliverable = make_deliverable(world.manager, world.project, title="Homepage design", due_date=TODAY + timedelta(days=5))
        submit(world.manager, deliverable)
    run(MORNING)
    assert "Homepage design, version 1 (due Dec 12, 2026)" in digests(world.own_client)[0].text_body


def test_a_review_date_cannot_be_in_the_past(world):
    """Staff cannot ask for a decision by yesterday."""
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)
    with pytest.raises(DomainError):
        set_review_due(world.manager, version, date(2020, 1, 1))


def test_files_sent_or_no_longer_needed_are_not_recalled(world):
    """A request whose files the client sent (waiting for the agency) or that was cancelled is not in the digest."""
    from tests.integration.asset_helpers import png_bytes, store_file

    sent = request_due(world, "Already sent", -1)
    cancelled = request_due(world, "Cancelled", -1)
    request_due(world, "Still needed", -1)
    store_file(world.own_client, world.project, sent, png_bytes(), "logo.png")
    assets.cancel_request(world.manager, cancelled)
    db.session.commit()
    run(MORNING)
    (email,) = digests(world.own_client)
    assert email.subject == "1 thing waits on you in Rapport"
    assert "Still needed" in email.text_body and "Already sent" not in email.text_body and "Cancelled" not in email.text_body


def test_readers_are_not_asked_to_decide(world, make_user):
    """A member who is not an approver hears about the files, not about the version only approvers decide."""
    reader = make_user(Role.CLIENT, world.own_org, name="Reader Rana", email="rana@example.com")
    db.session.add(ProjectMember(project=world.project, user=reader, is_approver=False))
    db.session.commit()
    with time_machine.travel(MORNING - timedelta(days=2), tick=False):
        submit(world.manager, make_deliverable(world.manager, world.project, title="Homepage design"))
    request_due(world, "Product photos", 1)
    run(MORNING)
    (email,) = digests(reader)
    assert "Product photos" in email.text_body and "Homepage design" not in email.text_body
    assert "Homepage design" in digests(world.own_client)[0].text_body


def test_nobody_without_access_hears_anything(world, make_user):
    """Deactivated people, people who turned attention emails off and people taken off the project get nothing."""
    request_due(world, "Product photos", -1)
    quiet = make_user(Role.CLIENT, world.own_org, name="Quiet Kaan", email="kaan@example.com", notify_activity=False)
    removed = make_user(Role.CLIENT, world.own_org, name="Gone Gül", email="gul@example.com")
    leaving = make_user(Role.CLIENT, world.own_org, name="Leaving Lale", email="lale@example.com")
    db.session.add_all([ProjectMember(project=world.project, user=u) for u in (quiet, leaving)])
    db.session.commit()
    set_active(world.admin, world.own_client, False)
    db.session.commit()
    assert removed.memberships == []

    assert run(MORNING).digests == 1
    assert [e.to_address for e in digests()] == [leaving.email]
    world.project.archived_at = MORNING
    db.session.commit()
    assert run(MORNING + timedelta(days=1)).digests == 0  # an archived project asks nothing of anyone
    assert digests(world.other_client) == []


def test_a_firm_project_adds_an_afternoon_reminder_of_what_is_due(world, make_project):
    """On a firm project, what is due today or overdue is recalled at 15:00, once; other projects' items are not."""
    world.project.client_reminders = ClientReminders.FIRM
    db.session.commit()
    request_due(world, "Product photos", -1)
    request_due(world, "Texts for the shop", 2)  # in the digest, not yet pressing
    relaxed = make_project(world.own_org, world.manager, [(world.own_client, True)], name="Brand refresh")
    with time_machine.travel(MORNING - timedelta(days=3), tick=False):
        assets.create_request(world.manager, relaxed, title="Old logo", kinds=["images"], due_date=TODAY - timedelta(days=1))
        db.session.commit()

    assert run(MORNING) == DigestReport(digests=1, follow_ups=0)
    assert run(MORNING + timedelta(hours=6)) == DigestReport(digests=0, follow_ups=0)  # 14:30
    assert run(MORNING + timedelta(hours=7)) == DigestReport(digests=0, follow_ups=1)  # 15:30
    assert run(MORNING + timedelta(hours=8)) == DigestReport(digests=0, follow_ups=0)
    (reminder,) = emails("digest_follow_up")
    assert reminder.subject == "Reminder: 1 thing is due today or overdue"
    assert "Product photos" in reminder.text_body
    assert "Texts for the shop" not in reminder.text_body and "Old logo" not in reminder.text_body


def test_the_default_schedule_sends_no_afternoon_reminder(world):
    """A project on the daily digest alone: one email a day, however late the work."""
    request_due(world, "Product photos", -3)
    run(MORNING)
    assert run(MORNING + timedelta(hours=7)).follow_ups == 0
    assert emails("digest_follow_up") == []


def test_a_turkish_client_reads_the_digest_in_turkish(world):
    """The digest is written in the recipient's language: greeting, titles and dates."""
    world.own_client.language = "tr"
    db.session.commit()
    with time_machine.travel(MORNING - timedelta(days=2), tick=False):
        submit(world.manager, make_deliverable(world.manager, world.project, title="Ana sayfa tasarımı"))
    request_due(world, "Ürün fotoğrafları", -2)
    run(MORNING)
    (email,) = digests(world.own_client)
    assert email.language == "tr"
    body = email.text_body
    assert "Merhaba Ayşe Client," in body
    assert "Ana sayfa tasarımı, sürüm 1" in body
    assert "5 Ara 2026 tarihinden beri gecikmiş" in body
    assert "Hello" not in body and "version 1" not in body


def test_what_waits_is_the_same_outside_a_request(app, world):
    """The job runs with no request: titles and links are built all the same, in the person's language."""
    request_due(world, "Product photos", -1)
    with time_machine.travel(MORNING, tick=False):
        (group,) = waiting_on(world.own_client, MORNING)
    assert group.project.id == world.project.id
    assert [(i.kind, i.title, i.overdue) for i in group.items] == [("asset", "Product photos", True)]
    assert group.items[0].url.startswith("http://portal.test/assets/requests/")


def test_the_command_and_the_scheduler_job_send_digests(app, world, runner):
    """`flask portal send-digests` and the quarter-hourly job call the same service; a rerun is harmless."""
    from portal import jobs

    request_due(world, "Product photos", -2)
    with time_machine.travel(MORNING, tick=False):
        result = runner.invoke(args=["portal", "send-digests"])
        assert result.exit_code == 0 and "1 digests queued" in result.output
        jobs.use_app(app)
        try:
            jobs.send_digests()
        finally:
            jobs.use_app(None)
    db.session.expire_all()
    assert len(digests()) == 1
    scheduler = jobs.build_scheduler(app)
    job = scheduler.get_job("send_digests")
    assert job is not None and job.func is jobs.send_digests and job.coalesce
    assert "minute='*/15'" in str(job.trigger)
    assert scheduler.get_job("send_asset_reminders") is None  # the fixed 06:00 UTC reminder is gone


# --- Where people set it ------------------------------------------------------------------------


def test_a_client_chooses_the_hour_of_their_digest(web, world):
    """The settings page offers the hour (default 08:00), saves it, and refuses an hour that is not one."""
    web.login(world.own_client)
    page = web.text("/account/")
    assert 'name="profile-digest_hour"' in page and '<option selected value="8">08:00</option>' in page
    values = {"profile-name": "Ayşe Client", "profile-language": "en", "profile-timezone": "Europe/Istanbul", "profile-notify_activity": "y"}
    response = web.post("/account/", {**values, "profile-digest_hour": "not an hour"})
    assert response.status_code == 422 and "Choose an hour from the list." in response.get_data(as_text=True)
    assert web.post("/account/", {**values, "profile-digest_hour": "25"}).status_code == 422
    assert web.post("/account/", {**values, "profile-digest_hour": "18"}).status_code == 302
    db.session.refresh(world.own_client)
    assert world.own_client.digest_hour == 18


def test_staff_set_a_projects_firm_schedule(web, world):
    """The project settings carry the client reminders, explained, and save them."""
    web.login(world.manager)
    page = web.text(f"/projects/{world.project.id}/edit")
    assert "Client reminders" in page and "15:00" in page
    values = {
        "name": world.project.name,
        "manager_id": str(world.manager.id),
        "client_id": str(world.project.client_id),
        "status": "active",
        "weekly_weekday": "0",
        "weekly_hour": "9",
        "timezone": "Europe/Istanbul",
        "approval_rule": "any",
        "included_rounds": "2",
        "client_reminders": "firm",
    }
    assert web.post(f"/projects/{world.project.id}/edit", values).status_code == 302
    db.session.refresh(world.project)
    assert world.project.client_reminders is ClientReminders.FIRM
    response = web.post(f"/projects/{world.project.id}/edit", {**values, "client_reminders": "hourly"})
    assert response.status_code == 422
    db.session.refresh(world.project)
    assert world.project.client_reminders is ClientReminders.FIRM


def test_staff_set_the_review_date_when_they_submit_a_version(web, world):
    """The draft page carries "Review by"; a past day is refused with the draft kept, a future one is saved with the version."""
    from tests.integration.deliverables_support import add_file

    deliverable = make_deliverable(world.manager, world.project)
    from portal.deliverables import service as deliverables

    version = deliverables.start_version(world.manager, deliverable)
    add_file(world.manager, version)
    db.session.commit()
    web.login(world.manager)
    assert 'name="review_due"' in web.text(f"/deliverables/{deliverable.id}/draft")
    response = web.post(f"/deliverables/{deliverable.id}/draft", {"change_notes": "First cut", "links": "", "review_due": "2020-01-01", "submit": "y"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "The review date cannot be in the past." in page and "First cut" in page
    due = local_today(world.project.timezone) + timedelta(days=4)
    response = web.post(f"/deliverables/{deliverable.id}/draft", {"change_notes": "First cut", "links": "", "review_due": due.isoformat(), "submit": "y"})
    assert response.status_code == 302
    db.session.refresh(version)
    assert version.review_due == due and not version.is_draft


def test_staff_change_the_review_date_of_the_version_in_review(make_web, world):
    """The review page lets the manager move the date; a past day is refused and kept on the page; the client reads the date."""
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)
    manager = make_web()
    manager.login(world.manager)
    url = f"/deliverables/{deliverable.id}/versions/1/review-due"
    assert 'name="review-review_due"' in manager.text(f"/deliverables/{deliverable.id}")
    response = manager.post(url, {"review-review_due": "2020-01-01"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "The review date cannot be in the past." in page and 'value="2020-01-01"' in page
    due = local_today(world.project.timezone) + timedelta(days=2)
    assert manager.post(url, {"review-review_due": due.isoformat()}).status_code == 302
    db.session.refresh(version)
    assert version.review_due == due
    client = make_web()
    client.login(world.own_client)
    assert "Please decide by" in client.text(f"/deliverables/{deliverable.id}")


def test_a_settled_versions_review_date_stays(web, world):
    """Once a version is decided its date is history: changing it is refused with a clear message."""
    from portal.deliverables import service as deliverables
    from portal.models.deliverables import DecisionOutcome

    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable)
    deliverables.decide(world.own_client, version, outcome=DecisionOutcome.APPROVE)
    db.session.commit()
    web.login(world.manager)
    response = web.post(f"/deliverables/{deliverable.id}/versions/1/review-due", {"review-review_due": ""})
    assert response.status_code == 409 and "no longer waiting for a decision" in response.get_data(as_text=True)


def test_a_digest_costs_the_same_queries_for_1_and_7_projects(world, make_project, count_queries):
    """Each person's digest runs a constant number of queries, however many projects and items wait on them."""

    def queries_with(projects: int, day: int) -> int:
        """Add ``projects`` projects, each with files due and a version to review; count the queries of that day's run."""
        for n in range(projects):
            project = make_project(world.own_org, world.manager, [(world.own_client, True)], name=f"Project {day}-{n}")
            with time_machine.travel(MORNING - timedelta(days=3), tick=False):
                assets.create_request(world.manager, project, title=f"Files {n}", kinds=["images"], due_date=TODAY + timedelta(days=day))
                submit(world.manager, make_deliverable(world.manager, project, title=f"Design {n}"))
                db.session.commit()
        db.session.expire_all()
        with time_machine.travel(MORNING + timedelta(days=day), tick=False), count_queries() as counter:
            assert send_digests().digests == 1
        db.session.commit()
        return counter.count

    assert queries_with(1, day=0) == queries_with(6, day=1)
