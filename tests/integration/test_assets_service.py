"""Asset requests from request to acceptance: every transition, rule, activity event and email."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from portal.assets import queries, service
from portal.errors import Conflict, DomainError, NotAllowed
from portal.extensions import db
from portal.models import (
    AssetFile,
    AssetRequest,
    AssetRequestStatus,
    AssetReview,
    ProjectMember,
    ReviewState,
    Role,
)
from portal.timeutil import project_today, utcnow
from tests.fixtures.activity import events
from tests.fixtures.outbox import emails
from tests.integration.asset_helpers import PDF, png_bytes, store_file


@pytest.fixture(autouse=True)
def request_context(app):
    """Run the services inside a request, as views do (their messages are translated lazily for the reader)."""
    with app.test_request_context():
        yield


def today(world) -> date:
    """Return the calendar day it is in the world's project's zone (at 22:00 UTC it is already tomorrow in Istanbul)."""
    return project_today(world.project)


@pytest.fixture
def logo(world) -> AssetRequest:
    """A request for a logo on the world's project, already emailed to the client."""
    asset_request = service.create_request(
        world.manager, world.project, title="Logo as a vector file", kinds=["images"], instructions="SVG or EPS", due_date=today(world) + timedelta(days=7)
    )
    db.session.commit()
    return asset_request


def submit(world, asset_request: AssetRequest, name: str = "logo.png", actor=None) -> AssetFile:
    """Upload one file to the request as the client (or ``actor``) and commit."""
    uploaded = store_file(actor or world.own_client, world.project, asset_request, png_bytes(), name)
    db.session.commit()
    return uploaded


# --- Requests -----------------------------------------------------------------------------------


def test_creating_a_request_puts_it_on_the_checklist_and_tells_the_client(world, make_user, logo):
    """The request is open at version 1, an activity event is written and each client member who wants email is told."""
    quiet = make_user(Role.CLIENT, world.own_org, notify_activity=False)
    gone = make_user(Role.CLIENT, world.own_org, active=False)
    for person in (quiet, gone):
        world.project.members.append(ProjectMember(user=person))
    db.session.commit()
    second = service.create_request(world.manager, world.project, title="Brand colours", kinds=["documents", "images"], required=False)
    db.session.commit()

    assert logo.status is AssetRequestStatus.OPEN and logo.current_version == 1 and logo.required
    assert second.kinds == ["images", "documents"] and not second.required
    assert [e.data["title"] for e in events("asset.requested")] == ["Logo as a vector file", "Brand colours"]
    sent = emails("asset_requested")
    assert [e.to_address for e in sent] == [world.own_client.email, world.own_client.email]
    assert "Logo as a vector file" in sent[0].subject and "SVG or EPS" in sent[0].text_body
    assert f"/assets/requests/{logo.id}" in sent[0].text_body


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": "   ", "kinds": ["images"]}, "title"),
        ({"title": "x" * 201, "kinds": ["images"]}, "title"),
        ({"title": "Logo", "kinds": []}, "kinds"),
        ({"title": "Logo", "kinds": ["images", "executables"]}, "kinds"),
        ({"title": "Logo", "kinds": ["images"], "due_date": timedelta(days=-1)}, "due_date"),  # from the project's today
        ({"title": "Logo", "kinds": ["images"], "instructions": "x" * 5001}, "instructions"),
    ],
)
def test_bad_requests_are_refused_on_their_field(world, values, field):
    """Each invalid input names its field, and nothing is written."""
    if isinstance(values.get("due_date"), timedelta):
        values = {**values, "due_date": today(world) + values["due_date"]}
    with pytest.raises(DomainError) as refused:
        service.create_request(world.manager, world.project, **values)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AssetRequest)) == 0


def test_only_the_projects_manager_or_an_admin_asks(world):
    """Another manager and the client cannot create requests; an archived project takes none."""
    for actor in (world.other_manager, world.own_client):
        with pytest.raises(NotAllowed):
            service.create_request(actor, world.project, title="Logo", kinds=["images"])
    service.create_request(world.admin, world.project, title="By the admin", kinds=["any"])
    world.project.archived_at = utcnow()
    with pytest.raises(DomainError, match="archived"):
        service.create_request(world.manager, world.project, title="Late", kinds=["images"])


def test_any_kind_stands_alone(world):
    """Choosing "any" alongside other kinds keeps just "any"."""
    asset_request = service.create_request(world.manager, world.project, title="Anything", kinds=["images", "any"])
    assert asset_request.kinds == ["any"]


def test_editing_an_open_request(world, logo):
    """Staff change an open request; the change is logged; closed requests cannot change."""
    changed = service.update_request(world.manager, logo, {"title": "Logo (SVG)", "due_date": today(world) + timedelta(days=3), "required": True})
    db.session.commit()
    assert changed == ["title", "due_date"] and logo.title == "Logo (SVG)"
    assert events("asset.request_updated")[0].data == {"fields": ["title", "due_date"]}
    with pytest.raises(DomainError) as refused:
        service.update_request(world.manager, logo, {"due_date": today(world) - timedelta(days=2)})
    assert refused.value.field == "due_date"
    db.session.rollback()
    service.cancel_request(world.manager, logo)
    db.session.commit()
    with pytest.raises(Conflict):
        service.update_request(world.manager, logo, {"title": "Too late"})


