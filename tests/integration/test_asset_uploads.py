"""Uploading through the web: streamed to storage, every refusal explained, nothing left behind on failure."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal import activity
from portal.assets import service
from portal.extensions import db
from portal.models import AssetFile, AssetRequest, AssetRequestStatus
from portal.storage import storage_for, upload_flow
from tests.integration.asset_helpers import HTML, PDF, PLAIN_SVG, SVG, jpeg_bytes, png_bytes, stored_objects, upload


@pytest.fixture
def logo(world) -> AssetRequest:
    """An open request for images on the world's project."""
    asset_request = service.create_request(world.manager, world.project, title="Logo", kinds=["images"])
    db.session.commit()
    return asset_request


@pytest.fixture
def client_web(web, world):
    """The client member, logged in."""
    web.login(world.own_client)
    return web


def file_count() -> int:
    """Return how many uploaded files are recorded."""
    return db.session.scalar(select(func.count()).select_from(AssetFile))


def assert_nothing_kept(app) -> None:
    """No row and no stored object (not even a temporary one) survived."""
    assert file_count() == 0
    assert stored_objects(app) == []


def test_a_client_uploads_several_files_to_a_request(app, client_web, logo):
    """Two files in one form post: both stored under generated keys with their real size and SHA-256."""
    import hashlib

    png, jpeg = png_bytes(), jpeg_bytes()
    response = upload(client_web, f"/assets/requests/{logo.id}/files", (png, "logo.png"), (jpeg, "Logo – koyu.JPG"))
    assert response.status_code == 302 and response.headers["Location"] == f"/assets/requests/{logo.id}"
    files = db.session.scalars(select(AssetFile).order_by(AssetFile.id)).all()
    assert [f.original_name for f in files] == ["logo.png", "Logo – koyu.JPG"]
    assert [f.content_type for f in files] == ["image/png", "image/jpeg"]
    assert [f.sha256 for f in files] == [hashlib.sha256(png).hexdigest(), hashlib.sha256(jpeg).hexdigest()]
    assert [f.size for f in files] == [len(png), len(jpeg)]
    storage = storage_for(app)
    for f, content in zip(files, (png, jpeg), strict=True):
        assert "logo" not in f.storage_key.lower()
        with storage.open(f.storage_key) as handle:
            assert handle.read() == content
    assert db.session.get(AssetRequest, logo.id).status is AssetRequestStatus.SUBMITTED
    page = client_web.text(f"/assets/requests/{logo.id}")
    assert "2 files uploaded." in page and "Logo – koyu.JPG" in page and "Provided, in review" in page


def test_the_page_script_gets_json_and_may_send_the_token_in_a_header(client_web, logo):
    """The script's request (Accept: application/json, X-CSRFToken header) gets a 201 with the stored file."""
    token = client_web.csrf_token()
    response = client_web.request(
        "POST",
        f"/assets/requests/{logo.id}/files",
        data={"files": (io.BytesIO(png_bytes()), "logo.png")},
        content_type="multipart/form-data",
        headers={"Accept": "application/json", "X-CSRFToken": token},
    )
    assert response.status_code == 201
    reply = response.get_json()
    assert reply["files"][0]["name"] == "logo.png" and reply["redirect"] == f"/assets/requests/{logo.id}"


