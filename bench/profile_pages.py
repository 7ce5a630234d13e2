"""Time the main pages in-process, warm, with the Flask test client: ms per request and queries per request.

Seeds the same large agency as ``bench/pages.py`` (its bulk seed) into a scratch SQLite
file, logs in as a client, a manager and the admin, warms each page up, then times
``--requests`` requests per page. ``--profile`` adds a cProfile top 20 (by cumulative
time) for each page; ``--page`` keeps only the pages whose label contains the word.

    .venv/bin/python bench/profile_pages.py
    .venv/bin/python bench/profile_pages.py --requests 5 --profile --page admin
    .venv/bin/python bench/profile_pages.py --database /tmp/bench.db --keep   # reuse a seeded file

No wrk, no gunicorn: this is the tool for finding hotspots; bench/pages.py is the
one for throughput.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import seed  # noqa: E402

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

PAGES = [
    ("client home", "/", "c1-0@bench.example"),
    ("manager home (50 projects)", "/", "manager0@bench.example"),
    ("admin home (1,000 projects)", "/", "admin@bench.example"),
    ("admin home, one manager", "/?manager=2", "admin@bench.example"),
    ("project overview (client)", "/projects/1", "c1-0@bench.example"),
    ("project overview (manager)", "/projects/1", "manager0@bench.example"),
]


def login(app, email: str):
    """Return a test client logged in as ``email`` through the real login form."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = _CSRF_META.search(page)
    if not token:
        raise SystemExit("no CSRF token on the login page")
    response = client.post("/login", data={"csrf_token": token.group(1), "email": email, "password": "bench-password-1"})
    if response.status_code not in (302, 303):
        raise SystemExit(f"logging in as {email}: {response.status_code}")
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10, help="timed requests per page (after two warm-up requests)")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--database", default="", help="a SQLite file to use; seeded unless --keep and it exists")
    parser.add_argument("--keep", action="store_true", help="reuse --database if it already exists")
    parser.add_argument("--profile", action="store_true", help="print a cProfile top 20 per page")
    parser.add_argument("--page", default="", help="only the pages whose label contains this")
    args = parser.parse_args()

    from sqlalchemy import event

    from portal import create_app
    from portal.extensions import db

    workdir = None if args.database else Path(tempfile.mkdtemp(prefix="rapport-profile-"))
    path = Path(args.database) if args.database else workdir / "bench.db"
    url = f"sqlite:///{path}"
    try:
        if not (args.keep and path.exists()):
            started = time.monotonic()
            seed(url, args.clients, args.projects)
            print(f"seeded in {time.monotonic() - started:.1f}s")
        os.environ.setdefault("PORTAL_ENV", "production")
        app = create_app({"ENV": "production", "SECRET_KEY": "bench", "DATABASE_URL": url,
                          "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False, "RATELIMIT_ENABLED": False})
        queries = [0]
        slowest = [0.0]
        starts: dict[int, float] = {}

        def before(conn, cursor, statement, parameters, context, executemany):
            queries[0] += 1
            starts[id(cursor)] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany):
            slowest[0] = max(slowest[0], time.perf_counter() - starts.pop(id(cursor), time.perf_counter()))

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", before)
            event.listen(db.engine, "after_cursor_execute", after)
        clients = {}
        load = os.getloadavg()
        print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores; "
              f"{args.requests} warm requests per page\n")
        print(f"{'page':<30}{'mean ms':>9}{'median':>9}{'min':>8}{'queries':>9}{'slowest q ms':>14}{'KB':>7}")
        for label, path_, email in PAGES:
            if args.page and args.page.lower() not in label.lower():
                continue
            client = clients.get(email) or clients.setdefault(email, login(app, email))
            for _ in range(2):  # warm: templates compiled, caches filled
                response = client.get(path_)
                if response.status_code != 200:  # a page that fails is no benchmark
                    raise SystemExit(f"{label}: {response.status_code}")
            times = []
            queries[0] = 0
            slowest[0] = 0.0
            for _ in range(args.requests):
                started = time.perf_counter()
                response = client.get(path_)
                times.append((time.perf_counter() - started) * 1000)
            size = len(response.get_data()) / 1024
            print(f"{label:<30}{statistics.mean(times):>9.1f}{statistics.median(times):>9.1f}{min(times):>8.1f}"
                  f"{queries[0] / args.requests:>9.0f}{slowest[0] * 1000:>14.1f}{size:>7.0f}", flush=True)
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(max(1, min(args.requests, 5))):
                    client.get(path_)
                profiler.disable()
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(20)
                print(out.getvalue())
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
                print(out.getvalue())
        with app.app_context():
            db.engine.dispose()
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