def test_cancelling(world, logo):
    """A cancelled request takes no files and cannot be cancelled again; an accepted one cannot be cancelled."""
    service.cancel_request(world.manager, logo)
    db.session.commit()
    assert logo.status is AssetRequestStatus.CANCELLED and logo.closed_at is not None
    assert events("asset.request_cancelled")
    with pytest.raises(Conflict):
        service.cancel_request(world.manager, logo)
    with pytest.raises(Conflict, match="cancelled"):
        service.check_upload_allowed(world.own_client, world.project, logo)

    other = service.create_request(world.manager, world.project, title="Photos", kinds=["images"])
    db.session.commit()
    submit(world, other)
    service.accept(world.manager, other)
    db.session.commit()
    with pytest.raises(Conflict):
        service.cancel_request(world.manager, other)
    with pytest.raises(NotAllowed):
        service.cancel_request(world.own_client, logo)


# --- Uploads ------------------------------------------------------------------------------------


def test_a_client_upload_submits_the_request_and_tells_the_manager_once_per_version(world, logo):
    """Files land in version 1 pending review; the manager gets one email however many files arrive."""
    first = submit(world, logo, "logo.png")
    second = submit(world, logo, "logo-dark.png")
    assert logo.status is AssetRequestStatus.SUBMITTED and logo.submitted_at is not None
    assert (first.version, second.version) == (1, 1)
    assert first.review_state is ReviewState.PENDING and first.uploaded_by_id == world.own_client.id
    assert first.size > 0 and len(first.sha256) == 64 and first.thumbnail_key
    told = emails("asset_uploaded")
    assert [e.to_address for e in told] == [world.manager.email]
    assert "logo.png" in told[0].text_body and f"/assets/requests/{logo.id}" in told[0].text_body
    assert [e.data["files"] for e in events("asset.uploaded")] == [["logo.png"], ["logo-dark.png"]]


def test_staff_uploads_tell_the_client(world, logo):
    """When the manager uploads (for example on the client's behalf), the client members are told."""
    submit(world, logo, actor=world.manager)
    assert [e.to_address for e in emails("asset_uploaded")] == [world.own_client.email]


def test_general_files_are_not_reviewed(world):
    """Files shared outside any request have no version and no review state."""
    shared = store_file(world.own_client, world.project, None, PDF, "brief.pdf")
    db.session.commit()
    assert shared.request_id is None and shared.version is None and shared.review_state is None
    assert [e.to_address for e in emails("asset_uploaded")] == [world.manager.email]


def test_who_may_upload(world, make_user, logo):
    """Members of the project and its managing staff upload; another organisation, another manager, or a non-member do not."""
    outsider = make_user(Role.CLIENT, world.own_org)  # same organisation, not on the project
    for actor in (world.other_client, world.other_manager, outsider):
        with pytest.raises(NotAllowed):
            service.check_upload_allowed(actor, world.project, logo)
    service.check_upload_allowed(world.own_client, world.project, logo)
    service.check_upload_allowed(world.admin, world.project, logo)


def test_a_file_type_the_request_does_not_accept_is_refused(world, logo):
    """The service checks the request's kinds again, whatever the view let through."""
    with pytest.raises(DomainError, match="not accepted"):
        store_file(world.own_client, world.project, logo, PDF, "logo.pdf")


# --- Reviews ------------------------------------------------------------------------------------


def test_accepting_fulfils_the_request(world, logo):
    """Accepting settles version 1: files accepted, a review recorded, an event written, the client told."""
    uploaded = submit(world, logo)
    review = service.accept(world.manager, logo)
    db.session.commit()
    assert logo.status is AssetRequestStatus.ACCEPTED and logo.closed_at is not None
    assert (review.version, review.decision.value, review.reviewer_id) == (1, "accepted", world.manager.id)
    assert db.session.get(AssetFile, uploaded.id).review_state is ReviewState.ACCEPTED
    assert events("asset.accepted")[0].actor_id == world.manager.id
    told = emails("asset_accepted")
    assert [e.to_address for e in told] == [world.own_client.email] and "accepted" in told[0].subject
    with pytest.raises(Conflict, match="already accepted"):
        service.accept(world.manager, logo)
    with pytest.raises(Conflict, match="already accepted"):
        service.check_upload_allowed(world.own_client, world.project, logo)