def test_without_a_csrf_token_nothing_is_stored(app, client_web, logo):
    """CSRF stays on for streamed uploads: a post without the token is refused before a byte is kept."""
    response = client_web.request(
        "POST", f"/assets/requests/{logo.id}/files", data={"files": (io.BytesIO(png_bytes()), "logo.png")}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert_nothing_kept(app)
    forged = client_web.request(
        "POST",
        f"/assets/requests/{logo.id}/files",
        data={"csrf_token": "forged", "files": (io.BytesIO(png_bytes()), "logo.png")},
        content_type="multipart/form-data",
    )
    assert forged.status_code == 400
    assert_nothing_kept(app)


def test_the_page_script_is_told_when_the_page_expired(app, client_web, logo):
    """A stale token from the page's script is a 400 with a message the upload list can show, nothing kept."""
    response = client_web.request(
        "POST",
        f"/assets/requests/{logo.id}/files",
        data={"files": (io.BytesIO(png_bytes()), "logo.png")},
        content_type="multipart/form-data",
        headers={"Accept": "application/json", "X-CSRFToken": "stale"},
    )
    assert response.status_code == 400
    assert response.get_json() == {"error": "The page expired. Reload it and upload the files again."}
    assert_nothing_kept(app)


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (HTML, "logo.png", "is not really a .png file"),
        (png_bytes(), "logo.php", "this type of file is not accepted here"),
        (PDF, "brief.pdf", "this type of file is not accepted here"),  # a document, but the request asks for images
        (b"MZ\x90\x00" + b"\x00" * 100, "setup.exe", "this type of file is not accepted here"),
        (png_bytes(), "invoice\u202egnp.exe", "invoicegnp.exe: this type of file is not accepted here"),
        (b"", "empty.png", "empty.png is empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "broken.png", "could not be read as an image"),
    ],
)
def test_refused_files_are_explained_and_leave_nothing(app, client_web, logo, content, name, message):
    """Wrong type, disguised content, hostile names and empty or broken files: a clear 422, no row, no stored file."""
    response = upload(client_web, f"/assets/requests/{logo.id}/files", (content, name))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert_nothing_kept(app)
    assert db.session.get(AssetRequest, logo.id).status is AssetRequestStatus.OPEN


def test_one_bad_file_refuses_the_whole_post(app, client_web, logo):
    """All or nothing: a good file sent with a disguised one is not kept either."""
    response = upload(client_web, f"/assets/requests/{logo.id}/files", (png_bytes(), "good.png"), (HTML, "bad.png"))
    assert response.status_code == 422
    assert_nothing_kept(app)


def test_refusals_reach_the_script_as_json(app, client_web, logo):
    """The script shows the server's translated reason next to the file."""
    response = upload(client_web, f"/assets/requests/{logo.id}/files", (HTML, "logo.png"), json=True)
    assert response.status_code == 422
    assert "is not really a .png file" in response.get_json()["error"]


def test_hostile_names_are_only_display_metadata(app, client_web, world):
    """Paths, NUL tricks and very long names are shown cleaned; the storage key is always generated."""
    names = ["../../x.png", "a.php%00.jpg", "b" * 296 + ".png"]
    contents = [png_bytes(), jpeg_bytes(), png_bytes()]
    response = upload(client_web, f"/projects/{world.project.id}/assets/files", *zip(contents, names, strict=True))
    assert response.status_code == 302
    files = db.session.scalars(select(AssetFile).order_by(AssetFile.id)).all()
    assert files[0].original_name == "x.png"
    assert files[1].original_name == "a.php%00.jpg" and files[1].content_type == "image/jpeg"
    assert len(files[2].original_name) == 200 and files[2].original_name.endswith(".png")
    for f in files:
        assert f.storage_key.startswith("assets/") and ".." not in f.storage_key and "php" not in f.storage_key
    root = str(storage_for(app).root)
    assert all(str(path).startswith(root) for path in stored_objects(app))
    assert "a.php%00.jpg" in client_web.text(f"/projects/{world.project.id}/assets")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_images_over_the_pixel_limit_are_refused(app, client_web, logo):
    """A small file that decodes to a huge image (a decompression bomb) is refused before decoding."""
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # 100 megapixels in a few kilobytes
    response = upload(client_web, f"/assets/requests/{logo.id}/files", (out.getvalue(), "bomb.png"))
    assert response.status_code == 422
    assert "This image is too large (10000 × 10000 pixels)" in response.get_data(as_text=True)
    assert_nothing_kept(app)


def test_svg_is_accepted_but_never_previewed(app, client_web, logo):
    """A plain vector logo is a valid image upload; it gets no thumbnail, so nothing of it renders in the page."""
    response = upload(client_web, f"/assets/requests/{logo.id}/files", (PLAIN_SVG, "logo.svg"))
    assert response.status_code == 302
    svg = db.session.scalars(select(AssetFile)).one()
    assert svg.thumbnail_key is None and svg.content_type == "image/svg+xml"


