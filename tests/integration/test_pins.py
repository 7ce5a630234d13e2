"""Pinned review comments on images and PDF pages: previews, placing, replies, settling, carrying over, compare."""

from __future__ import annotations

import html
import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from portal.deliverables import service as deliverables
from portal.extensions import db
from portal.models.deliverables import DeliverableFile, VersionStatus
from portal.models.pins import DecisionPin, FilePreview, PinCheck, PinReply, PinStatus, PreviewProblem, PreviewStatus, ReviewPin
from portal.pins import previews
from portal.pins import service as pins
from portal.storage import storage_for
from tests.integration.deliverables_support import decisions, make_deliverable, png_bytes, submit


def pdf_bytes(pages: int = 2, size: tuple[int, int] = (600, 800)) -> bytes:
    """Return a real PDF of ``pages`` plain pages (Pillow writes it)."""
    out = io.BytesIO()
    sheets = [Image.new("RGB", size, colour) for colour in ("white", "yellow", "lightblue", "pink")[:pages]]
    sheets[0].save(out, "PDF", save_all=True, append_images=sheets[1:], resolution=72)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    """Return a PDF that asks for a password (a standard security handler no empty password opens)."""
    return pdf_bytes(1).replace(
        b"trailer\n<<",
        b"trailer\n<<\n/Encrypt << /Filter /Standard /V 2 /R 3 /Length 128 /P -4 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> >>"
        b"\n/ID [<" + b"33" * 16 + b"> <" + b"33" * 16 + b">]",
    )


def words(page: str) -> str:
    """Return what a reader sees of a page: its text without tags, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def file_of(version, name: str) -> DeliverableFile:
    """Return the file called ``name`` of a version."""
    return next(f for f in version.files if f.original_name == name)


@pytest.fixture
def review(world):
    """A deliverable whose version 1 (a PNG and a two-page PDF) waits for the client's review, previews rendered."""
    deliverable = make_deliverable(world.manager, world.project, title="Homepage design")
    version = deliverables.start_version(world.manager, deliverable)
    from tests.integration.deliverables_support import add_file

    add_file(world.manager, version, png_bytes(400, 300), "hero.png")
    add_file(world.manager, version, pdf_bytes(2), "brochure.pdf")
    deliverables.submit_version(world.manager, version, change_notes="", links="", impact_note="")
    db.session.commit()
    report = previews.render_pending()
    assert report.ready == 2
    return deliverable


def version_of(deliverable, number: int):
    return next(v for v in deliverable.versions if v.number == number)


# --- Previews ---------------------------------------------------------------------------------


def test_an_image_and_each_pdf_page_are_rendered_for_review(review, web, world):
    """The PNG gets one page at its own shape, the PDF one page each; the pictures are served inline to those who see the file."""
    v1 = version_of(review, 1)
    png, pdf = file_of(v1, "hero.png"), file_of(v1, "brochure.pdf")
    png_preview = db.session.scalar(select(FilePreview).where(FilePreview.file_id == png.id))
    pdf_preview = db.session.scalar(select(FilePreview).where(FilePreview.file_id == pdf.id))
    assert png_preview.status is PreviewStatus.READY and [(p.width, p.height) for p in png_preview.pages] == [(400, 300)]
    assert pdf_preview.status is PreviewStatus.READY and pdf_preview.page_count == 2 and len(pdf_preview.pages) == 2
    assert pdf_preview.pages[0].width == previews.PAGE_WIDTH
    web.login(world.own_client)
    page = web.get(f"/deliverables/files/{pdf.id}/pages/2")
    assert page.status_code == 200 and page.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(page.data)).size == (pdf_preview.pages[1].width, pdf_preview.pages[1].height)
    assert web.get(f"/deliverables/files/{pdf.id}/pages/3").status_code == 404
    text = web.text(f"/deliverables/files/{pdf.id}/review")
    assert "Page 1 of 2" in text and "Page 2 of 2" in text