def test_returning_with_a_note_reopens_the_request_for_a_new_version(world, logo):
    """Returned: version 1 is marked returned, the client gets the note, and the next upload is version 2."""
    first = submit(world, logo)
    service.return_with_note(world.manager, logo, "The logo must be a vector file (SVG or EPS).")
    db.session.commit()
    assert logo.status is AssetRequestStatus.RETURNED and logo.current_version == 2
    assert db.session.get(AssetFile, first.id).review_state is ReviewState.RETURNED
    told = emails("asset_returned")
    assert [e.to_address for e in told] == [world.own_client.email]
    assert "The logo must be a vector file (SVG or EPS)." in told[0].text_body
    assert events("asset.returned")[0].data["note"].startswith("The logo must be")

    second = submit(world, logo, "logo-v2.png")
    assert second.version == 2 and logo.status is AssetRequestStatus.SUBMITTED
    assert len(emails("asset_uploaded")) == 2  # one per version
    service.accept(world.manager, logo)
    db.session.commit()
    versions = {f.version: f.review_state for f in db.session.scalars(select(AssetFile))}
    assert versions == {1: ReviewState.RETURNED, 2: ReviewState.ACCEPTED}
    assert [r.decision.value for r in db.session.scalars(select(AssetReview).order_by(AssetReview.version))] == ["returned", "accepted"]


def test_a_return_needs_a_note(world, logo):
    """Returning without saying what to change is refused on the note field."""
    submit(world, logo)
    for note in ("", "   ", "x" * 2001):
        with pytest.raises(DomainError) as refused:
            service.return_with_note(world.manager, logo, note)
        assert refused.value.field == "note"


def test_nothing_to_review_before_an_upload(world, logo):
    """An open request (or a returned one with no new version) cannot be accepted or returned."""
    with pytest.raises(Conflict, match="no new files"):
        service.accept(world.manager, logo)
    submit(world, logo)
    service.return_with_note(world.manager, logo, "Bigger please")
    db.session.commit()
    with pytest.raises(Conflict, match="no new files"):
        service.return_with_note(world.manager, logo, "Again")
    with pytest.raises(NotAllowed):
        service.accept(world.own_client, logo)


def test_two_reviews_racing_record_exactly_one(app, world, logo):
    """Two staff sessions read the same submitted version, then both decide: the second commit fails, one review stands."""
    submit(world, logo)
    request_id, manager_id = logo.id, world.manager.id
    first, second = Session(db.engine), Session(db.engine)
    original = db.session.registry()
    try:
        loaded = []
        for session in (first, second):  # both read before either writes
            db.session.registry.set(session)
            loaded.append((session.get(AssetRequest, request_id), session.get(type(world.manager), manager_id)))
        db.session.registry.set(first)
        service.accept(loaded[0][1], loaded[0][0])
        first.commit()
        db.session.registry.set(second)
        with pytest.raises((StaleDataError, IntegrityError)):  # noqa: PT012 - the lost race surfaces at flush or at commit
            service.return_with_note(loaded[1][1], loaded[1][0], "Not this one")
            second.commit()
        second.rollback()
    finally:
        db.session.registry.set(original)
        first.close()
        second.close()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AssetReview)) == 1
    assert db.session.get(AssetRequest, request_id).status is AssetRequestStatus.ACCEPTED
    assert not emails("asset_returned")


# --- Checklists ---------------------------------------------------------------------------------


def test_checklist_puts_overdue_first_and_counts_what_was_provided(world):
    """Overdue requests lead, then open ones by due date, then those in review, then done; cancelled ones do not count."""
    make = lambda title, due=None: service.create_request(world.manager, world.project, title=title, kinds=["images"], due_date=due, today=date(2000, 1, 1))  # noqa: E731
    later = make("Later", today(world) + timedelta(days=10))
    overdue = make("Overdue", today(world) - timedelta(days=3))
    soon = make("Soon", today(world) + timedelta(days=1))
    undated = make("Undated")
    in_review = make("In review", today(world) - timedelta(days=5))
    done = make("Done", today(world) - timedelta(days=9))
    dropped = make("Dropped")
    db.session.commit()
    submit(world, in_review)
    submit(world, done)
    service.accept(world.manager, done)
    service.cancel_request(world.manager, dropped)
    db.session.commit()

    (checklist,) = queries.checklists([world.project])
    assert [r.title for r in checklist.items] == ["Overdue", "Soon", "Later", "Undated", "In review", "Done"]
    assert (checklist.provided, checklist.total, checklist.overdue) == (2, 6, 1)
    assert [r.title for r in checklist.outstanding] == ["Overdue", "Soon", "Later", "Undated"]
    assert not in_review.is_overdue(checklist.today)  # provided on time or late, it is no longer the client's to do
    assert later.id and soon.id and undated.id and overdue.id


# Reminders of requests due soon or overdue are in the daily digest: tests/integration/test_digest.py.


def test_plain_text_emails_carry_notes_and_titles_exactly(world):
    """Markup-looking text in a title or note reaches the plain-text email as typed, and the HTML part escaped."""
    asset_request = service.create_request(world.manager, world.project, title='Logo <b>& "icons"</b>', kinds=["images"])
    db.session.commit()
    submit(world, asset_request)
    note = 'Use <svg> & "vector" files, not &amp; entities'
    service.return_with_note(world.manager, asset_request, note)
    db.session.commit()
    (email,) = emails("asset_returned")
    assert note in email.text_body
    assert 'Logo <b>& "icons"</b>' in email.subject
    assert "<svg>" not in email.html_body and "&lt;svg&gt;" in email.html_body