ILLUSTRATOR_SVG = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    b' xmlns:i="http://ns.adobe.com/AdobeIllustrator/10.0/" width="10" height="10"><switch>'
    b'<foreignObject requiredExtensions="http://ns.adobe.com/AdobeIllustrator/10.0/" x="0" y="0" width="1" height="1">'
    b'<i:pgfRef xlink:href="#adobe_illustrator_pgf"></i:pgfRef></foreignObject><g i:extraneous="self"><rect width="10" height="10"/></g>'
    b'</switch><i:pgf id="adobe_illustrator_pgf"><![CDATA[eJzsvWmTHMlxIPp9f0V+]]></i:pgf></svg>'
)
FONT_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><style>@font-face{font-family:Inter;'
    b"src:url(data:font/woff2;base64," + b"d09GMgABAAAAA" * 20_000 + b") format('woff2')}text{font-family:Inter}</style>"
    b'<text aria-label="javascript: the guide" y="9">Merhaba</text><a href=""><rect width="1" height="1"/></a></svg>'
)


@pytest.mark.parametrize(
    "content",
    [ILLUSTRATOR_SVG, FONT_SVG, b"\xff\xfe" + PLAIN_SVG.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16-le")],
    ids=["Illustrator placeholder", "embedded font", "UTF-16"],
)
def test_svg_exports_from_design_tools_are_accepted(app, client_web, logo, content):
    """Illustrator's private-data placeholder, an embedded font over the 16 KB head, a UTF-16 file: ordinary exports pass."""
    response = upload(client_web, f"/assets/requests/{logo.id}/files", (content, "logo.svg"))
    assert response.status_code == 302
    svg = db.session.scalars(select(AssetFile)).one()
    assert svg.content_type == "image/svg+xml" and svg.size == len(content)


@pytest.mark.parametrize(
    "content",
    [
        SVG,  # <script> in the drawing
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1" onmouseover="alert(1)"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink"><a x:href="javascript:alert(1)"><text>x</text></a></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><image href="https://tracker.example/p.png" width="1" height="1"/></svg>',
        # The script after the first 16 KB that the magic-byte check reads: the whole file is checked.
        b'<svg xmlns="http://www.w3.org/2000/svg"><!--' + b"x" * 40_000 + b"--><script>alert(1)</script></svg>",
        b'<?xml version="1.0"?><svg width="10" height="10"><rect width="10" height="10"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><h:div xmlns:h="http://www.w3.org/1999/xhtml">x</h:div></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="background:image-set(\'https://tracker.example/p.png\' 1x)"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><style>@font-face{src:url(data:font/woff2;base64,AAAA),url(https://tracker.example/f)}</style></svg>',
        ("\ufeff" + '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>').encode("utf-16-be"),
    ],
    ids=[
        "script",
        "event attribute",
        "javascript link",
        "external image",
        "script after the head",
        "no SVG namespace",
        "XHTML",
        "image-set",
        "font then remote",
        "UTF-16 script",
    ],
)
def test_svg_with_script_or_outside_references_is_refused(app, client_web, logo, content):
    """An SVG that could run script or fetch another site is refused with a clear message, and nothing is kept."""
    response = upload(client_web, f"/assets/requests/{logo.id}/files", (content, "logo.svg"), json=True)
    assert response.status_code == 422
    assert "logo.svg contains scripts or links to content outside the file" in response.get_json()["error"]
    assert_nothing_kept(app)


def test_files_over_the_size_limit_get_a_413(app, client_web, logo):
    """PORTAL_MAX_UPLOAD_MB is enforced while streaming: a 413 with the limit in the message, nothing kept."""
    app.config["MAX_UPLOAD_MB"] = 1
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    big = png_bytes() + b"\x00" * (1024 * 1024 + 10)
    response = upload(client_web, f"/assets/requests/{logo.id}/files", (big, "huge.png"))
    assert response.status_code == 413
    assert "Files can be at most 1 MB" in response.get_data(as_text=True)
    assert_nothing_kept(app)
    huge = png_bytes() + b"\x00" * (3 * 1024 * 1024)  # over the request limit itself: refused from Content-Length
    response = upload(client_web, f"/assets/requests/{logo.id}/files", (huge, "huge.png"), json=True)
    assert response.status_code == 413 and "at most 1 MB" in response.get_json()["error"]
    assert_nothing_kept(app)


def test_closed_requests_take_no_files(app, client_web, world, logo):
    """Uploads to a cancelled or accepted request are refused with the reason (409), nothing kept."""
    service.cancel_request(world.manager, logo)
    db.session.commit()
    response = upload(client_web, f"/assets/requests/{logo.id}/files", (png_bytes(), "logo.png"))
    assert response.status_code == 409 and "This request was cancelled" in response.get_data(as_text=True)
    assert_nothing_kept(app)


def test_an_interrupted_upload_leaves_no_row_and_no_file(app, client_web, logo):
    """The connection drops halfway through the body: no row, no object, no temporary file."""
    token = client_web.csrf_token()
    boundary = "----rapport-test"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="logo.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + png_bytes()
        + b"\x00" * 2_000_000
    )  # the closing boundary never arrives
    response = client_web.request(
        "POST",
        f"/assets/requests/{logo.id}/files",
        input_stream=io.BytesIO(body),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(len(body) + 5_000_000)},
    )
    assert response.status_code == 400
    assert "interrupted" in response.get_data(as_text=True)
    assert_nothing_kept(app)


