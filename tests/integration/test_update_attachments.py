"""Files on progress updates: staff attach them with the update, clients download them, nothing stray is ever kept."""

from __future__ import annotations

import hashlib
import io
import secrets
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.extensions import db
from portal.models import OutboxEmail, Update, UpdateAttachment, UpdateKind, UpdateStatus
from portal.storage import S3Storage, storage_for
from portal.updates import service
from tests.conftest import Web, app_config
from tests.integration.asset_helpers import HTML, PDF, PLAIN_SVG, jpeg_bytes, png_bytes, stored_objects, upload
from tests.integration.test_storage_backends import (  # noqa: F401 - fixtures
    S3_KEY_ID,
    S3_REGION,
    S3_SECRET,
    leftovers,
    s3_bucket,
    s3_endpoint,
)

TEXT = {
    "title": "Sprint 5: checkout",
    "body": "The **checkout** is on staging.",
    "done": "Payment form",
    "next_steps": "Load testing",
    "blockers": "Waiting for the payment provider",
    "needs": "Your logo as SVG",
}


@pytest.fixture
def staff_web(web, world):
    """The project's account manager, logged in."""
    web.login(world.manager)
    return web


def new_url(world) -> str:
    return f"/projects/{world.project.id}/updates/new"


def post_update(web, world, *files: tuple[bytes, str], action: str = "publish", **text: str):
    """Send the update form as the browser does: multipart, text first, then the chosen files."""
    return upload(web, new_url(world), *files, **{**TEXT, **text, "action": action})


def attachment_count() -> int:
    return db.session.scalar(select(func.count()).select_from(UpdateAttachment))


def update_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Update))


def assert_nothing_kept(app) -> None:
    """No update, no attachment row and no stored object (not even a temporary one) survived."""
    assert update_count() == 0
    assert attachment_count() == 0
    assert stored_objects(app) == []


def attach_directly(update: Update, name: str = "plan.pdf", *, image: bool = False) -> UpdateAttachment:
    """Record an attachment without storing bytes (for pages that only list files)."""
    key = f"updates/2026/11/{secrets.token_hex(16)}"
    attachment = UpdateAttachment(
        update_id=update.id,
        original_name=name,
        extension=name.rsplit(".", 1)[-1],
        content_type="image/png" if image else "application/pdf",
        size=1234,
        sha256="0" * 64,
        storage_key=key,
        thumbnail_key=f"{key}t" if image else None,
    )
    db.session.add(attachment)
    return attachment


# --- Uploading with the update -------------------------------------------------------------


def test_staff_publish_an_update_with_several_files_and_the_client_gets_them(app, staff_web, make_web, world):
    """Three files go in with the text: stored under generated keys with their size and SHA-256, shown and emailed."""
    image, brief, photo = png_bytes(900, 600), PDF + b"x" * 5000, jpeg_bytes()
    response = post_update(staff_web, world, (image, "homepage.png"), (brief, "Brief – şubat.pdf"), (photo, "team.jpg"))
    assert response.status_code == 302
    update = db.session.scalars(select(Update)).one()
    assert update.status is UpdateStatus.PUBLISHED
    files = db.session.scalars(select(UpdateAttachment).order_by(UpdateAttachment.id)).all()
    assert [f.original_name for f in files] == ["homepage.png", "Brief – şubat.pdf", "team.jpg"]
    assert [f.size for f in files] == [len(image), len(brief), len(photo)]
    assert files[1].sha256 == hashlib.sha256(brief).hexdigest()
    assert [f.content_type for f in files] == ["image/png", "application/pdf", "image/jpeg"]
    assert files[0].thumbnail_key and files[2].thumbnail_key and files[1].thumbnail_key is None
    assert files[0].uploaded_by_id == world.manager.id and (files[0].width, files[0].height) == (900, 600)
    storage = storage_for(app)
    for f in files:
        assert f.storage_key.startswith("updates/") and storage.exists(f.storage_key)

    client = make_web()
    client.login(world.own_client)
    for page in (client.text(f"/projects/{world.project.id}"), client.text(f"/projects/{world.project.id}/updates/{update.id}")):
        assert "Brief – şubat.pdf" in page and "homepage.png" in page
        assert f"/updates/{update.id}/attachments/{files[1].id}" in page
        assert f"/updates/{update.id}/attachments/{files[0].id}/thumbnail" in page
        assert f"/attachments/{files[1].id}/thumbnail" not in page  # a PDF has no preview
    assert client.get(f"/projects/{world.project.id}/updates/{update.id}/attachments/{files[1].id}").get_data() == brief

    email = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "update")).one()
    assert "3 files are attached to the update:" in email.text_body
    for name in ("homepage.png", "Brief – şubat.pdf", "team.jpg"):
        assert f"- {name}" in email.text_body and name in email.html_body
    assert f"http://portal.test/projects/{world.project.id}/updates/{update.id}" in email.text_body


