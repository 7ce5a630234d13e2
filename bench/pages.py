"""Throughput of the main pages against a bare "hello world" route of the same app.

Seeds a large agency, serves it with gunicorn (2 workers), loads each page with wrk
(a real HTTP load generator), and prints requests per second, p50 and p95 latency,
each next to the hello-world route measured the same way in the same run.

    .venv/bin/python bench/pages.py                       # SQLite in a temporary folder
    .venv/bin/python bench/pages.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LUA = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %f %f %f %d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, summary.errors.status + summary.errors.connect + summary.errors.timeout))
end
"""


def seed(database_url: str, clients: int, projects: int) -> None:
    """Fill the database with an agency of ``clients`` organisations and ``projects`` projects."""
    from portal import create_app
    from portal.auth.passwords import hash_password
    from portal.extensions import db
    from portal.models import Client, Project, ProjectMember, Role, User

    app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": database_url})
    with app.app_context():
        db.drop_all()
        db.create_all()
        password = hash_password("bench-password-1")
        managers = [User(email=f"manager{i}@bench.example", name=f"Manager {i}", role=Role.MANAGER, password_hash=password) for i in range(20)]
        db.session.add(User(email="admin@bench.example", name="Admin", role=Role.ADMIN, password_hash=password))
        db.session.add_all(managers)
        orgs = [Client(name=f"Client organisation {i:03d}") for i in range(clients)]
        db.session.add_all(orgs)
        db.session.flush()
        people = []
        for org in orgs:
            for n in range(2):
                people.append(User(email=f"c{org.id}-{n}@bench.example", name=f"Client {org.id}/{n}", role=Role.CLIENT, client=org, password_hash=password))
        db.session.add_all(people)
        db.session.flush()
        for i in range(projects):
            org = orgs[i % clients]
            project = Project(client=org, manager=managers[i % len(managers)], name=f"Project {i:04d}", description="Benchmark project")
            db.session.add(project)
            for person in people[(org.id - orgs[0].id) * 2 : (org.id - orgs[0].id) * 2 + 2]:
                db.session.add(ProjectMember(project=project, user=person, is_approver=True))
        db.session.commit()
        db.engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session_cookie(base: str, email: str) -> str:
    """Log in through the form and return the Cookie header value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    token = token or re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    data = urllib.parse.urlencode({"csrf_token": token.group(1), "email": email, "password": "bench-password-1"}).encode()
    opener.open(f"{base}/login", data=data).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk(url: str, cookie: str, duration: int, connections: int, script: str) -> tuple[float, float, float, int]:
    """Run wrk against ``url``; return (requests/s, p50 ms, p95 ms, errors)."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "-s", script, "-H", f"Cookie: {cookie}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"RESULT (\S+) (\S+) (\S+) (\d+)", out)
    assert match, out
    return float(match[1]), float(match[2]), float(match[3]), int(match[4])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/pages.py needs wrk (Debian: apt-get install wrk)")

    workdir = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    print(f"seeding {args.clients} clients, {args.projects} projects into {database_url.split('@')[-1]} …", flush=True)
    seed(database_url, args.clients, args.projects)
    script = workdir / "report.lua"
    script.write_text(LUA)

    port = free_port()
    env = {**os.environ, "PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "bench", "PORTAL_DATABASE_URL": database_url,
           "PORTAL_SESSION_COOKIE_SECURE": "false", "PORTAL_REMEMBER_COOKIE_SECURE": "false"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "bench.wsgi_hello:app"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/__bench/hello").read()
                break
            except OSError:
                time.sleep(0.1)
        client_cookie = session_cookie(base, "c1-0@bench.example")
        manager_cookie = session_cookie(base, "manager0@bench.example")
        admin_cookie = session_cookie(base, "admin@bench.example")
        pages = [
            ("hello world (baseline)", "/__bench/hello", client_cookie),
            ("client home", "/", client_cookie),
            ("manager home", "/", manager_cookie),
            ("admin home (all projects)", "/", admin_cookie),
            ("project page (client)", "/projects/1", client_cookie),
        ]
        print(f"\ngunicorn 2 workers, wrk {args.connections} connections × {args.duration}s per page\n")
        print(f"{'page':<28}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}{'req/s vs hello':>16}")
        baseline = None
        for label, path, cookie in pages:
            rps, p50, p95, errors = wrk(base + path, cookie, args.duration, args.connections, str(script))
            baseline = baseline or rps
            print(f"{label:<28}{rps:>9.0f}{p50:>9.1f}{p95:>9.1f}{errors:>8}{rps / baseline:>15.2f}×")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