def test_a_failing_transaction_deletes_the_stored_file(app, client_web, logo, monkeypatch):
    """The file is already in storage when the database write fails: the object is deleted and no row remains."""
    stored_before_failure: list[list] = []

    def broken_record(*args, **kwargs):
        stored_before_failure.append(stored_objects(app))
        raise RuntimeError("the database went away")

    monkeypatch.setattr(activity, "record", broken_record)
    response = upload(client_web, f"/assets/requests/{logo.id}/files", (png_bytes(), "logo.png"))
    assert response.status_code == 500
    assert len(stored_before_failure[0]) == 2  # the file and its thumbnail were written…
    assert_nothing_kept(app)  # …and are gone again


def test_a_request_cancelled_during_the_upload_deletes_the_stored_file(app, client_web, world, logo, monkeypatch):
    """Staff cancel while the body streams in: the upload is refused with a clear 409 and its objects are deleted."""
    real = upload_flow.receive_upload

    def cancel_meanwhile(*args, **kwargs):
        batch = real(*args, **kwargs)
        with db.engine.begin() as conn:  # another request, committed while this one was uploading
            conn.execute(AssetRequest.__table__.update().where(AssetRequest.id == logo.id).values(status="cancelled", row_version=AssetRequest.row_version + 1))
        return batch

    monkeypatch.setattr(upload_flow, "receive_upload", cancel_meanwhile)
    response = upload(client_web, f"/assets/requests/{logo.id}/files", (png_bytes(), "logo.png"), json=True)
    assert response.status_code == 409
    assert "cancelled" in json.dumps(response.get_json())
    assert_nothing_kept(app)


def test_a_returned_request_takes_a_second_version_and_keeps_the_first(app, client_web, world, make_web, logo):
    """After a return, the next upload is version 2; version 1 stays downloadable."""
    upload(client_web, f"/assets/requests/{logo.id}/files", (png_bytes(colour=(1, 2, 3)), "logo-v1.png"))
    manager = make_web()
    manager.login(world.manager)
    assert manager.post(f"/assets/requests/{logo.id}/return", {"note": "Vector, please"}).status_code == 302
    upload(client_web, f"/assets/requests/{logo.id}/files", (png_bytes(colour=(4, 5, 6)), "logo-v2.png"))
    files = db.session.scalars(select(AssetFile).order_by(AssetFile.id)).all()
    assert [(f.original_name, f.version) for f in files] == [("logo-v1.png", 1), ("logo-v2.png", 2)]
    assert client_web.get(f"/assets/files/{files[0].id}").status_code == 200
    page = client_web.text(f"/assets/requests/{logo.id}")
    assert page.index("Version 2") < page.index("Version 1") and "Vector, please" in page


def test_staff_and_clients_share_general_files(client_web, make_web, world):
    """Anything outside the checklist goes to the project's shared files, of any accepted type."""
    response = upload(client_web, f"/projects/{world.project.id}/assets/files", (PDF, "brief.pdf"))
    assert response.status_code == 302
    manager = make_web()
    manager.login(world.manager)
    page = manager.text(f"/projects/{world.project.id}/assets")
    assert "brief.pdf" in page and "Shared files" in page
    response = upload(manager, f"/projects/{world.project.id}/assets/files", (HTML, "page.html"))
    assert response.status_code == 422  # "any" is still an allowlist: no HTML
