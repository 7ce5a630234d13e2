"""Deliverable pages as people use them: prepare and submit, review and decide, clear errors and 409s, files, lists."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.deliverables import service
from portal.extensions import db
from portal.models import ApprovalRule, Project, ProjectMember, Role
from portal.models.deliverables import Deliverable, DeliverableStatus, DeliverableVersion, ReasonCategory, VersionStatus
from portal.storage import storage_for
from portal.timeutil import project_today
from tests.integration.asset_helpers import HTML, stored_objects, upload
from tests.integration.deliverables_support import PDF, add_file, decisions, make_deliverable, png_bytes, submit


@pytest.fixture
def homepage(world) -> Deliverable:
    """A deliverable on the world's project with version 1 (a PNG mock-up) waiting for review."""
    deliverable = make_deliverable(world.manager, world.project, due_date=project_today(world.project) + timedelta(days=7))
    with_request(lambda: submit(world.manager, deliverable, file=(png_bytes(), "mock-up.png"), links="Staging https://staging.example.com"))
    return deliverable


def with_request(action):
    """Run a service call the way a view does (lazy messages need a request)."""
    from flask import current_app

    with current_app.test_request_context():
        return action()


def logged_in(make_web, user):
    """Return a browser logged in as ``user``."""
    browser = make_web()
    browser.login(user)
    return browser


# --- Creating and preparing ------------------------------------------------------------------


