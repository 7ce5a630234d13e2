"""A storage that fails mid-upload (disk full, object store down): a clear 503, nothing kept, nothing recorded."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AssetFile
from portal.storage.base import BACKGROUND_AFTER
from portal.storage.local import _LocalWriter
from tests.integration.asset_helpers import PDF, stored_objects, upload

FAILED = "The file could not be stored just now, so nothing was saved. Try again in a few minutes."


@pytest.fixture
def full_disk(monkeypatch):
    """Every write to local storage fails as a full disk does."""

    def failing(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_LocalWriter, "_write", failing)


@pytest.mark.parametrize("script", [False, True], ids=["form", "script"])
def test_a_full_disk_is_a_503_with_a_clear_message_and_leaves_nothing(app, web, world, full_disk, script):
    """The page's form gets the page again with the message; the page's script gets it as JSON. No row, no file."""
    web.login(world.own_client)
    response = upload(web, f"/projects/{world.project.id}/assets/files", (PDF, "brief.pdf"), json=script)
    assert response.status_code == 503
    if script:
        assert response.get_json()["error"] == FAILED
    else:
        assert FAILED in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AssetFile)) == 0
    assert stored_objects(app) == []


def test_a_failure_on_the_writers_thread_is_the_same_503(app, web, world, monkeypatch):
    """A large file whose later chunks fail on the writer's thread: the same answer, the same nothing left."""
    real = _LocalWriter._write
    written = [0]

    def failing_later(self, data):
        written[0] += len(data)
        if written[0] > BACKGROUND_AFTER + 1024 * 1024:
            raise OSError(5, "Input/output error")
        real(self, data)

    monkeypatch.setattr(_LocalWriter, "_write", failing_later)
    web.login(world.own_client)
    big = PDF + os.urandom(BACKGROUND_AFTER + 3 * 1024 * 1024)
    response = upload(web, f"/projects/{world.project.id}/assets/files", (big, "big.pdf"), json=True)
    assert response.status_code == 503 and response.get_json()["error"] == FAILED
    assert db.session.scalar(select(func.count()).select_from(AssetFile)) == 0
    assert stored_objects(app) == []