def test_a_broken_or_encrypted_pdf_says_it_cannot_be_shown_and_stays_downloadable(world, web):
    """The upload succeeds; the review page says why there is no preview and offers the download."""
    deliverable = make_deliverable(world.manager, world.project)
    version = deliverables.start_version(world.manager, deliverable)
    from tests.integration.deliverables_support import add_file

    locked = add_file(world.manager, version, encrypted_pdf(), "locked.pdf")
    broken = add_file(world.manager, version, b"%PDF-1.4\nnot really a pdf\n%%EOF\n", "broken.pdf")
    deliverables.submit_version(world.manager, version, change_notes="", links="", impact_note="")
    db.session.commit()
    assert previews.render_pending() == previews.RenderReport(ready=0, failed=2)
    assert db.session.scalar(select(FilePreview.problem).where(FilePreview.file_id == locked.id)) is PreviewProblem.ENCRYPTED
    web.login(world.own_client)
    page = html.unescape(web.text(f"/deliverables/files/{locked.id}/review"))
    assert "This PDF is protected by a password, so its preview cannot be shown." in page
    assert f'href="/deliverables/files/{locked.id}"' in page
    assert "the file could not be read" in html.unescape(web.text(f"/deliverables/files/{broken.id}/review"))
    assert web.get(f"/deliverables/files/{broken.id}").status_code == 200  # still downloadable
    # A pin on the whole file still works where there is no picture.
    pin = pins.place(world.own_client, broken, body="Where is the price list?")
    assert pin.page == 1 and pin.x is None


def test_while_the_preview_is_being_prepared_the_page_says_so(world, web):
    """Before the background step ran, the page says the preview is on its way, and the status answers "pending"."""
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable, file=(png_bytes(), "logo.png"))
    file = version.files[0]
    web.login(world.own_client)
    assert "Preparing the preview" in html.unescape(web.text(f"/deliverables/files/{file.id}/review"))
    assert web.get(f"/deliverables/files/{file.id}/preview-status").json == {"status": "pending"}
    previews.render_pending()
    assert web.get(f"/deliverables/files/{file.id}/preview-status").json == {"status": "ready"}


def test_two_renderers_never_render_the_same_file(world):
    """A claimed preview is skipped by a second renderer until its lease runs out."""
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable, file=(png_bytes(), "logo.png"))
    preview_id = db.session.scalar(select(FilePreview.id).where(FilePreview.file_id == version.files[0].id))
    assert previews._claim(preview_id) is True
    assert previews._claim(preview_id) is False
    assert previews.render(preview_id) is None


def test_removing_a_draft_file_deletes_its_rendered_pages(world, app):
    """The rendered pictures go with the file."""
    from tests.integration.deliverables_support import add_file

    deliverable = make_deliverable(world.manager, world.project)
    version = deliverables.start_version(world.manager, deliverable)
    file = add_file(world.manager, version, pdf_bytes(2), "draft.pdf")
    db.session.commit()
    previews.render_pending()
    keys = [p.storage_key for p in db.session.scalar(select(FilePreview).where(FilePreview.file_id == file.id)).pages]
    storage = storage_for(app)
    assert len(keys) == 2 and all(storage.exists(k) for k in keys)
    assert set(keys) <= set(deliverables.remove_file(world.manager, file))


# --- Placing pins -----------------------------------------------------------------------------