def test_an_update_without_files_is_still_posted_as_multipart(staff_web, world):
    """The file input left empty sends an empty file part: the update is saved without attachments."""
    response = staff_web.post(
        new_url(world), {**TEXT, "action": "draft", "files": (io.BytesIO(b""), "")}, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    update = db.session.scalars(select(Update)).one()
    assert update.status is UpdateStatus.DRAFT and update.title == TEXT["title"] and update.needs == TEXT["needs"]
    assert attachment_count() == 0


def test_a_draft_collects_files_over_several_saves_and_loses_removed_ones(app, staff_web, make_web, world):
    """Files chosen on each save add up on the draft; a removed one is gone from the row and from storage."""
    assert post_update(staff_web, world, (PDF, "agenda.pdf"), action="draft").status_code == 302
    update = db.session.scalars(select(Update)).one()
    edit = f"/projects/{world.project.id}/updates/{update.id}/edit"
    assert upload(staff_web, edit, (png_bytes(), "mockup.png"), **{**TEXT, "title": "Sprint 5 (draft)", "action": "draft"}).status_code == 302
    db.session.refresh(update)
    assert update.title == "Sprint 5 (draft)" and [a.original_name for a in update.attachments] == ["agenda.pdf", "mockup.png"]

    page = staff_web.text(edit)
    assert "Files on this draft" in page and "agenda.pdf" in page and "Remove mockup.png from this update?" in page
    client = make_web()
    client.login(world.own_client)
    agenda, mockup = update.attachments
    assert client.get(f"/projects/{world.project.id}/updates/{update.id}/attachments/{agenda.id}").status_code == 404
    assert "agenda.pdf" not in client.text(f"/projects/{world.project.id}")

    keys = mockup.keys
    response = staff_web.post(f"/projects/{world.project.id}/updates/{update.id}/attachments/{mockup.id}/remove")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/edit#attachments-{update.id}")
    db.session.refresh(update)
    assert [a.original_name for a in update.attachments] == ["agenda.pdf"]
    assert len(keys) == 2 and not any(storage_for(app).exists(key) for key in keys)

    publish = staff_web.post(f"/projects/{world.project.id}/updates/{update.id}/publish")
    assert publish.status_code == 302
    assert client.get(f"/projects/{world.project.id}/updates/{update.id}/attachments/{agenda.id}").status_code == 200
    email = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "update")).one()
    assert "1 file is attached to the update:" in email.text_body and "agenda.pdf" in email.text_body
    assert "mockup.png" not in email.text_body


def test_deleting_a_draft_deletes_its_files(app, staff_web, world):
    """A deleted draft leaves no attachment row and no stored object."""
    post_update(staff_web, world, (png_bytes(), "mockup.png"), action="draft")
    update = db.session.scalars(select(Update)).one()
    assert len(stored_objects(app)) == 2  # the image and its preview
    assert staff_web.post(f"/projects/{world.project.id}/updates/{update.id}/delete").status_code == 302
    assert_nothing_kept(app)


