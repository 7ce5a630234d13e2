"""Upload throughput against a plain file copy on the same disk, and the server's peak memory.

Writes a test file of ``--size-mb`` (default 1024: a 1 GB file), then in one run:

1. copies it with ``shutil.copyfile`` and fsyncs the copy (the baseline: what the disk does);
2. serves the app with gunicorn (one sync worker, local storage in the same folder) and
   uploads the file to an asset request over HTTP, streamed from disk, as the page's
   script would (multipart, CSRF header, JSON reply);

and prints both throughputs, their ratio, and the worker's peak resident memory
(VmHWM) after a 1 MB upload and after the large one.

    .venv/bin/python bench/upload.py                    # 1 GB in a temporary folder
    .venv/bin/python bench/upload.py --size-mb 256 --workdir /srv/scratch
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import free_port, session_cookie  # noqa: E402

MB = 1024 * 1024
BLOCK = MB
MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"


def seed(database_url: str, upload_dir: Path) -> int:
    """Create a client member of a project and a video request; return the request's id."""
    from portal import create_app
    from portal.auth.passwords import hash_password
    from portal.extensions import db
    from portal.models import AssetRequest, Client, Project, ProjectMember, Role, User

    app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": database_url, "UPLOAD_DIR": str(upload_dir)})
    with app.app_context():
        db.drop_all()
        db.create_all()
        password = hash_password("bench-password-1")
        manager = User(email="manager@bench.example", name="Manager", role=Role.MANAGER, password_hash=password)
        org = Client(name="Bench Co")
        person = User(email="client@bench.example", name="Client", role=Role.CLIENT, client=org, password_hash=password)
        project = Project(client=org, manager=manager, name="Launch film")
        asset_request = AssetRequest(project=project, created_by=manager, title="Raw footage", kinds=["video"])
        db.session.add_all([manager, org, person, project, ProjectMember(project=project, user=person), asset_request])
        db.session.commit()
        request_id = asset_request.id
        db.engine.dispose()
    return request_id


def make_file(path: Path, size: int) -> None:
    """Write ``size`` bytes of incompressible data that starts like an MP4."""
    block = os.urandom(BLOCK)
    with path.open("wb") as out:
        written = 0
        while written < size:
            chunk = (MP4_HEAD + block[len(MP4_HEAD) :] if written == 0 else block)[: size - written]
            out.write(chunk)
            written += len(chunk)
        out.flush()
        os.fsync(out.fileno())


def timed_copy(source: Path, target: Path) -> float:
    """Copy and fsync; return the seconds it took."""
    started = time.perf_counter()
    shutil.copyfile(source, target)
    with target.open("rb+") as handle:
        os.fsync(handle.fileno())
    return time.perf_counter() - started


def timed_hash(source: Path) -> float:
    """Read and SHA-256 the file; return the seconds it took (to explain where upload time goes)."""
    started = time.perf_counter()
    digest = hashlib.sha256()
    with source.open("rb") as handle:
        while chunk := handle.read(BLOCK):
            digest.update(chunk)
    return time.perf_counter() - started


def peak_rss_mb(pid: int) -> float:
    """Return the process's peak resident memory (VmHWM) in MB."""
    return int(re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024


def worker_pid(master: int) -> int:
    """Return the pid of gunicorn's only worker."""
    children = Path(f"/proc/{master}/task/{master}/children")
    for _ in range(300):
        pids = children.read_text().split() if children.exists() else []
        if pids:
            return int(pids[0])
        time.sleep(0.1)
    raise SystemExit("no gunicorn worker started")


def csrf_token(base: str, cookie: str, path: str) -> str:
    """Return the CSRF token of a page."""
    page = urllib.request.urlopen(urllib.request.Request(base + path, headers={"Cookie": cookie})).read().decode()
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def upload(port: int, path: str, cookie: str, token: str, source: Path, name: str) -> tuple[float, dict]:
    """Stream ``source`` as a multipart upload; return (seconds, JSON reply)."""
    size = source.stat().st_size
    boundary = "rapport-bench"
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    started = time.perf_counter()
    conn.putrequest("POST", path)
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(head) + size + len(tail)))
    conn.putheader("Accept", "application/json")
    conn.putheader("X-CSRFToken", token)
    conn.putheader("Cookie", cookie)
    conn.endheaders()
    conn.send(head)
    with source.open("rb") as handle:
        while chunk := handle.read(BLOCK):
            conn.send(chunk)
    conn.send(tail)
    response = conn.getresponse()
    reply = json.loads(response.read() or b"{}")
    elapsed = time.perf_counter() - started
    conn.close()
    if response.status != 201:
        raise SystemExit(f"upload failed: {response.status} {reply}")
    return elapsed, reply


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the test file in MiB (default 1024)")
    parser.add_argument("--workdir", default="", help="folder for the file, its copy and the upload store (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder afterwards")
    args = parser.parse_args()
    size = args.size_mb * MB

    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="rapport-bench-upload-"))
    workdir.mkdir(parents=True, exist_ok=True)
    source, small, copy = workdir / "source.mp4", workdir / "small.mp4", workdir / "copy.mp4"
    upload_dir = workdir / "uploads"
    database_url = f"sqlite:///{workdir / 'bench.db'}"
    print(f"writing a {args.size_mb} MiB test file in {workdir} …", flush=True)
    make_file(source, size)
    make_file(small, MB)
    request_id = seed(database_url, upload_dir)

    copy_seconds = timed_copy(source, copy)
    copy.unlink()
    hash_seconds = timed_hash(source)

    port = free_port()
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": "bench",
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_UPLOAD_DIR": str(upload_dir),
        "PORTAL_MAIL_DIR": str(workdir / "mail"),
        "PORTAL_MAX_UPLOAD_MB": str(args.size_mb + 16),
        "PORTAL_SESSION_COOKIE_SECURE": "false",
        "PORTAL_REMEMBER_COOKIE_SECURE": "false",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--timeout", "3600", "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/login").read()
                break
            except OSError:
                time.sleep(0.1)
        worker = worker_pid(server.pid)
        cookie = session_cookie(base, "client@bench.example")
        path = f"/assets/requests/{request_id}/files"
        token = csrf_token(base, cookie, f"/assets/requests/{request_id}")
        upload(port, path, cookie, token, small, "warm-up.mp4")
        upload(port, path, cookie, token, small, "small.mp4")
        memory_small = peak_rss_mb(worker)
        upload_seconds, reply = upload(port, path, cookie, token, source, "large.mp4")
        memory_large = peak_rss_mb(worker)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    stored = reply["files"][0]["size"]
    if stored != size:
        raise SystemExit(f"stored {stored} bytes, expected {size}")
    mib = size / MB
    copy_rate, upload_rate, hash_rate = mib / copy_seconds, mib / upload_seconds, mib / hash_seconds
    print()
    print(f"file size                          {mib:10.0f} MiB")
    print(f"plain copy + fsync (same disk)     {copy_rate:10.1f} MiB/s  ({copy_seconds:.2f} s)")
    print(f"SHA-256 of the file alone          {hash_rate:10.1f} MiB/s  ({hash_seconds:.2f} s)")
    print(f"upload over HTTP (gunicorn)        {upload_rate:10.1f} MiB/s  ({upload_seconds:.2f} s)")
    print(f"upload / copy                      {upload_rate / copy_rate:10.2f}")
    print(f"worker peak RSS after 1 MiB upload {memory_small:10.1f} MiB")
    print(f"worker peak RSS after large upload {memory_large:10.1f} MiB  (growth {memory_large - memory_small:+.1f} MiB)")
    if not args.keep and not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