def test_an_approver_places_pins_on_a_spot_and_on_page_two(review, web, world):
    """A client approver clicks a spot (sent as fractions) and writes; the pin is numbered and listed as text."""
    v1 = version_of(review, 1)
    png, pdf = file_of(v1, "hero.png"), file_of(v1, "brochure.pdf")
    web.login(world.own_client)
    answer = web.post(f"/deliverables/files/{png.id}/pins", {"pin-x": "0.25", "pin-y": "0.75", "pin-page": "1", "pin-body": "Make the logo bigger"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("#pin-1")
    web.post(f"/deliverables/files/{pdf.id}/pins", {"pin-x": "0.5", "pin-y": "0.1", "pin-page": "2", "pin-body": "Wrong phone number"})
    placed = db.session.scalars(select(ReviewPin).order_by(ReviewPin.number)).all()
    assert [(p.number, p.page, p.x, p.y, p.body) for p in placed] == [(1, 1, 0.25, 0.75, "Make the logo bigger"), (2, 2, 0.5, 0.1, "Wrong phone number")]
    page = html.unescape(web.text(f"/deliverables/files/{pdf.id}/review"))
    assert "Pin 2" in page and "page 2, 50% across, 10% down" in page and "Wrong phone number" in page
    assert 'cx="50.00%"' in page and 'cy="10.00%"' in page


def test_a_comment_on_the_whole_file_needs_no_spot(review, web, world):
    """Without a click (no script, or the keyboard fallback), the pin is on the whole file."""
    png = file_of(version_of(review, 1), "hero.png")
    web.login(world.own_client)
    assert web.post(f"/deliverables/files/{png.id}/pins", {"pin-x": "", "pin-y": "", "pin-body": "Colours feel cold overall"}).status_code == 302
    pin = db.session.scalar(select(ReviewPin))
    assert pin.x is None and pin.y is None and not pin.on_spot
    assert "on the whole file" in web.text(f"/deliverables/files/{png.id}/review")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"pin-x": "1.5", "pin-y": "0.5"}, "The spot must be inside the file."),
        ({"pin-x": "-0.1", "pin-y": "0.5"}, "The spot must be inside the file."),
        ({"pin-x": "nan", "pin-y": "0.5"}, "The spot must be inside the file."),
        ({"pin-x": "0.5", "pin-y": ""}, "The spot must be inside the file."),
        ({"pin-x": "0.5", "pin-y": "0.5", "pin-page": "3"}, "This file has no page 3."),
        ({"pin-x": "0.5", "pin-y": "0.5", "pin-page": "99999999999999999999"}, "This number is out of range."),
    ],
)
def test_a_spot_outside_the_file_is_refused_and_what_was_written_stays(review, web, world, fields, message):
    """A clear 422, nothing stored, the comment still in the box."""
    pdf = file_of(version_of(review, 1), "brochure.pdf")
    web.login(world.own_client)
    answer = web.post(f"/deliverables/files/{pdf.id}/pins", {"pin-page": "1", **fields, "pin-body": "Keep this text"})
    assert answer.status_code == 422
    page = html.unescape(answer.get_data(as_text=True))
    assert message in page and "Keep this text" in page
    assert db.session.scalar(select(ReviewPin)) is None


def test_an_empty_comment_is_refused(review, web, world):
    png = file_of(version_of(review, 1), "hero.png")
    web.login(world.own_client)
    answer = web.post(f"/deliverables/files/{png.id}/pins", {"pin-x": "0.5", "pin-y": "0.5", "pin-body": "   "})
    assert answer.status_code == 422 and "Write what should change at this spot." in html.unescape(answer.get_data(as_text=True))


def test_pins_are_refused_on_a_version_no_longer_in_review(review, web, world):
    """Once version 1 is decided (or replaced), a pin on it is a 409 and nothing is stored."""
    png = file_of(version_of(review, 1), "hero.png")
    deliverables.decide(world.own_client, version_of(review, 1), outcome="approve")
    db.session.commit()
    web.login(world.own_client)
    answer = web.post(f"/deliverables/files/{png.id}/pins", {"pin-x": "0.5", "pin-y": "0.5", "pin-body": "Too late"})
    assert answer.status_code == 409
    assert "Pins can only be placed on the version waiting for review." in html.unescape(answer.get_data(as_text=True))
    assert db.session.scalar(select(ReviewPin)) is None


def test_a_client_who_is_not_an_approver_cannot_place_pins(review, web, world, make_user):
    """A member who only follows the review reads pins but places none (403, nothing stored)."""
    from portal.models import ProjectMember, Role

    follower = make_user(Role.CLIENT, world.own_client.client, name="Can Follower", email="can@example.com")
    db.session.add(ProjectMember(project=world.project, user=follower, is_approver=False))
    db.session.commit()
    png = file_of(version_of(review, 1), "hero.png")
    web.login(follower)
    page = html.unescape(web.text(f"/deliverables/files/{png.id}/review"))
    assert "Add a pin" not in page
    assert web.post(f"/deliverables/files/{png.id}/pins", {"pin-x": "0.5", "pin-y": "0.5", "pin-body": "Hi"}).status_code == 403
    assert db.session.scalar(select(ReviewPin)) is None


