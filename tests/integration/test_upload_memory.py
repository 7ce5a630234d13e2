"""A real server process keeps its memory flat while a large upload streams through it.

The app runs under gunicorn in a subprocess (against a SQLite file of its own); a file
eight times larger than the memory growth we allow is uploaded over a plain HTTP
connection, and the worker's peak resident memory (VmHWM, from /proc) is compared
with its peak after a small upload.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "memory test passphrase"
ALLOWED_GROWTH_MB = 32
LARGE_MB = 256  # eight times the allowed growth
MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc")


def free_port() -> int:
    """Return a free local TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """Return the process's peak resident memory (VmHWM) in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def seed(database_url: str, upload_dir: Path) -> int:
    """Create the schema, a client member of a project and a video request; return the request's id."""
    from portal import create_app
    from portal.auth.passwords import hash_password
    from portal.extensions import db
    from portal.models import AssetRequest, Client, Project, ProjectMember, Role, User

    app = create_app({"ENV": "testing", "SECRET_KEY": "seed", "DATABASE_URL": database_url, "UPLOAD_DIR": str(upload_dir)})
    with app.app_context():
        db.create_all()
        manager = User(email="manager@memory.example", name="Manager", role=Role.MANAGER, password_hash=hash_password(PASSWORD))
        org = Client(name="Memory Co")
        person = User(email="client@memory.example", name="Client", role=Role.CLIENT, client=org, password_hash=hash_password(PASSWORD))
        project = Project(client=org, manager=manager, name="Launch film")
        db.session.add_all([manager, org, person, project, ProjectMember(project=project, user=person)])
        asset_request = AssetRequest(project=project, created_by=manager, title="Raw footage", kinds=["video"])
        db.session.add(asset_request)
        db.session.commit()
        request_id = asset_request.id
        db.engine.dispose()
    return request_id


class Server:
    """gunicorn serving wsgi:app with one sync worker."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--timeout", "300", "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", "wsgi:app"],
            cwd=ROOT,
            env=env,
        )

    def worker_pid(self) -> int:
        """Return the pid of the worker process (the master's only child)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pids = children.read_text().split() if children.exists() else []
            if pids:
                return int(pids[0])
            assert self.process.poll() is None, "gunicorn exited"
            time.sleep(0.1)  # waiting for another process to start; not a timing assertion
        raise AssertionError("no gunicorn worker started")

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                assert self.process.poll() is None, "gunicorn exited"
                time.sleep(0.1)  # waiting for another process to listen; not a timing assertion
        raise AssertionError("gunicorn did not start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Browser:
    """Just enough of a browser over http.client: cookies, the CSRF token, streamed uploads."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def _request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        all_headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        text = response.read().decode("utf-8", "replace")
        conn.close()
        return response.status, text

    def csrf(self, path: str) -> str:
        status, page = self._request("GET", path)
        assert status == 200, (path, status)
        return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)

    def login(self, email: str) -> None:
        token = self.csrf("/login")
        form = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": PASSWORD}).encode()
        status, _ = self._request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302

    def upload(self, path: str, token: str, name: str, size: int) -> dict:
        """Stream a generated video of ``size`` bytes as multipart, never holding it whole; return the JSON reply."""
        boundary = "rapport-memory-test"
        head = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            "Content-Type: video/mp4\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        conn.putrequest("POST", path)
        for key, value in {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + size + len(tail)),
            "Accept": "application/json",
            "X-CSRFToken": token,
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }.items():
            conn.putheader(key, value)
        conn.endheaders()
        conn.send(head)
        digest = hashlib.sha256()
        block = os.urandom(1024 * 1024)
        first = MP4_HEAD + block[len(MP4_HEAD) :]
        sent = 0
        while sent < size:
            chunk = (first if sent == 0 else block)[: size - sent]
            conn.send(chunk)
            digest.update(chunk)
            sent += len(chunk)
        conn.send(tail)
        response = conn.getresponse()
        reply = json.loads(response.read() or b"{}")
        conn.close()
        assert response.status == 201, (response.status, reply)
        reply["sent_sha256"] = digest.hexdigest()
        return reply


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Server, int, Path]]:
    """A seeded SQLite database and gunicorn serving the app on it."""
    database_url = f"sqlite:///{tmp_path / 'memory.db'}"
    upload_dir = tmp_path / "uploads"
    request_id = seed(database_url, upload_dir)
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": "memory-test",
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_UPLOAD_DIR": str(upload_dir),
        "PORTAL_MAIL_DIR": str(tmp_path / "mail"),
        "PORTAL_MAX_UPLOAD_MB": "1024",
        "PORTAL_SESSION_COOKIE_SECURE": "false",
        "PORTAL_REMEMBER_COOKIE_SECURE": "false",
    }
    running = Server(env)
    try:
        running.wait_until_up()
        yield running, request_id, upload_dir
    finally:
        running.stop()


def test_a_large_upload_does_not_grow_the_servers_memory(server):
    """256 MB through gunicorn: the worker's peak memory grows by less than 32 MB over a 1 MB upload's."""
    running, request_id, upload_dir = server
    worker = running.worker_pid()
    browser = Browser(running.port)
    browser.login("client@memory.example")
    url = f"/assets/requests/{request_id}/files"
    token = browser.csrf(f"/assets/requests/{request_id}")

    browser.upload(url, token, "warm-up.mp4", 1024 * 1024)  # loads everything an upload touches
    small = browser.upload(url, token, "small.mp4", 1024 * 1024)
    baseline = peak_rss_mb(worker)
    large = browser.upload(url, token, "large.mp4", LARGE_MB * 1024 * 1024)
    peak = peak_rss_mb(worker)

    assert running.worker_pid() == worker, "the worker was replaced during the test"
    growth = peak - baseline
    assert growth < ALLOWED_GROWTH_MB, f"peak memory grew by {growth:.1f} MB for a {LARGE_MB} MB upload (baseline {baseline:.1f} MB)"
    assert large["files"][0]["size"] == LARGE_MB * 1024 * 1024 and small["files"][0]["size"] == 1024 * 1024
    stored = [p for p in upload_dir.rglob("*") if p.is_file() and p.stat().st_size == LARGE_MB * 1024 * 1024]
    assert len(stored) == 1
    digest = hashlib.sha256()
    with stored[0].open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    assert digest.hexdigest() == large["sent_sha256"]
