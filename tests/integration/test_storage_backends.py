"""Both storage backends keep the same promises: local disk on a temporary folder, S3 against a real HTTP endpoint (moto's server)."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from portal import create_app
from portal.config import ConfigError
from portal.storage import LocalStorage, ObjectNotFound, S3Storage, Storage, storage_for
from tests.conftest import app_config

S3_REGION = "eu-central-1"
S3_KEY_ID = "testing-key"
S3_SECRET = "testing-secret"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Start moto's S3 server on a free local port: a real HTTP endpoint boto3 talks to."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    """Create an empty bucket of its own for the test."""
    name = f"rapport-{secrets.token_hex(4)}"
    boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name=S3_REGION, aws_access_key_id=S3_KEY_ID, aws_secret_access_key=S3_SECRET
    ).create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": S3_REGION})
    return name


def s3_storage(endpoint: str, bucket: str, **extra) -> S3Storage:
    """Return an S3Storage configured as PORTAL_S3_* would configure it."""
    return S3Storage(bucket, endpoint_url=endpoint, access_key_id=S3_KEY_ID, secret_access_key=S3_SECRET, region=S3_REGION, **extra)


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path: Path) -> Storage:
    """Each backend in turn: local disk under a temporary folder, and S3 on moto's server."""
    if request.param == "local":
        return LocalStorage(tmp_path / "uploads")
    return s3_storage(request.getfixturevalue("s3_endpoint"), request.getfixturevalue("s3_bucket"))


def leftovers(storage: Storage) -> list[str]:
    """Return whatever the backend still holds: files on disk, or objects and unfinished multipart uploads."""
    if isinstance(storage, LocalStorage):
        return [str(p) for p in storage.root.rglob("*") if p.is_file()] if storage.root.exists() else []
    objects = storage.client.list_objects_v2(Bucket=storage.bucket).get("Contents", [])
    uploads = storage.client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", [])
    return [o["Key"] for o in objects] + [f"upload:{u['Key']}" for u in uploads]


def test_save_records_size_and_sha256_and_reads_back(storage):
    """What goes in comes out byte for byte, and the recorded size and SHA-256 are the real ones."""
    data = os.urandom(300_000)
    stored = storage.save(io.BytesIO(data), "assets")
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.key.startswith("assets/") and storage.exists(stored.key)
    assert storage.size(stored.key) == len(data)
    with storage.open(stored.key) as handle:
        assert handle.read() == data
    assert b"".join(storage.iter_range(stored.key)) == data


def test_ranges_and_seeking(storage):
    """A byte range is exact, and the file from open() can seek (Pillow needs it)."""
    data = bytes(range(256)) * 40
    key = storage.save(io.BytesIO(data), "assets").key
    assert b"".join(storage.iter_range(key, 100, 199)) == data[100:200]
    assert b"".join(storage.iter_range(key, len(data) - 5)) == data[-5:]
    with storage.open(key) as handle:
        handle.seek(5000)
        assert handle.read(10) == data[5000:5010]
        handle.seek(-3, io.SEEK_END)
        assert handle.read() == data[-3:]


def test_keys_are_generated_and_unguessable(storage):
    """Two saves never share a key, and keys carry no user-chosen name."""
    first = storage.save(io.BytesIO(b"a"), "assets").key
    second = storage.save(io.BytesIO(b"a"), "assets").key
    assert first != second
    assert len(first.rsplit("/", 1)[1]) == 32


def test_delete_and_missing_objects(storage):
    """Deleting removes the object (twice is fine); reading a missing object says so before any byte is sent."""
    key = storage.save(io.BytesIO(b"hello"), "assets").key
    storage.delete(key)
    storage.delete(key)
    assert not storage.exists(key)
    with pytest.raises(ObjectNotFound):
        storage.iter_range(key)
    with pytest.raises(ObjectNotFound):
        storage.open(key)
    assert leftovers(storage) == []


def test_an_aborted_write_leaves_nothing(storage):
    """A refused or interrupted upload (the writer aborted midway, even after several parts) leaves no object and no temporary file."""
    chunk = os.urandom(1024 * 1024)
    with pytest.raises(RuntimeError), storage.writer("assets") as out:  # noqa: PT012 - the aborted writer is what is under test
        for _ in range(3):
            out.write(chunk)
        raise RuntimeError("the client went away")
    assert not storage.exists(out.key)
    assert leftovers(storage) == []