def test_staff_add_and_remove_files_on_a_published_update(app, staff_web, make_web, world):
    """A published update takes more files on its page and can lose one (the page asks to confirm first)."""
    post_update(staff_web, world)
    update = db.session.scalars(select(Update)).one()
    page_url = f"/projects/{world.project.id}/updates/{update.id}"
    page = staff_web.text(page_url)
    assert "Add files to this update" in page

    response = upload(staff_web, f"{page_url}/attachments", (PDF, "minutes.pdf"), (png_bytes(), "board.png"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{page_url}#attachments-{update.id}")
    minutes, _board = db.session.scalars(select(UpdateAttachment).order_by(UpdateAttachment.id)).all()
    page = staff_web.text(page_url)
    assert "Remove minutes.pdf from this update? The client will no longer be able to download it." in page
    assert 'data-confirm="Remove board.png from this update?' in page

    client = make_web()
    client.login(world.own_client)
    assert client.get(f"{page_url}/attachments/{minutes.id}").status_code == 200
    client_page = client.text(page_url)
    assert "minutes.pdf" in client_page and "Add files to this update" not in client_page and "/remove" not in client_page

    minutes_url = f"{page_url}/attachments/{minutes.id}"
    assert staff_web.post(f"{minutes_url}/remove").status_code == 302
    assert client.get(minutes_url).status_code == 404
    assert [a.original_name for a in db.session.scalars(select(UpdateAttachment))] == ["board.png"]
    assert len(stored_objects(app)) == 2  # board.png and its preview: minutes.pdf is gone


def test_the_weekly_update_takes_no_files(app, staff_web, world):
    """The update Rapport writes is not for attachments: a clear 409 and nothing kept."""
    weekly = Update(project=world.project, kind=UpdateKind.WEEKLY, status=UpdateStatus.PUBLISHED, title="", iso_year=2026, iso_week=47)
    db.session.add(weekly)
    db.session.commit()
    response = upload(staff_web, f"/projects/{world.project.id}/updates/{weekly.id}/attachments", (PDF, "minutes.pdf"))
    assert response.status_code == 409 and "attach files to an update you write" in response.get_data(as_text=True)
    assert attachment_count() == 0 and stored_objects(app) == []


# --- Refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "status", "message"),
    [
        (HTML, "homepage.png", 422, "homepage.png is not really a .png file"),
        (PDF[:4] + b"<html>", "report.docx", 422, "report.docx is not really a .docx file"),
        (b"MZ\x90\x00" + b"\x00" * 100, "setup.exe", 422, "setup.exe: this type of file is not accepted here"),
        (HTML, "page.html", 422, "page.html: this type of file is not accepted here"),
        (b"", "empty.pdf", 422, "empty.pdf is empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "broken.png", 422, "could not be read as an image"),
    ],
)
def test_a_refused_file_keeps_the_text_and_says_which_file_and_why(app, staff_web, world, content, name, status, message):
    """Wrong magic bytes, a type not allowed, an empty or broken file: a 4xx naming the file; the text is all still there."""
    response = post_update(staff_web, world, (PDF, "agenda.pdf"), (content, name))
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert message in page
    assert "no file was kept: choose the files again" in page
    assert 'value="Sprint 5: checkout"' in page
    for text in ("The **checkout** is on staging.", "Payment form", "Load testing", "Waiting for the payment provider", "Your logo as SVG"):
        assert text in page
    assert_nothing_kept(app)


def test_a_file_over_the_size_limit_gets_a_413_and_the_text_stays(app, staff_web, world):
    """PORTAL_MAX_UPLOAD_MB is enforced while streaming, whatever order the files come in."""
    app.config["MAX_UPLOAD_MB"] = 1
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    big = PDF + b"\x00" * (1024 * 1024 + 10)
    response = post_update(staff_web, world, (big, "scan.pdf"), (png_bytes(), "after.png"))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "scan.pdf is too large. Files can be at most 1 MB." in page
    assert 'value="Sprint 5: checkout"' in page and "Waiting for the payment provider" in page
    assert_nothing_kept(app)


def test_text_errors_throw_the_files_away_and_say_so(app, staff_web, world):
    """A missing title refuses the post: the files are not kept (nothing stray), the body is, and the user is told."""
    response = post_update(staff_web, world, (png_bytes(), "mockup.png"), title="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Give the update a title." in page and "choose the files again" in page and "The **checkout** is on staging." in page
    assert_nothing_kept(app)


def test_publishing_without_text_refuses_and_keeps_nothing(app, staff_web, world):
    """The service's own refusal (no text to publish) also leaves no row and no stored file."""
    response = post_update(staff_web, world, (PDF, "agenda.pdf"), body="", done="", next_steps="", blockers="", needs="")
    assert response.status_code == 422
    assert "Write what happened before publishing" in response.get_data(as_text=True)
    assert_nothing_kept(app)


def test_without_a_csrf_token_nothing_is_stored(app, staff_web, world):
    """CSRF stays on for the streamed form: no token or a forged one is a 400 before a byte is kept."""
    for extra in ({}, {"csrf_token": "forged"}):
        response = staff_web.request(
            "POST",
            new_url(world),
            data={**TEXT, **extra, "action": "publish", "files": (io.BytesIO(PDF), "agenda.pdf")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 400
        assert_nothing_kept(app)
    plain = staff_web.request("POST", new_url(world), data={**TEXT, "action": "publish"})  # an ordinary form post too
    assert plain.status_code == 400 and update_count() == 0


def test_an_interrupted_upload_leaves_no_row_and_no_file(app, staff_web, world):
    """The connection drops halfway through a file: no update, no attachment, no object, no temporary file."""
    token = staff_web.csrf_token()
    boundary = "----rapport-test"
    fields = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in {"csrf_token": token, **TEXT}.items())
    body = (
        fields + f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="scan.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
    ).encode() + PDF + b"\x00" * 2_000_000  # the closing boundary never arrives
    response = staff_web.request(
        "POST",
        new_url(world),
        input_stream=io.BytesIO(body),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(len(body) + 5_000_000)},
    )
    assert response.status_code == 400
    assert "interrupted" in response.get_data(as_text=True)
    assert_nothing_kept(app)


def test_a_failing_transaction_deletes_the_stored_files(app, staff_web, world, monkeypatch):
    """The files are already stored when the database write fails: they are deleted again and no row remains."""
    from portal import activity

    def broken_record(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(activity, "record", broken_record)
    response = post_update(staff_web, world, (png_bytes(), "mockup.png"), (PDF, "agenda.pdf"))
    assert response.status_code == 500
    assert_nothing_kept(app)


def test_hostile_names_are_only_display_metadata(app, staff_web, world):
    """Paths, markup, bidi tricks and very long names are shown cleaned and escaped; storage keys are generated."""
    names = ["../../etc/passwd.pdf", "<img src=x onerror=alert(1)>.pdf", "invoice\u202efdp.exe.pdf", "b" * 296 + ".pdf"]
    response = post_update(staff_web, world, *[(PDF, name) for name in names])
    assert response.status_code == 302, response.get_data(as_text=True)
    files = db.session.scalars(select(UpdateAttachment).order_by(UpdateAttachment.id)).all()
    assert files[0].original_name == "passwd.pdf"
    assert files[1].original_name == "<img src=x onerror=alert(1)>.pdf"
    assert files[2].original_name == "invoicefdp.exe.pdf"
    assert len(files[3].original_name) == 200 and files[3].original_name.endswith(".pdf")
    for f in files:
        assert f.storage_key.startswith("updates/") and ".." not in f.storage_key and "pdf" not in f.storage_key
    root = str(storage_for(app).root)
    assert all(str(path).startswith(root) for path in stored_objects(app))
    update = files[0].update
    page = staff_web.text(f"/projects/{world.project.id}/updates/{update.id}")
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;.pdf" in page
    disposition = staff_web.get(f"/projects/{world.project.id}/updates/{update.id}/attachments/{files[1].id}").headers["Content-Disposition"]
    assert disposition.startswith("attachment; ") and '"' not in disposition.split("filename*=", 1)[1]
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == files[1].original_name


# --- Downloads ------------------------------------------------------------------------------


def test_a_download_is_a_safe_streamed_attachment(staff_web, make_web, world):
    """Attachment with an RFC 6266 filename*, nosniff, a sandboxing CSP, an ETag, and byte ranges."""
    brief = PDF + bytes(range(256)) * 400
    post_update(staff_web, world, (brief, "Müşteri özeti.pdf"), (PLAIN_SVG, "logo.svg"), (png_bytes(), "wire.png"))
    update = db.session.scalars(select(Update)).one()
    pdf, svg, png = update.attachments
    client = make_web()
    client.login(world.own_client)
    base = f"/projects/{world.project.id}/updates/{update.id}/attachments"

    response = client.get(f"{base}/{pdf.id}")
    assert response.status_code == 200 and response.get_data() == brief
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ") and 'filename="Musteri ozeti.pdf"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == "Müşteri özeti.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["ETag"] == f'"{pdf.sha256}"' and response.headers["Accept-Ranges"] == "bytes"
    assert int(response.headers["Content-Length"]) == len(brief)

    part = client.get(f"{base}/{pdf.id}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.get_data() == brief[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(brief)}"
    assert client.get(f"{base}/{pdf.id}", headers={"If-None-Match": f'"{pdf.sha256}"'}).status_code == 304

    # An SVG (even a plain one) is sent as bytes to save, never rendered, and gets no preview.
    vector = client.get(f"{base}/{svg.id}")
    assert vector.headers["Content-Type"] == "application/octet-stream" and vector.headers["Content-Disposition"].startswith("attachment")
    assert client.get(f"{base}/{svg.id}/thumbnail").status_code == 404
    preview = client.get(f"{base}/{png.id}/thumbnail")
    assert preview.status_code == 200 and preview.headers["Content-Type"] in {"image/jpeg", "image/png"}
    assert preview.headers["Content-Disposition"].startswith("inline") and preview.headers["X-Content-Type-Options"] == "nosniff"


def test_a_preview_missing_from_storage_is_a_logged_404(app, staff_web, make_web, world, caplog):
    """If a thumbnail's bytes were lost, the preview says not found (and the error is logged); the file still downloads."""
    post_update(staff_web, world, (png_bytes(), "wire.png"))
    attachment = db.session.scalars(select(UpdateAttachment)).one()
    storage_for(app).delete(attachment.thumbnail_key)
    client = make_web()
    client.login(world.own_client)
    base = f"/projects/{world.project.id}/updates/{attachment.update_id}/attachments/{attachment.id}"
    assert client.get(f"{base}/thumbnail").status_code == 404
    assert f"stored thumbnail {attachment.thumbnail_key} is missing" in caplog.text
    assert client.get(base).status_code == 200


def test_only_readers_of_the_update_download_its_files(staff_web, make_web, make_user, world):
    """Another organisation's client and another manager get 404; a client sees a draft's files only once published."""
    post_update(staff_web, world, (PDF, "published.pdf"))
    post_update(staff_web, world, (PDF, "draft.pdf"), action="draft", title="Not yet")
    published, draft = db.session.scalars(select(Update).order_by(Update.id)).all()
    published_url = f"/projects/{world.project.id}/updates/{published.id}/attachments/{published.attachments[0].id}"
    draft_url = f"/projects/{world.project.id}/updates/{draft.id}/attachments/{draft.attachments[0].id}"
    crossed_url = f"/projects/{world.project.id}/updates/{published.id}/attachments/{draft.attachments[0].id}"

    expectations = {
        world.own_client: (200, 404, 404),
        world.other_client: (404, 404, 404),
        world.other_manager: (404, 404, 404),
        world.admin: (200, 200, 404),
        world.manager: (200, 200, 404),
    }
    for person, expected in expectations.items():
        browser = make_web()
        browser.login(person)
        got = tuple(browser.get(url).status_code for url in (published_url, draft_url, crossed_url))
        assert got == expected, (person.email, got)
        # Another project's URL with this project's attachment is not a way in either.
        other = f"/projects/{world.other_project.id}/updates/{published.id}/attachments/{published.attachments[0].id}"
        assert browser.get(other).status_code == 404

    outsider = make_web()
    outsider.login(world.other_client)
    assert outsider.get(f"{published_url}/thumbnail").status_code == 404
    client = make_web()
    client.login(world.own_client)
    assert "draft.pdf" not in client.text(f"/projects/{world.project.id}/updates")
    assert anon_redirects_to_login(make_web(), published_url)


def anon_redirects_to_login(browser: Web, url: str) -> bool:
    response = browser.get(url)
    return response.status_code == 302 and "/login" in response.headers["Location"]


# --- The feed stays cheap -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["manager", "own_client"])
@pytest.mark.parametrize("url", ["/projects/{id}", "/projects/{id}/updates", "/projects/{id}/updates/{update}"])
def test_feed_queries_do_not_grow_with_attachments(make_web, world, count_queries, who, url):
    """The project page, the updates list and an update's page run as many queries with 50 files as with 5."""
    updates = [service.save_update(world.manager, world.project, {"title": f"Update {i}", "body": "Text"}, publish=True) for i in range(5)]
    db.session.flush()
    for i, update in enumerate(updates):
        attach_directly(update, f"file-{i}.pdf")
    db.session.commit()
    browser = make_web()
    browser.login(getattr(world, who))
    path = url.format(id=world.project.id, update=updates[-1].id)
    with count_queries() as few:
        page = browser.text(path)
    assert "file-4.pdf" in page
    for i in range(45):
        attach_directly(updates[i % 5], f"more-{i}.png", image=True)
    db.session.commit()
    with count_queries() as many:
        page = browser.text(path)
    assert "more-44.png" in page
    assert many.count == few.count, many.statements[few.count :]


# --- S3 -------------------------------------------------------------------------------------


def test_attachments_live_in_s3_when_configured(database_url, tmp_path, world, s3_endpoint, s3_bucket):  # noqa: F811
    """With PORTAL_STORAGE=s3 the files stream to the bucket and back (with ranges); a refusal leaves nothing there."""
    s3_app = create_app(
        app_config(
            database_url,
            tmp_path,
            STORAGE="s3",
            S3_BUCKET=s3_bucket,
            S3_ENDPOINT_URL=s3_endpoint,
            S3_ACCESS_KEY_ID=S3_KEY_ID,
            S3_SECRET_ACCESS_KEY=S3_SECRET,
            S3_REGION=S3_REGION,
        )
    )
    project_id = world.project.id
    with s3_app.app_context():
        storage = storage_for(s3_app)
        assert isinstance(storage, S3Storage)
        staff = Web(s3_app.test_client())
        staff.login(world.manager.email)
        url = f"/projects/{project_id}/updates/new"
        refused = upload(staff, url, (png_bytes(), "good.png"), (HTML, "bad.png"), **TEXT, action="publish")
        assert refused.status_code == 422 and leftovers(storage) == []

        image = png_bytes(700, 500)
        assert upload(staff, url, (image, "hero.png"), **TEXT, action="publish").status_code == 302
        attachment = db.session.scalars(select(UpdateAttachment)).one()
        assert storage.exists(attachment.storage_key) and storage.exists(attachment.thumbnail_key)
        client = Web(s3_app.test_client())
        client.login(world.own_client.email)
        base = f"/projects/{project_id}/updates/{attachment.update_id}/attachments/{attachment.id}"
        assert client.get(base).get_data() == image
        part = client.get(base, headers={"Range": "bytes=8-15"})
        assert part.status_code == 206 and part.get_data() == image[8:16]
        assert client.get(f"{base}/thumbnail").status_code == 200

        assert staff.post(f"{base}/remove").status_code == 302
        assert leftovers(storage) == []
        db.session.remove()