def test_manager_adds_a_deliverable_and_a_bad_form_keeps_what_was_typed(make_web, world):
    """A missing title is a field error (422) and the description typed stays; then it is created."""
    web = logged_in(make_web, world.manager)
    form = web.text(f"/projects/{world.project.id}/deliverables/new")
    assert f'value="{world.project.included_rounds}"' in form  # the project's rounds are the default
    response = web.post(f"/projects/{world.project.id}/deliverables/new", {"title": "", "description": "Desktop and phone layouts", "included_rounds": "2"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Name the deliverable" in page and "Desktop and phone layouts" in page
    response = web.post(f"/projects/{world.project.id}/deliverables/new", {"title": "Homepage design", "description": "Desktop", "included_rounds": "1"})
    deliverable = db.session.scalar(select(Deliverable))
    assert response.headers["Location"] == f"/deliverables/{deliverable.id}"
    assert (deliverable.title, deliverable.included_rounds, deliverable.status) == ("Homepage design", 1, DeliverableStatus.PREPARING)
    assert "Prepare version 1" in web.text(f"/deliverables/{deliverable.id}")


def test_manager_prepares_uploads_and_submits_a_version(make_web, world, app):
    """Start a draft, upload a file (as the page's script does), add links and notes, submit; the client sees it."""
    deliverable = make_deliverable(world.manager, world.project)
    web = logged_in(make_web, world.manager)
    response = web.post(f"/deliverables/{deliverable.id}/versions/new")
    assert response.headers["Location"] == f"/deliverables/{deliverable.id}/draft"

    response = upload(web, f"/deliverables/{deliverable.id}/draft/files", (png_bytes(), "mock-up.png"), json=True)
    assert response.status_code == 201 and response.json["redirect"] == f"/deliverables/{deliverable.id}/draft"
    assert "mock-up.png" in web.text(f"/deliverables/{deliverable.id}/draft")

    client = logged_in(make_web, world.own_client)
    (file_id,) = [f["id"] for f in response.json["files"]]
    assert client.get(f"/deliverables/files/{file_id}").status_code == 404  # a draft is the agency's alone
    assert "mock-up.png" not in client.text(f"/deliverables/{deliverable.id}")

    response = web.post(
        f"/deliverables/{deliverable.id}/draft",
        {"change_notes": "First **mock-up**", "links": "Staging https://staging.example.com", "impact_note": "", "submit": "Submit for review"},
    )
    assert response.headers["Location"] == f"/deliverables/{deliverable.id}"
    page = client.text(f"/deliverables/{deliverable.id}")
    assert "mock-up.png" in page and "<strong>mock-up</strong>" in page
    assert 'href="https://staging.example.com" rel="noopener noreferrer nofollow"' in page
    assert f"/deliverables/files/{file_id}/thumbnail" in page
    assert "Approve version 1" in page and "Request changes" in page

    download = client.get(f"/deliverables/files/{file_id}")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in download.headers["Content-Security-Policy"]
    preview = client.get(f"/deliverables/files/{file_id}/thumbnail")
    assert preview.status_code == 200 and preview.headers["Content-Disposition"].startswith("inline;")


def test_a_bad_link_is_a_field_error_and_the_draft_keeps_everything_typed(make_web, world):
    """A javascript: link is refused on the links field (422); notes and links stay in the form; nothing is submitted."""
    deliverable = make_deliverable(world.manager, world.project)
    web = logged_in(make_web, world.manager)
    web.post(f"/deliverables/{deliverable.id}/versions/new")
    response = web.post(
        f"/deliverables/{deliverable.id}/draft",
        {"change_notes": "Notes I typed", "links": "Site javascript:alert(1)", "submit": "Submit for review"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 1 is not a web address" in page and "Notes I typed" in page and "Site javascript:alert(1)" in page
    assert db.session.get(Deliverable, deliverable.id).status is DeliverableStatus.PREPARING


def test_an_empty_version_is_refused_and_a_draft_can_be_saved(make_web, world):
    """Submitting without file or link: 422 on the links field; saving keeps the notes for later."""
    deliverable = make_deliverable(world.manager, world.project)
    web = logged_in(make_web, world.manager)
    web.post(f"/deliverables/{deliverable.id}/versions/new")
    response = web.post(f"/deliverables/{deliverable.id}/draft", {"change_notes": "Half done", "links": "", "submit": "Submit for review"})
    assert response.status_code == 422 and "A version cannot be empty" in response.get_data(as_text=True)
    response = web.post(f"/deliverables/{deliverable.id}/draft", {"change_notes": "Half done", "links": "", "save": "Save draft"})
    assert response.headers["Location"] == f"/deliverables/{deliverable.id}/draft"
    assert "Half done" in web.text(f"/deliverables/{deliverable.id}/draft")


def test_a_refused_upload_leaves_nothing_behind(make_web, world, app):
    """An HTML page disguised as a PNG is refused with a message; no row, no stored file."""
    deliverable = make_deliverable(world.manager, world.project)
    web = logged_in(make_web, world.manager)
    web.post(f"/deliverables/{deliverable.id}/versions/new")
    response = upload(web, f"/deliverables/{deliverable.id}/draft/files", (HTML, "photo.png"), json=True)
    assert response.status_code == 422 and "not really a .png file" in response.json["error"]
    assert stored_objects(app) == []
    assert db.session.scalar(select(DeliverableVersion)).files == []


def test_uploading_without_a_draft_is_refused(make_web, world):
    """No version in preparation (or a client uploading): nothing is stored."""
    deliverable = make_deliverable(world.manager, world.project)
    web = logged_in(make_web, world.manager)
    response = upload(web, f"/deliverables/{deliverable.id}/draft/files", (PDF, "brief.pdf"), json=True)
    assert response.status_code == 409 and "Start a new version" in response.json["error"]
    client = logged_in(make_web, world.own_client)
    assert upload(client, f"/deliverables/{deliverable.id}/draft/files", (PDF, "brief.pdf")).status_code == 403


def test_discarding_a_draft_deletes_its_files(make_web, world, app):
    """The draft and its stored files are gone; the deliverable is as before."""
    deliverable = make_deliverable(world.manager, world.project)
    web = logged_in(make_web, world.manager)
    web.post(f"/deliverables/{deliverable.id}/versions/new")
    upload(web, f"/deliverables/{deliverable.id}/draft/files", (png_bytes(), "a.png"), (PDF, "b.pdf"))
    assert len(stored_objects(app)) == 3  # two files and a thumbnail
    file_id = db.session.scalar(select(DeliverableVersion)).files[1].id
    web.post(f"/deliverables/{deliverable.id}/draft/files/{file_id}/remove")
    assert len(stored_objects(app)) == 2
    response = web.post(f"/deliverables/{deliverable.id}/draft/discard")
    assert response.headers["Location"] == f"/deliverables/{deliverable.id}"
    assert stored_objects(app) == [] and db.session.scalar(select(DeliverableVersion)) is None


# --- Deciding --------------------------------------------------------------------------------


def test_requesting_changes_without_a_reason_keeps_the_text(make_web, world, homepage):
    """No category: 422, the field says so, and the text typed is still there; nothing recorded."""
    client = logged_in(make_web, world.own_client)
    response = client.post(f"/deliverables/{homepage.id}/versions/1/request-changes", {"changes-reason_category": "", "changes-text": "Bigger logo please"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose the reason for the changes." in page and "Bigger logo please" in page
    assert decisions(homepage.id) == []


def test_client_requests_changes_then_approves_version_two(make_web, world, homepage):
    """The history keeps both decisions with their reasons; the manager's home shows the approval."""
    client = logged_in(make_web, world.own_client)
    response = client.post(
        f"/deliverables/{homepage.id}/versions/1/request-changes", {"changes-reason_category": "off_brief", "changes-text": "We asked for a green theme"}
    )
    assert response.headers["Location"] == f"/deliverables/{homepage.id}"
    with_request(lambda: submit(world.manager, db.session.get(Deliverable, homepage.id), notes="Green theme now"))
    response = client.post(f"/deliverables/{homepage.id}/versions/2/approve", {"approve-text": "Perfect"})
    assert response.headers["Location"] == f"/deliverables/{homepage.id}"

    page = client.text(f"/deliverables/{homepage.id}")
    history = page[page.index('id="history-heading"') :]
    assert "Changes requested by Ayşe Client" in history and "Reason: Off brief" in history and "We asked for a green theme" in history
    assert "Approved by Ayşe Client" in history and "Perfect" in history
    assert "Approve version" not in page  # locked

    manager = logged_in(make_web, world.manager)
    home = manager.text("/")
    assert "Recently approved" in home and "Ayşe Client approved" in home and "Homepage design" in home
    searched = manager.text("/?q=No+project+is+called+this")  # the list is empty; the approvals are not tied to it
    assert "Recently approved" in searched and "Homepage design" in searched


def test_deciding_on_a_replaced_version_answers_409_with_the_current_state(make_web, world, homepage):
    """The approver's page showed version 1; version 2 arrived meanwhile: 409, a clear message, nothing recorded."""
    with_request(lambda: submit(world.manager, db.session.get(Deliverable, homepage.id), notes="Second try"))
    client = logged_in(make_web, world.own_client)
    response = client.post(f"/deliverables/{homepage.id}/versions/1/request-changes", {"changes-reason_category": "quality", "changes-text": "Blurry photo"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Version 1 is no longer the current one: version 2 was submitted since" in page
    assert "Approve version 2" in page and "Blurry photo" in page  # the current version to decide on, and the text kept
    assert decisions(homepage.id) == []


def test_deciding_twice_answers_409(make_web, world, homepage, make_user):
    """Under "all", a second decision by the same approver is refused with a message."""
    world.project.approval_rule = ApprovalRule.ALL
    other = make_user(Role.CLIENT, world.own_org, name="Priya Second", email="priya@example.com")
    db.session.add(ProjectMember(project=world.project, user=other, is_approver=True))
    db.session.commit()
    client = logged_in(make_web, world.own_client)
    assert client.post(f"/deliverables/{homepage.id}/versions/1/approve", {}).status_code == 302
    page = client.text(f"/deliverables/{homepage.id}")
    assert "Still to decide: Priya Second" in page and "Your decision is recorded." in page
    response = client.post(f"/deliverables/{homepage.id}/versions/1/approve", {})
    assert response.status_code == 409 and "You already approved version 1" in response.get_data(as_text=True)
    assert len(decisions(homepage.id)) == 1


def test_a_member_who_does_not_approve_reads_and_comments_but_cannot_decide(make_web, world, homepage, make_user):
    """No decision form for a reader; posting one anyway is 403; commenting works, Markdown made safe."""
    reader = make_user(Role.CLIENT, world.own_org, name="Mert Reader", email="mert@example.com")
    db.session.add(ProjectMember(project=world.project, user=reader, is_approver=False))
    db.session.commit()
    web = logged_in(make_web, reader)
    page = web.text(f"/deliverables/{homepage.id}")
    assert "Approve version 1" not in page and "the approvers decide" in page
    assert web.post(f"/deliverables/{homepage.id}/versions/1/approve", {}).status_code == 403
    response = web.post(f"/deliverables/{homepage.id}/comments", {"comment-body": "Looks **great** <script>alert(1)</script>"})
    assert response.status_code == 302
    page = web.text(f"/deliverables/{homepage.id}")
    assert "<strong>great</strong>" in page and "<script>alert(1)</script>" not in page
    assert decisions(homepage.id) == []


def test_admin_reopens_with_a_reason(make_web, world, homepage):
    """After approval, the admin's reason is required (422 without); then the deliverable is reopened and the reason shown."""
    with_request(lambda: (service.decide(world.own_client, homepage.versions[0], outcome="approve"), db.session.commit()))
    admin = logged_in(make_web, world.admin)
    response = admin.post(f"/deliverables/{homepage.id}/reopen", {"reopen-reason": ""})
    assert response.status_code == 422
    response = admin.post(f"/deliverables/{homepage.id}/reopen", {"reopen-reason": "Legal asked to remove a claim"})
    assert response.status_code == 302
    page = admin.text(f"/deliverables/{homepage.id}")
    assert "Reopened by Elif Admin" in page and "Legal asked to remove a claim" in page and "Prepare version 2" in page


# --- Home, project page and lists ------------------------------------------------------------


def test_client_home_says_what_waits_for_their_review_and_since_when(make_web, world, homepage, make_user):
    """Approvers find the version under "Needs your attention" with the time waited; other organisations do not."""
    client = logged_in(make_web, world.own_client)
    home = client.text("/")
    panel = home[home.index("Needs your attention") :]
    assert "Homepage design" in panel and "Deliverable to review" in panel and re.search(r"Waiting for <time datetime=", panel)
    other = logged_in(make_web, world.other_client)
    assert "Homepage design" not in other.text("/")
    client.post(f"/deliverables/{homepage.id}/versions/1/approve", {})
    assert "Deliverable to review" not in client.text("/")


def test_project_page_shows_the_deliverables_block(make_web, world, homepage):
    """Staff get a New deliverable button; clients see what waits for their review."""
    page = logged_in(make_web, world.manager).text(f"/projects/{world.project.id}")
    assert "Deliverables" in page and "New deliverable" in page and "Homepage design" in page
    page = logged_in(make_web, world.own_client).text(f"/projects/{world.project.id}")
    assert "Homepage design" in page and "New deliverable" not in page and "1 waiting for the client’s review" in page


def test_empty_lists_say_what_to_do_next(make_web, world):
    """Before any deliverable, staff are told to add one and clients what will happen."""
    assert "No deliverables yet" in logged_in(make_web, world.manager).text(f"/projects/{world.project.id}/deliverables")
    assert "Nothing to review yet" in logged_in(make_web, world.own_client).text(f"/projects/{world.project.id}/deliverables")


def _fill(manager, approver, project: Project, count: int) -> None:
    """Give ``project`` ``count`` deliverables, each with a version, half of them with a request for changes."""

    def build():
        for n in range(count):
            deliverable = service.create_deliverable(manager, project, title=f"Deliverable {n}")
            version = service.start_version(manager, deliverable)
            add_file(manager, version)
            service.submit_version(manager, version)
            if n % 2:
                service.decide(approver, version, outcome="changes_requested", reason_category=ReasonCategory.QUALITY, text="Again")
        db.session.commit()

    with_request(build)


@pytest.mark.parametrize("path", ["/projects/{project}/deliverables", "/projects/{project}", "/"])
def test_pages_run_the_same_queries_for_5_and_50_deliverables(make_web, make_client, make_user, make_project, count_queries, path):
    """The deliverables list, the project page block and both home panels do not grow with the number of deliverables."""
    counts = []
    for size in (5, 50):
        organisation = make_client(f"Client {size}")
        approver = make_user(Role.CLIENT, organisation, name=f"Approver {size}")
        manager = make_user(Role.MANAGER, name=f"Manager {size}")
        project = make_project(organisation, manager, [(approver, True)], name=f"Project {size}")
        _fill(manager, approver, project, size)
        for user in (approver, manager):
            web = logged_in(make_web, user)
            url = path.format(project=project.id)
            web.text(url)  # warm up: sessions, caches
            with count_queries() as q:
                page = web.text(url)
            assert ("Changes requested" if path == "/" and user is manager else "Deliverable 4") in page
            counts.append((user.role, q.count))
    assert counts[:2] == counts[2:], counts


def test_a_preview_missing_from_storage_is_a_logged_404(make_web, world, homepage, app, caplog):
    """If a thumbnail's bytes were lost, the preview says not found (and the error is logged); the file still downloads."""
    found = homepage.versions[0].files[0]
    storage_for(app).delete(found.thumbnail_key)
    client = logged_in(make_web, world.own_client)
    assert client.get(f"/deliverables/files/{found.id}/thumbnail").status_code == 404
    assert f"stored thumbnail {found.thumbnail_key} is missing" in caplog.text
    assert client.get(f"/deliverables/files/{found.id}").status_code == 200


def test_another_organisations_files_and_versions_are_not_found(make_web, world, homepage):
    """Downloads, thumbnails, the page and decisions of another organisation answer 404."""
    file_id = homepage.versions[0].files[0].id
    stranger = logged_in(make_web, world.other_client)
    for url in (f"/deliverables/{homepage.id}", f"/deliverables/files/{file_id}", f"/deliverables/files/{file_id}/thumbnail"):
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(f"/deliverables/{homepage.id}/versions/1/approve", {}).status_code == 404
    assert decisions(homepage.id) == []
    assert db.session.get(DeliverableVersion, homepage.versions[0].id).status is VersionStatus.IN_REVIEW