def test_internal_pins_are_never_shown_to_clients(review, web, world, make_web):
    """Staff may leave internal pins; the client sees neither the marker, the text, the count nor the pin's address."""
    png = file_of(version_of(review, 1), "hero.png")
    staff = make_web()
    staff.login(world.manager)
    staff.post(f"/deliverables/files/{png.id}/pins", {"pin-x": "0.1", "pin-y": "0.1", "pin-body": "Ask the designer about kerning", "pin-internal": "y"})
    pin = db.session.scalar(select(ReviewPin))
    assert pin.internal
    web.login(world.own_client)
    page = web.text(f"/deliverables/files/{png.id}/review")
    assert "kerning" not in page and "pin-1" not in page
    assert "0 open pins" in web.text(f"/deliverables/{review.id}")
    assert web.post(f"/pins/{pin.id}/replies", {"reply-body": "What is this?"}).status_code == 404
    # A client cannot make an internal pin either.
    assert web.post(f"/deliverables/files/{png.id}/pins", {"pin-x": "0.2", "pin-y": "0.2", "pin-body": "Secret", "pin-internal": "y"}).status_code == 403


def test_another_organisations_pin_and_file_are_404_for_every_method(review, make_web, world):
    """Tom, of another client, learns nothing: every pin route answers 404."""
    png = file_of(version_of(review, 1), "hero.png")
    pin = pins.place(world.own_client, png, body="Bigger", x=0.5, y=0.5)
    db.session.commit()
    tom = make_web()
    tom.login(world.other_client)
    assert tom.get(f"/deliverables/files/{png.id}/review").status_code == 404
    assert tom.get(f"/deliverables/files/{png.id}/pages/1").status_code == 404
    assert tom.get(f"/deliverables/files/{png.id}/preview-status").status_code == 404
    assert tom.post(f"/deliverables/files/{png.id}/pins", {"pin-x": "0.5", "pin-y": "0.5", "pin-body": "x"}).status_code == 404
    assert tom.post(f"/pins/{pin.id}/replies", {"reply-body": "x"}).status_code == 404
    assert tom.post(f"/pins/{pin.id}/settle", {"settle-status": "resolved"}).status_code == 404
    assert tom.post(f"/pins/{pin.id}/check", {"addressed": "yes"}).status_code == 404
    assert tom.get(f"/deliverables/{review.id}/compare").status_code == 404
    assert db.session.scalar(select(PinReply)) is None and db.session.get(ReviewPin, pin.id).status is PinStatus.OPEN


# --- Replies and settling -----------------------------------------------------------------------


def test_replies_thread_under_a_pin_and_staff_settle_it(review, web, world, make_web):
    """The client and the manager talk under the pin; the manager marks it "won't do" with a reason, then resolved."""
    png = file_of(version_of(review, 1), "hero.png")
    pin = pins.place(world.own_client, png, body="Use the old logo", x=0.3, y=0.3)
    db.session.commit()
    web.login(world.own_client)
    web.post(f"/pins/{pin.id}/replies", {"reply-body": "The one from 2019"})
    manager = make_web()
    manager.login(world.manager)
    manager.post(f"/pins/{pin.id}/replies", {"reply-body": "Checking with the designer"})
    refused = manager.post(f"/pins/{pin.id}/settle", {"settle-status": "wont_do", "settle-note": ""})
    assert refused.status_code == 422 and "Say why this will not be done" in html.unescape(refused.get_data(as_text=True))
    manager.post(f"/pins/{pin.id}/settle", {"settle-status": "wont_do", "settle-note": "The brand guide retired it"})
    db.session.expire_all()
    assert db.session.get(ReviewPin, pin.id).status is PinStatus.WONT_DO
    page = html.unescape(web.text(f"/deliverables/files/{png.id}/review"))
    assert "The one from 2019" in page and "Checking with the designer" in page
    assert "Won’t do, because: The brand guide retired it" in words(page)
    # Clients cannot settle pins.
    assert web.post(f"/pins/{pin.id}/settle", {"settle-status": "open"}).status_code == 403
    manager.post(f"/pins/{pin.id}/settle", {"settle-status": "resolved"})
    db.session.expire_all()
    assert db.session.get(ReviewPin, pin.id).status is PinStatus.RESOLVED


def test_a_reply_sent_twice_is_posted_once(review, web, world):
    png = file_of(version_of(review, 1), "hero.png")
    pin = pins.place(world.own_client, png, body="Bigger", x=0.5, y=0.5)
    db.session.commit()
    web.login(world.own_client)
    fields = {"reply-body": "Much bigger", "reply-submission_key": "k" * 32}
    assert web.post(f"/pins/{pin.id}/replies", fields).status_code == 302
    assert web.post(f"/pins/{pin.id}/replies", fields).status_code in (302, 303)
    assert len(db.session.scalars(select(PinReply)).all()) == 1