def test_a_large_object_written_on_the_writers_thread_is_exact(storage):
    """Past BACKGROUND_AFTER the chunks are hashed and written on a thread: the bytes, size and SHA-256 are still exact and in order."""
    from portal.storage.base import BACKGROUND_AFTER

    chunks = [os.urandom(700_000) for _ in range(BACKGROUND_AFTER // 700_000 + 6)]
    with storage.writer("assets") as out:
        for chunk in chunks:
            out.write(bytearray(chunk))  # a mutable buffer: the writer keeps its own copy
        stored = out.commit()
    data = b"".join(chunks)
    assert stored.size == len(data) and stored.sha256 == hashlib.sha256(data).hexdigest()
    with storage.open(stored.key) as handle:
        assert handle.read() == data


def test_an_aborted_large_write_leaves_nothing(storage):
    """A large upload refused midway (its chunks still queued for the writer's thread) leaves no object and no temporary file."""
    from portal.storage.base import BACKGROUND_AFTER

    chunk = os.urandom(1024 * 1024)
    with pytest.raises(RuntimeError), storage.writer("assets") as out:  # noqa: PT012 - the aborted writer is what is under test
        for _ in range(BACKGROUND_AFTER // len(chunk) + 8):
            out.write(chunk)
        raise RuntimeError("the file is too large")
    assert not storage.exists(out.key)
    assert leftovers(storage) == []


def test_a_failure_on_the_writers_thread_reaches_the_upload_and_leaves_nothing(tmp_path, monkeypatch):
    """A disk that fails while the thread writes: the next write or the commit raises its error, and the object is gone."""
    from portal.storage.base import BACKGROUND_AFTER
    from portal.storage.local import _LocalWriter

    storage = LocalStorage(tmp_path / "uploads")
    written = [0]
    real = _LocalWriter._write

    def failing(self, data):
        written[0] += len(data)
        if written[0] > BACKGROUND_AFTER + 2 * 1024 * 1024:
            raise OSError(28, "No space left on device")
        real(self, data)

    monkeypatch.setattr(_LocalWriter, "_write", failing)
    out = storage.writer("assets")
    with pytest.raises(OSError, match="No space left on device"):  # noqa: PT012 - raised by a later write or by commit
        for _ in range(BACKGROUND_AFTER // (1024 * 1024) + 12):
            out.write(os.urandom(1024 * 1024))
        out.commit()
    out.abort()
    assert not storage.exists(out.key)
    assert leftovers(storage) == []


@pytest.mark.parametrize("path", ["../../etc/passwd", "assets/../../x", "/etc/passwd", "assets", "Assets/2026/01/abc", "assets/2026/01/a b"])
def test_keys_from_outside_are_refused(storage, path):
    """Only keys of the generated shape are used, so none can name a path outside the store."""
    with pytest.raises(ValueError, match="invalid storage key"):
        storage.exists(path)


def test_local_writes_go_through_a_temporary_file_that_is_renamed(tmp_path):
    """Until commit the bytes live in .incoming/ under a temporary name; the key's file appears whole at commit."""
    storage = LocalStorage(tmp_path / "uploads")
    with storage.writer("assets") as out:
        out.write(b"partial")
        target = storage.path(out.key)
        assert not target.exists()
        assert [p.suffix for p in (storage.root / ".incoming").iterdir()] == [".part"]
        stored = out.commit()
    assert target.read_bytes() == b"partial" and stored.size == 7
    assert list((storage.root / ".incoming").iterdir()) == []


def test_stale_temporary_files_are_cleared(tmp_path):
    """A .part file a killed process left behind is removed once it is old."""
    storage = LocalStorage(tmp_path / "uploads")
    incoming = storage.root / ".incoming"
    incoming.mkdir(parents=True)
    old, fresh = incoming / "old.part", incoming / "fresh.part"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    an_old_time = time.time() - 2 * 24 * 3600
    os.utime(old, (an_old_time, an_old_time))
    assert storage.remove_stale_parts() == 1
    assert not old.exists() and fresh.exists()


def test_s3_streams_large_objects_as_a_multipart_upload(s3_endpoint, s3_bucket):
    """An object larger than one part is sent in parts (memory holds one part) and arrives whole."""
    storage = s3_storage(s3_endpoint, s3_bucket, part_size=5 * 1024 * 1024)  # the smallest part S3 allows
    data = os.urandom(12 * 1024 * 1024 + 123)
    calls: list[str] = []
    client = storage.client
    client.meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))
    stored = storage.save(io.BytesIO(data), "assets")
    assert calls.count("UploadPart") == 3 and "CompleteMultipartUpload" in calls
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert b"".join(storage.iter_range(stored.key)) == data


def test_storage_for_chooses_the_backend_from_configuration(database_url, tmp_path, s3_endpoint, s3_bucket):
    """PORTAL_STORAGE picks local disk (under UPLOAD_DIR) or S3 (bucket, endpoint and credentials from PORTAL_S3_*)."""
    local = create_app(app_config(database_url, tmp_path))
    assert isinstance(storage_for(local), LocalStorage)
    assert storage_for(local).root == (tmp_path / "uploads").resolve()
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
    backend = storage_for(s3_app)
    assert isinstance(backend, S3Storage) and backend.bucket == s3_bucket
    key = backend.save(io.BytesIO(b"through the app"), "assets").key
    assert backend.exists(key)


def test_storage_configuration_mistakes_stop_the_start(database_url, tmp_path):
    """An unknown backend, or S3 without a bucket, fails loudly at start-up."""
    with pytest.raises(ConfigError, match="PORTAL_STORAGE"):
        create_app(app_config(database_url, tmp_path, STORAGE="ftp"))
    with pytest.raises(ConfigError, match="PORTAL_S3_BUCKET"):
        create_app(app_config(database_url, tmp_path, STORAGE="s3"))
