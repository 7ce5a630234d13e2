"""Throughput of the main pages against a bare "hello world" route of the same app.

Seeds a large agency, serves it with gunicorn (2 workers), loads each page with wrk
(a real HTTP load generator), and prints requests per second, p50 and p95 latency,
each next to the hello-world route measured the same way in the same run, and the SQL
statements one request of the page runs (counted in-process on the same database).
Besides the table, one JSON line per page (``{"page": …, "rps": …, "ratio_to_hello": …,
"p50_ms": …, "p95_ms": …, "errors": …, "queries": …, "load_average": …}``) for scripts.

    make bench-tools                                      # wrk (Debian's package, as root)
    .venv/bin/python bench/pages.py                       # SQLite in a temporary folder
    .venv/bin/python bench/pages.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/pages.py --projects 10000 --connections 16 --duration 20

The database at --database-url is emptied (every table dropped and created again).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
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


def seed(database_url: str, clients: int, projects: int, goals_each: int = 10, deliverables_each: int = 10) -> None:
    """Fill the database with a large agency in bulk inserts (no services, no activity log).

    ``clients`` organisations with two people each, ``projects`` projects over 20 managers,
    ``goals_each`` goals and ``deliverables_each`` deliverables per project in every state,
    three asset requests (overdue, in review, accepted) and a published update per project,
    with concerns, call suggestions and silent projects sprinkled in, so every group of the
    manager's queue and every block of the pages has work to do.

    Then the stored goal progress is refreshed (``portal.goals.stored.refresh``, what the
    scheduler's ``refresh_goal_progress`` job does every few minutes), so the pages are
    measured in production's steady state, not on goals no job has seen yet.
    """
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from sqlalchemy import insert

    from portal import create_app
    from portal.auth.passwords import hash_password
    from portal.extensions import db
    from portal.goals import stored
    from portal.models import (
        AckChoice,
        AssetRequest,
        AssetRequestStatus,
        Client,
        Deliverable,
        DeliverableStatus,
        DeliverableVersion,
        Goal,
        GoalCheckIn,
        GoalRevision,
        GoalSignature,
        GoalState,
        MeasureKind,
        PreferredChannel,
        Project,
        ProjectMember,
        Role,
        Side,
        Update,
        UpdateAcknowledgement,
        UpdateKind,
        UpdateStatus,
        User,
        VersionStatus,
    )
    from portal.timeutil import local_today

    app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": database_url})
    now = datetime.now(UTC)
    today = local_today("Europe/Istanbul", now)
    created = now - timedelta(days=90)
    managers = 20
    with app.app_context():
        db.drop_all()
        db.create_all()
        password = hash_password("bench-password-1")
        users = [{"id": 1, "email": "admin@bench.example", "name": "Admin", "role": Role.ADMIN, "password_hash": password}]
        users += [{"id": 2 + m, "email": f"manager{m}@bench.example", "name": f"Manager {m}", "role": Role.MANAGER,
                   "password_hash": password} for m in range(managers)]
        first_person = 2 + managers
        org_rows = [{"id": c + 1, "name": f"Client organisation {c:03d}", "timezone": "Europe/Istanbul",
                     "preferred_channel": PreferredChannel.PHONE if c % 4 == 0 else PreferredChannel.EMAIL} for c in range(clients)]
        users += [{"id": first_person + 2 * c + n, "email": f"c{c + 1}-{n}@bench.example", "name": f"Client {c + 1}/{n}",
                   "role": Role.CLIENT, "client_id": c + 1, "password_hash": password} for c in range(clients) for n in range(2)]
        rows: dict[type, list[dict]] = {model: [] for model in (
            Project, ProjectMember, Goal, GoalRevision, GoalSignature, GoalCheckIn, Deliverable, DeliverableVersion,
            AssetRequest, Update, UpdateAcknowledgement)}
        goal_id = deliverable_id = 0
        for p in range(projects):
            pid, c = p + 1, p % clients
            people = (first_person + 2 * c, first_person + 2 * c + 1)
            rows[Project].append({"id": pid, "client_id": c + 1, "manager_id": 2 + p % managers, "name": f"Project {p:04d}",
                                  "description": "Benchmark project", "timezone": "Europe/Istanbul", "created_at": created,
                                  "weekly_weekday": p % 5, "weekly_hour": 9 + p % 8})
            rows[ProjectMember] += [{"project_id": pid, "user_id": u, "is_approver": n == 0} for n, u in enumerate(people)]
            for g in range(goals_each):
                goal_id += 1
                state = (GoalState.AGREED, GoalState.AGREED, GoalState.AGREED, GoalState.PROPOSED, GoalState.ACHIEVED)[g % 5]
                agreed = state is not GoalState.PROPOSED
                rows[Goal].append({"id": goal_id, "project_id": pid, "state": state, "current_number": 1,
                                   "agreed_number": 1 if agreed else None, "created_at": created})
                rows[GoalRevision].append({
                    "id": goal_id, "goal_id": goal_id, "number": 1, "title": f"Goal {g} of project {pid}", "measure": MeasureKind.METRIC,
                    "metric_name": "Orders", "baseline": Decimal(100), "target": Decimal(200), "target_date": today + timedelta(days=60),
                    "side": Side.AGENCY, "agreed_on": today - timedelta(days=30) if agreed else None,
                    "agreed_at": now - timedelta(days=30) if agreed else None, "created_at": now - timedelta(days=30 + g)})
                sides = (Side.AGENCY, Side.CLIENT) if agreed else (Side.AGENCY,)
                rows[GoalSignature] += [{"revision_id": goal_id, "side": side, "user_id": people[0] if side is Side.CLIENT else 2 + p % managers,
                                         "signed_at": now - timedelta(days=30)} for side in sides]
                if agreed:  # expected ~133 today: 130 is on track, 100 off track
                    rows[GoalCheckIn].append({"goal_id": goal_id, "revision_number": 1, "measured_on": today - timedelta(days=2),
                                              "value": Decimal(100 if g % 7 == 0 else 130)})
            for d in range(deliverables_each):
                deliverable_id += 1
                status = (DeliverableStatus.IN_REVIEW, DeliverableStatus.IN_REVIEW, DeliverableStatus.CHANGES_REQUESTED,
                          DeliverableStatus.APPROVED, DeliverableStatus.APPROVED, DeliverableStatus.PREPARING)[d % 6]
                submitted = status is not DeliverableStatus.PREPARING
                rows[Deliverable].append({"id": deliverable_id, "project_id": pid, "title": f"Deliverable {d} of project {pid}",
                                          "status": status, "current_number": 1 if submitted else None,
                                          "due_date": today + timedelta(days=d - 3), "created_at": created, "updated_at": created})
                if submitted:
                    version = {DeliverableStatus.IN_REVIEW: VersionStatus.IN_REVIEW, DeliverableStatus.APPROVED: VersionStatus.APPROVED,
                               DeliverableStatus.CHANGES_REQUESTED: VersionStatus.CHANGES_REQUESTED}[status]
                    rows[DeliverableVersion].append({"id": deliverable_id, "deliverable_id": deliverable_id, "number": 1, "status": version,
                                                     "submitted_at": now - timedelta(days=d + 1),
                                                     "settled_at": None if version is VersionStatus.IN_REVIEW else now - timedelta(days=d)})
            for n, status in enumerate((AssetRequestStatus.OPEN, AssetRequestStatus.SUBMITTED, AssetRequestStatus.ACCEPTED)):
                rows[AssetRequest].append({"project_id": pid, "title": f"Asset {n} of project {pid}", "status": status, "kinds": ["any"],
                                           "due_date": today - timedelta(days=2 + p % 5), "row_version": 1, "current_version": 1,
                                           "submitted_at": now - timedelta(days=1) if n else None})
            if p % 10:  # every tenth project has been silent since it started
                rows[Update].append({"id": 2 * pid - 1, "project_id": pid, "author_id": 2 + p % managers, "status": UpdateStatus.PUBLISHED,
                                     "title": f"Sprint report {pid}", "body": "Checkout on **staging**.", "facts": [],
                                     "published_at": now - timedelta(days=p % 6), "created_at": now - timedelta(days=p % 6)})
                if p % 20 == 1:
                    rows[UpdateAcknowledgement].append({"update_id": 2 * pid - 1, "user_id": people[0], "choice": AckChoice.CONCERN,
                                                        "comment": "The launch date worries us"})
            if c % 4 == 0:
                year, week, _ = (now - timedelta(days=2)).isocalendar()
                rows[Update].append({"id": 2 * pid, "project_id": pid, "kind": UpdateKind.WEEKLY, "status": UpdateStatus.PUBLISHED,
                                     "title": "", "facts": [], "suggests_call": True, "iso_year": year, "iso_week": week,
                                     "published_at": now - timedelta(days=2), "created_at": now - timedelta(days=2)})
        db.session.execute(insert(Client), org_rows)  # before the users: PostgreSQL checks their client_id at once
        db.session.execute(insert(User), users)
        for model, batch in rows.items():
            for start in range(0, len(batch), 5000):
                db.session.execute(insert(model), batch[start : start + 5000])
        db.session.commit()
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":  # explicit ids above: move the sequences past them
                for table in ("users", "clients", "projects", "goals", "goal_revisions", "deliverables", "deliverable_versions", "updates"):
                    conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")  # noqa: S608 - table names from the literal tuple above
            conn.exec_driver_sql("ANALYZE")
        stored.refresh(datetime.now(UTC))  # as the scheduler's refresh_goal_progress job would have by now
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")  # again: the statistics of the stored progress columns
        counts = {model.__tablename__: len(batch) for model, batch in rows.items()}
        print("seeded", ", ".join(f"{n} {t}" for t, n in counts.items() if t in ("projects", "goals", "deliverables", "asset_requests", "updates")))
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


def count_queries(database_url: str, pages: list[tuple[str, str, str]]) -> dict[str, int]:
    """Return, per page label, the SQL statements one request runs (in-process, logged in as the page's user)."""
    from sqlalchemy import event

    from portal import create_app
    from portal.extensions import db

    app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": database_url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False})
    counts: dict[str, int] = {}
    # No application context is held across the requests: each gets its own, with an empty
    # session, as in production (a shared one would keep the user and its rows loaded and
    # count fewer statements than a real request runs).
    with app.app_context():
        engine = db.engine
    statements = [0]

    def on_execute(*_args: object) -> None:
        statements[0] += 1

    clients: dict[str, object] = {}
    for label, path, email in pages:
        if path.startswith("/__bench/"):  # the baseline route lives in bench/wsgi_hello.py, outside the app
            counts[label] = 0
            continue
        client = clients.get(email)
        if client is None:
            client = clients[email] = app.test_client()
            client.post("/login", data={"email": email, "password": "bench-password-1"})
        client.get(path)  # warm: the first request also loads the user and the translations
        event.listen(engine, "before_cursor_execute", on_execute)
        statements[0] = 0
        response = client.get(path)
        event.remove(engine, "before_cursor_execute", on_execute)
        if response.status_code != 200:
            raise SystemExit(f"{label}: {response.status_code} when counting queries")
        counts[label] = statements[0]
    engine.dispose()
    return counts


def wrk(url: str, cookie: str, duration: int, connections: int, script: str, timeout: int = 2) -> tuple[float, float, float, int]:
    """Run wrk against ``url``; return (requests/s, p50 ms, p95 ms, errors).

    A response slower than ``timeout`` seconds counts as an error (a timeout) and not in the latencies.
    """
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout}s", "-s", script, "-H", f"Cookie: {cookie}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"RESULT (\S+) (\S+) (\S+) (\d+)", out)
    if not match:
        raise SystemExit(f"wrk printed no result:\n{out}")
    return float(match[1]), float(match[2]), float(match[3]), int(match[4])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--timeout", type=int, default=2, help="seconds before wrk counts a request as timed out (wrk's default: 2)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/pages.py needs wrk: make bench-tools (Debian's wrk package)")

    workdir = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    print(f"seeding {args.clients} clients, {args.projects} projects into {database_url.split('@')[-1]} …", flush=True)
    started = time.monotonic()
    seed(database_url, args.clients, args.projects)
    print(f"seeded in {time.monotonic() - started:.1f}s", flush=True)
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
        client, manager, admin = "c1-0@bench.example", "manager0@bench.example", "admin@bench.example"
        cookies = {email: session_cookie(base, email) for email in (client, manager, admin)}
        per_manager = args.projects // 20
        pages = [
            ("hello world (baseline)", "/__bench/hello", client),
            ("client home", "/", client),
            (f"manager home ({per_manager} projects)", "/", manager),
            (f"admin home ({args.projects:,} projects)", "/", admin),
            ("admin home, one manager", "/?manager=2", admin),
            ("project overview (client)", "/projects/1", client),
            ("project overview (manager)", "/projects/1", manager),
        ]
        queries = count_queries(database_url, pages)
        print(f"\ngunicorn 2 workers, wrk {args.connections} connections × {args.duration}s per page, timeout {args.timeout}s; "
              f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores\n")
        print(f"{'page':<30}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}{'req/s ÷ hello':>15}{'p50 × hello':>13}{'queries':>9}")
        baseline = None
        backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
        results: list[dict] = []
        for label, path, email in pages:
            cookie = cookies[email]
            check = urllib.request.Request(base + path, headers={"Cookie": cookie})
            with urllib.request.urlopen(check) as response:  # a page that fails is no benchmark
                if response.status != 200 or response.url != base + path:
                    raise SystemExit(f"{label}: {response.status} {response.url}")
            rps, p50, p95, errors = wrk(base + path, cookie, args.duration, args.connections, str(script), args.timeout)
            baseline = baseline or (rps, p50)
            print(f"{label:<30}{rps:>9.0f}{p50:>9.1f}{p95:>9.1f}{errors:>8}{rps / baseline[0]:>14.3f}×{p50 / baseline[1]:>12.1f}×"
                  f"{queries[label]:>9}", flush=True)
            results.append({"page": label, "path": path, "database": backend, "rps": round(rps, 1), "ratio_to_hello": round(rps / baseline[0], 3),
                            "p50_ms": round(p50, 2), "p95_ms": round(p95, 2), "errors": errors, "queries": queries[label],
                            "load_average": round(os.getloadavg()[0], 2), "connections": args.connections, "duration_s": args.duration})
        print()
        for result in results:
            print(json.dumps(result), flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