# --- Requesting changes with pins, carrying them over ----------------------------------------------


def test_a_request_for_changes_carries_the_chosen_pins(review, web, world):
    """The change-request form lists the open pins; sent with them, the text may stay empty and the history names them."""
    v1 = version_of(review, 1)
    png, pdf = file_of(v1, "hero.png"), file_of(v1, "brochure.pdf")
    first = pins.place(world.own_client, png, body="Bigger logo", x=0.2, y=0.2)
    second = pins.place(world.own_client, pdf, body="Phone number", x=0.5, y=0.5, page=2)
    db.session.commit()
    web.login(world.own_client)
    page = html.unescape(web.text(f"/deliverables/{review.id}"))
    assert "Send these pins with your request" in page and "Pin 1 (hero.png): Bigger logo" in page
    answer = web.post(
        f"/deliverables/{review.id}/versions/1/request-changes",
        {"changes-reason_category": "quality", "changes-text": "", "changes-pins": [str(first.id), str(second.id)]},
    )
    assert answer.status_code == 302
    (decision,) = decisions(review.id)
    assert decision.outcome.value == "changes_requested"
    assert {dp.pin_id for dp in db.session.scalars(select(DecisionPin))} == {first.id, second.id}
    assert "Sent with pins: 1 , 2" in words(web.text(f"/deliverables/{review.id}"))


def test_a_request_without_text_or_pins_is_refused(review, web, world):
    web.login(world.own_client)
    answer = web.post(f"/deliverables/{review.id}/versions/1/request-changes", {"changes-reason_category": "quality", "changes-text": ""})
    assert answer.status_code == 422
    assert "Say what should change, or choose the pins that say it" in html.unescape(answer.get_data(as_text=True))
    assert decisions(review.id) == []


def test_a_request_with_a_settled_or_foreign_pin_is_refused(review, web, world):
    """Pins of another version or already settled cannot be sent: 409, nothing recorded."""
    png = file_of(version_of(review, 1), "hero.png")
    pin = pins.place(world.own_client, png, body="Bigger", x=0.5, y=0.5)
    pins.settle(world.manager, pin, "resolved")
    db.session.commit()
    web.login(world.own_client)
    answer = web.post(
        f"/deliverables/{review.id}/versions/1/request-changes",
        {"changes-reason_category": "quality", "changes-text": "See pin", "changes-pins": [str(pin.id)]},
    )
    assert answer.status_code == 409 and decisions(review.id) == []


def test_open_pins_carry_over_to_the_next_version_and_staff_mark_them(review, web, world, make_web):
    """Version 2 lists version 1's open pins; the manager marks one addressed (resolved) and one not yet; the history says which."""
    v1 = version_of(review, 1)
    png = file_of(v1, "hero.png")
    first = pins.place(world.own_client, png, body="Bigger logo", x=0.2, y=0.2)
    second = pins.place(world.own_client, png, body="Warmer colours", x=0.6, y=0.6)
    deliverables.decide(world.own_client, v1, outcome="changes_requested", reason_category="quality", text="", pins=[first, second])
    db.session.commit()
    submit(world.manager, review, file=(png_bytes(400, 300, (10, 200, 10)), "hero.png"))
    manager = make_web()
    manager.login(world.manager)
    page = html.unescape(manager.text(f"/deliverables/{review.id}"))
    assert "Pins from earlier versions" in page and page.count("Not checked yet") == 2
    manager.post(f"/pins/{first.id}/check", {"addressed": "yes"})
    manager.post(f"/pins/{second.id}/check", {"addressed": "no"})
    db.session.expire_all()
    assert db.session.get(ReviewPin, first.id).status is PinStatus.RESOLVED
    assert db.session.get(ReviewPin, second.id).status is PinStatus.OPEN
    assert {(c.pin_id, c.addressed) for c in db.session.scalars(select(PinCheck))} == {(first.id, True), (second.id, False)}
    web.login(world.own_client)
    client_page = words(web.text(f"/deliverables/{review.id}"))
    assert "Addressed in this version: pins 1." in client_page and "Not addressed yet: pins 2." in client_page
    # Clients cannot check pins.
    assert web.post(f"/pins/{second.id}/check", {"addressed": "yes"}).status_code == 403 or db.session.get(ReviewPin, second.id).status is PinStatus.OPEN


