"""Downloads and previews: authorised, streamed, resumable, and never rendered by the browser."""

from __future__ import annotations

import io
import os
from urllib.parse import unquote

import pytest
from PIL import Image

from portal import create_app
from portal.assets import service
from portal.extensions import db
from portal.models import AssetFile
from portal.storage import S3Storage, storage_for
from tests.conftest import app_config
from tests.integration.asset_helpers import PDF, SVG, png_bytes, store_file, upload
from tests.integration.test_storage_backends import S3_KEY_ID, S3_REGION, S3_SECRET, s3_bucket, s3_endpoint  # noqa: F401 - fixtures


@pytest.fixture
def brief(world) -> AssetFile:
    """A 200 kB shared file with a Turkish name."""
    shared = store_file(world.own_client, world.project, None, PDF + os.urandom(200_000), "Müşteri özeti – şubat.pdf")
    db.session.commit()
    return shared


@pytest.fixture
def client_web(web, world):
    """The client member, logged in."""
    web.login(world.own_client)
    return web


def body_of(response) -> bytes:
    """Return the streamed body."""
    return b"".join(response.response)


def test_a_download_is_an_attachment_with_safe_headers(client_web, brief):
    """Attachment with an RFC 6266 filename*, nosniff, a sandboxing CSP, the real type and an ETag."""
    response = client_web.get(f"/assets/files/{brief.id}")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == "Müşteri özeti – şubat.pdf"
    assert 'filename="Musteri ozeti subat.pdf"' in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox") and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["ETag"] == f'"{brief.sha256}"'
    assert response.headers["Accept-Ranges"] == "bytes"
    assert int(response.headers["Content-Length"]) == brief.size
    assert "no-store" in response.headers["Cache-Control"]
    assert len(response.get_data()) == brief.size


def test_ranges_resume_large_downloads(client_web, brief, app):
    """Single ranges get 206 with Content-Range; a range past the end 416; several ranges or a stale If-Range the whole file."""
    with storage_for(app).open(brief.storage_key) as handle:
        data = handle.read()
    url = f"/assets/files/{brief.id}"

    part = client_web.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{brief.size}"
    assert part.headers["Content-Length"] == "100" and part.get_data() == data[100:200]

    tail = client_web.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.get_data() == data[-10:]
    rest = client_web.get(url, headers={"Range": f"bytes={brief.size - 3}-"})
    assert rest.status_code == 206 and rest.get_data() == data[-3:]

    beyond = client_web.get(url, headers={"Range": f"bytes={brief.size + 10}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{brief.size}"

    several = client_web.get(url, headers={"Range": "bytes=0-1,5-6"})
    assert several.status_code == 200 and len(several.get_data()) == brief.size

    stale = client_web.get(url, headers={"Range": "bytes=0-9", "If-Range": '"another-version"'})
    assert stale.status_code == 200 and len(stale.get_data()) == brief.size
    fresh = client_web.get(url, headers={"Range": "bytes=0-9", "If-Range": f'"{brief.sha256}"'})
    assert fresh.status_code == 206 and fresh.get_data() == data[:10]

    cached = client_web.get(url, headers={"If-None-Match": f'"{brief.sha256}"'})
    assert cached.status_code == 304 and cached.get_data() == b""


def test_markup_is_never_served_as_markup(client_web, world):
    """An uploaded SVG (script inside) is downloaded as bytes, never shown inline, and has no preview."""
    svg = store_file(world.own_client, world.project, None, SVG, "logo.svg")
    db.session.commit()
    response = client_web.get(f"/assets/files/{svg.id}")
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert client_web.get(f"/assets/files/{svg.id}/thumbnail").status_code == 404


def test_image_previews_are_our_own_small_re_encoding(client_web, world):
    """The thumbnail is a small PNG or JPEG that Pillow made, shown inline with nosniff."""
    logo = store_file(world.own_client, world.project, None, png_bytes(1600, 1200), "logo.png")
    transparent = store_file(world.own_client, world.project, None, png_bytes(40, 40, mode="RGBA"), "mark.png")
    db.session.commit()
    response = client_web.get(f"/assets/files/{logo.id}/thumbnail")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    preview = Image.open(io.BytesIO(response.get_data()))
    assert preview.format == "JPEG" and max(preview.size) == 480
    alpha = client_web.get(f"/assets/files/{transparent.id}/thumbnail")
    assert alpha.headers["Content-Type"] == "image/png" and Image.open(io.BytesIO(alpha.get_data())).mode == "RGBA"
    assert f'src="/assets/files/{logo.id}/thumbnail"' in client_web.text(f"/projects/{world.project.id}/assets")


def test_a_file_missing_from_storage_is_a_404(client_web, brief, app):
    """If the bytes were lost, the download says not found instead of failing mid-stream."""
    storage_for(app).delete(brief.storage_key)
    assert client_web.get(f"/assets/files/{brief.id}").status_code == 404


def test_a_preview_missing_from_storage_is_a_logged_404(client_web, world, app, caplog):
    """If a thumbnail's bytes were lost, the preview says not found (and the error is logged); the file still downloads."""
    logo = store_file(world.own_client, world.project, None, png_bytes(900, 700), "logo.png")
    db.session.commit()
    storage_for(app).delete(logo.thumbnail_key)
    assert client_web.get(f"/assets/files/{logo.id}/thumbnail").status_code == 404
    assert f"stored thumbnail {logo.thumbnail_key} is missing" in caplog.text
    assert client_web.get(f"/assets/files/{logo.id}").status_code == 200


def test_the_s3_backend_serves_the_same_way(database_url, tmp_path, world, s3_endpoint, s3_bucket):  # noqa: F811
    """With PORTAL_STORAGE=s3, uploads go to the bucket and downloads stream back with ranges."""
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
    from portal.models import Project, User
    from tests.conftest import Web

    project_id, manager_id = world.project.id, world.manager.id
    with s3_app.app_context():
        project, manager = db.session.get(Project, project_id), db.session.get(User, manager_id)
        with s3_app.test_request_context():
            asset_request = service.create_request(manager, project, title="Logo", kinds=["images"])
        db.session.commit()
        request_id = asset_request.id
        web = Web(s3_app.test_client())
        web.login(world.own_client.email)
        image = png_bytes(900, 700)
        assert upload(web, f"/assets/requests/{request_id}/files", (image, "logo.png")).status_code == 302
        stored = db.session.query(AssetFile).one()
        storage = storage_for(s3_app)
        assert isinstance(storage, S3Storage) and storage.exists(stored.storage_key) and storage.exists(stored.thumbnail_key)
        whole = web.get(f"/assets/files/{stored.id}")
        assert whole.status_code == 200 and whole.get_data() == image
        part = web.get(f"/assets/files/{stored.id}", headers={"Range": "bytes=8-15"})
        assert part.status_code == 206 and part.get_data() == image[8:16]
        assert web.get(f"/assets/files/{stored.id}/thumbnail").headers["Content-Type"] == "image/jpeg"
        db.session.remove()


def test_file_sizes_read_naturally(app):
    """Sizes are shown in units of 1024, like the upload limit, with the reader's decimal mark."""
    from portal.storage.downloads import human_size

    with app.test_request_context():
        assert human_size(512) == "512 B"
        assert human_size(1536) == "2 KB"
        assert human_size(1536 * 1024) == "1.5 MB"
        assert human_size(512 * 1024 * 1024) == "512 MB"
        assert human_size(3 * 1024**3 + 1024**3 // 10) == "3.1 GB"
