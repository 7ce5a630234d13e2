"""Browser tests: a live server on a free port, driven by Playwright in Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from portal.assets import service as assets
from portal.extensions import db
from portal.models import AssetRequest, Update, UpdateKind, UpdateStatus
from portal.timeutil import local_today, utcnow
from tests.integration.deliverables_support import make_deliverable, submit
from tests.integration.goals_support import propose

TRANSLATIONS = Path(__file__).resolve().parents[2] / "portal" / "translations"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def chromium_executable() -> str | None:
    """Return a Chromium on this machine (PORTAL_CHROMIUM, else the PATH), or None for Playwright's."""
    configured = os.environ.get("PORTAL_CHROMIUM")
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session", autouse=True)
def compiled_translations(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Compile the translation catalogs, as `make translations` does: the .mo files are build output.

    Each catalog is compiled to a scratch file, then moved over the old one in one step:
    under pytest-xdist another worker may be reading it (or compiling it) at that moment.
    """
    pybabel = Path(sys.executable).with_name("pybabel")
    scratch = tmp_path_factory.mktemp("catalogs")
    for po_file in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        locale = po_file.parents[1].name
        compiled = scratch / f"{locale}.mo"
        result = subprocess.run(
            [str(pybabel), "compile", "-i", str(po_file), "-o", str(compiled), "-l", locale], capture_output=True, text=True, check=False
        )
        if result.returncode != 0 or not compiled.exists():
            pytest.fail(f"the {locale} translation catalog does not compile:\n{result.stderr}", pytrace=False)
        staged = po_file.with_name(f".messages.mo.{os.getpid()}")
        shutil.copyfile(compiled, staged)
        os.replace(staged, po_file.with_suffix(".mo"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch the machine's Chromium headless with the flags this sandbox needs."""
    args = {**browser_type_launch_args, "headless": True, "args": CHROMIUM_ARGS}
    executable = chromium_executable()
    if executable:
        args["executable_path"] = executable
    return args


@pytest.fixture
def browser_context_args(browser_context_args: dict) -> dict:
    """Open pages in English, in a desktop-sized window, in the agency's time zone."""
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "Europe/Istanbul", "viewport": {"width": 1280, "height": 900}}


class LiveServer:
    """The app served over real HTTP on a free local port, in a background thread."""

    def __init__(self, app: Flask) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="live-server", daemon=True)

    def start(self) -> None:
        """Start serving in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.shutdown()
        self._thread.join(timeout=10)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """Serve the test's app (and its database) over HTTP for the browser."""
    server = LiveServer(app)
    app.config["BASE_URL"] = server.url
    server.start()
    yield server
    server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder as a browser test."""
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def busy_world(world):
    """The client has a deliverable to review, a goal to sign and an overdue request; the project has an update."""
    today = local_today(world.project.timezone)
    request = assets.create_request(world.manager, world.project, title="Logo files", kinds=["images"])
    db.session.commit()
    db.session.execute(AssetRequest.__table__.update().where(AssetRequest.id == request.id).values(due_date=today - timedelta(days=2)))
    propose(world.manager, world.project, title="More online orders")
    submit(world.manager, make_deliverable(world.manager, world.project, title="Homepage design"))
    weekly = Update(project=world.project, kind=UpdateKind.WEEKLY, status=UpdateStatus.PUBLISHED, title="Week 47", body="Quiet week.")
    weekly.published_at = utcnow() - timedelta(days=1)
    db.session.add(weekly)
    db.session.commit()
    return world