def test_the_weekly_update_counts_open_pins_per_deliverable(review, world, make_web):
    """The coming weekly update says how many pins are open; internal and settled ones are not counted."""
    png = file_of(version_of(review, 1), "hero.png")
    pins.place(world.own_client, png, body="One", x=0.1, y=0.1)
    pins.place(world.own_client, png, body="Two", x=0.2, y=0.2)
    done = pins.place(world.own_client, png, body="Three", x=0.3, y=0.3)
    pins.place(world.manager, png, body="Internal", x=0.4, y=0.4, internal=True)
    pins.settle(world.manager, done, "resolved")
    db.session.commit()
    manager = make_web()
    manager.login(world.manager)
    letter = words(manager.text(f"/projects/{world.project.id}/weekly"))
    assert "“Homepage design” has 2 open pins: comments on exact spots that are not settled yet." in letter


# --- Compare ----------------------------------------------------------------------------------


def test_compare_shows_two_versions_side_by_side_with_the_earlier_pins_and_an_overlay(review, web, world):
    """Same-size images get the overlay slider; the earlier version's pins are drawn on its side."""
    v1 = version_of(review, 1)
    pins.place(world.own_client, file_of(v1, "hero.png"), body="Bigger logo", x=0.2, y=0.2)
    deliverables.decide(world.own_client, v1, outcome="changes_requested", reason_category="quality", text="See the pin")
    db.session.commit()
    submit(world.manager, review, file=(png_bytes(400, 300, (10, 200, 10)), "hero.png"))
    previews.render_pending()
    web.login(world.own_client)
    page = html.unescape(web.text(f"/deliverables/{review.id}/compare"))
    assert "Version 1 and version 2" in page
    assert "data-compare-slider" in page and 'cx="20.00%"' in page
    assert "Compare with version 1" in html.unescape(web.text(f"/deliverables/{review.id}"))
    # Garbage in the query shows the default pair.
    assert "Version 1 and version 2" in html.unescape(web.text(f"/deliverables/{review.id}/compare?from=99999999999999999999&to=x"))


def test_compare_with_one_version_says_there_is_nothing_to_compare(review, web, world):
    web.login(world.own_client)
    answer = web.get(f"/deliverables/{review.id}/compare")
    assert answer.status_code == 302


def test_drafts_are_never_compared_or_reviewed_by_clients(review, web, world):
    """Version 2 in preparation is invisible to the client, in compare and on its files."""
    deliverables.decide(world.own_client, version_of(review, 1), outcome="changes_requested", reason_category="quality", text="Redo")
    db.session.commit()
    from tests.integration.deliverables_support import add_file

    draft = deliverables.start_version(world.manager, review)
    file = add_file(world.manager, draft, png_bytes(), "next.png")
    db.session.commit()
    web.login(world.own_client)
    assert web.get(f"/deliverables/files/{file.id}/review").status_code == 404
    assert draft.status is VersionStatus.DRAFT


# --- Emails -----------------------------------------------------------------------------------


def test_a_clients_pin_and_replies_reach_the_other_side_by_email(review, world):
    """The manager hears of a client's pin; the client hears of the manager's reply; nobody hears of internal pins."""
    from tests.fixtures.outbox import emails

    png = file_of(version_of(review, 1), "hero.png")
    pin = pins.place(world.own_client, png, body="Make the logo bigger", x=0.5, y=0.5)
    db.session.commit()
    (placed,) = emails("pin_placed", to=world.manager.email)
    assert "Ayşe Client placed pin 1 on “Homepage design”" in placed.subject
    assert f"/deliverables/files/{png.id}/review#pin-1" in placed.text_body
    pins.reply(world.manager, pin, "On it")
    db.session.commit()
    (reply,) = emails("pin_reply", to=world.own_client.email)
    assert "On it" in reply.text_body
    internal = pins.place(world.manager, png, body="Check kerning", x=0.1, y=0.1, internal=True)
    pins.reply(world.manager, internal, "Still internal")
    db.session.commit()
    assert emails("pin_placed", to=world.manager.email) == [placed]
    assert len(emails("pin_reply", to=world.own_client.email)) == 1


def test_the_review_page_reads_in_turkish(review, web, world):
    """A Turkish client reads the pin form and the pin list in Turkish."""
    world.own_client.language = "tr"
    db.session.commit()
    png = file_of(version_of(review, 1), "hero.png")
    pins.place(world.own_client, png, body="Logo büyük olsun", x=0.5, y=0.5)
    db.session.commit()
    web.login(world.own_client)
    page = words(web.text(f"/deliverables/files/{png.id}/review"))
    assert "İğne ekle" in page and "İğne 1" in page and "sayfa 1, yatayda %50, dikeyde %50" in page


def test_the_scheduler_renders_what_the_upload_left_pending(world, app):
    """A preview still pending (the web process died before rendering it) is made by the scheduler's job."""
    from portal import jobs

    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable, file=(pdf_bytes(1), "flyer.pdf"))
    assert jobs.build_scheduler(app).get_job("render_previews") is not None
    jobs.use_app(app)
    try:
        jobs.render_previews()
    finally:
        jobs.use_app(None)
    db.session.expire_all()
    assert db.session.scalar(select(FilePreview.status).where(FilePreview.file_id == version.files[0].id)) is PreviewStatus.READY


def test_a_page_far_taller_than_wide_is_rendered_at_a_bounded_size(world):
    """A 100 × 14,400-point strip (the largest PDF page) is not blown up past the cap (4 × its size would be 23 million pixels)."""
    deliverable = make_deliverable(world.manager, world.project)
    version = submit(world.manager, deliverable, file=(pdf_bytes(1, size=(100, 14_400)), "strip.pdf"))
    previews.render_pending()
    preview = db.session.scalar(select(FilePreview).where(FilePreview.file_id == version.files[0].id))
    (page,) = preview.pages
    assert preview.status is PreviewStatus.READY and page.width * page.height <= previews.MAX_PAGE_PIXELS


def test_the_review_and_deliverable_pages_cost_the_same_queries_for_1_and_12_pins(review, web, world, count_queries):
    """Pins, their replies and authors load in a fixed number of statements, however many there are."""
    v1 = version_of(review, 1)
    png = file_of(v1, "hero.png")
    web.login(world.own_client)
    counts = []
    for total in (1, 12):
        while len(db.session.scalars(select(ReviewPin)).all()) < total:
            pin = pins.place(world.own_client, png, body="Bigger", x=0.5, y=0.5)
            pins.reply(world.manager, pin, "On it")
        db.session.commit()
        web.get(f"/deliverables/files/{png.id}/review")
        with count_queries() as on_file:
            assert "Pin 1" in web.text(f"/deliverables/files/{png.id}/review")
        with count_queries() as on_deliverable:
            web.text(f"/deliverables/{review.id}")
        counts.append((on_file.count, on_deliverable.count))
    assert counts[0] == counts[1], counts


def test_jpeg_and_webp_uploads_get_previews_and_a_gif_does_not(world, make_web):
    """Uploaded through the page, a JPEG and a WebP can carry pins (their preview is made); a GIF is not pinnable."""
    from tests.integration.asset_helpers import upload

    def image(kind: str, size=(120, 90)) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", size, (30, 90, 160)).save(out, kind)
        return out.getvalue()

    deliverable = make_deliverable(world.manager, world.project)
    deliverables.start_version(world.manager, deliverable)
    db.session.commit()
    manager = make_web()
    manager.login(world.manager)
    files = [(image("JPEG"), "photo.jpg"), (image("WEBP"), "banner.webp"), (image("GIF"), "anim.gif")]
    answer = upload(manager, f"/deliverables/{deliverable.id}/draft/files", *files)
    assert answer.status_code in (200, 302, 303)
    assert previews.render_pending() == previews.RenderReport(ready=2, failed=0)
    files = {f.original_name: f for f in db.session.scalars(select(DeliverableFile))}
    for name in ("photo.jpg", "banner.webp"):
        preview = db.session.scalar(select(FilePreview).where(FilePreview.file_id == files[name].id))
        assert [(p.width, p.height) for p in preview.pages] == [(120, 90)], name
    assert db.session.scalar(select(FilePreview).where(FilePreview.file_id == files["anim.gif"].id)) is None
    assert manager.get(f"/deliverables/files/{files['anim.gif'].id}/review").status_code == 404
