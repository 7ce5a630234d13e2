"""Cost of the weekly dispatch: time and queries per project, with every project due at once.

Seeds N active projects (each with two client members, two progress updates of the past
week with blockers and needs, a shared "worse than expected" note and a personal note),
then runs ``dispatch_weekly`` at the shared slot and prints the time taken and the SQL
statements per project; then runs it again (nothing due: the cost of every idle run of
the scheduler, every few minutes).

    .venv/bin/python bench/weekly.py --projects 1000                 # SQLite in a temporary folder
    .venv/bin/python bench/weekly.py --projects 10000 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/rapport_bench

The database at --database-url is emptied (every table dropped and created again).
Goals, deliverables and asset requests are not seeded: their fact providers are not
plugged into the weekly composer yet, so the dispatch would not read them. Once they
are, seed them here too and measure again.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CREATED = datetime(2026, 1, 1, tzinfo=UTC)
SLOT = datetime(2026, 3, 9, 6, 0, tzinfo=UTC)  # Monday 09:00 in Istanbul, week 2026-W11
MANAGERS = 20


def seed(app, projects: int) -> None:
    """Fill an empty database with ``projects`` projects, all due at SLOT (bulk inserts, no activity log)."""
    from sqlalchemy import insert

    from portal.extensions import db
    from portal.models import (
        Assessment,
        Client,
        ExpectationNote,
        Project,
        ProjectMember,
        Role,
        Update,
        UpdateKind,
        UpdateStatus,
        User,
        Visibility,
        WeeklyNote,
    )

    with app.app_context():
        db.drop_all()
        db.create_all()
        clients = projects // 2 or 1
        db.session.execute(insert(User), [
            {"id": i + 1, "email": f"manager{i}@bench.example", "name": f"Manager {i}", "role": Role.MANAGER, "created_at": CREATED}
            for i in range(MANAGERS)
        ])
        db.session.execute(insert(Client), [{"id": c + 1, "name": f"Client {c}", "created_at": CREATED} for c in range(clients)])
        people = []
        for c in range(clients):
            for n in range(2):
                people.append({
                    "id": MANAGERS + 2 * c + n + 1, "email": f"c{c}-{n}@bench.example", "name": f"Person {c}/{n}",
                    "role": Role.CLIENT, "client_id": c + 1, "language": "tr" if n else "en", "created_at": CREATED,
                })
        db.session.execute(insert(User), people)
        rows, members, updates, notes, weekly_notes = [], [], [], [], []
        published = SLOT - timedelta(days=3)
        for p in range(projects):
            c = p % clients
            pid = p + 1
            rows.append({
                "id": pid, "client_id": c + 1, "manager_id": p % MANAGERS + 1, "name": f"Project {p:05d}",
                "timezone": "Europe/Istanbul", "weekly_weekday": 0, "weekly_hour": 9, "created_at": CREATED,
            })
            for n in range(2):
                members.append({"project_id": pid, "user_id": MANAGERS + 2 * c + n + 1, "is_approver": n == 0, "created_at": CREATED})
            for u in range(2):
                updates.append({
                    "project_id": pid, "author_id": p % MANAGERS + 1, "kind": UpdateKind.MANUAL, "status": UpdateStatus.PUBLISHED,
                    "title": f"Sprint {u}", "body": "Checkout on **staging**.", "done": "- Cart\n- Payment form",
                    "next_steps": "Load tests", "blockers": "Payment provider approval" if u == 0 else "",
                    "needs": "Shipping prices", "published_at": published + timedelta(hours=u), "created_at": published,
                    "updated_at": published, "facts": [],
                })
            notes.append({
                "project_id": pid, "author_id": p % MANAGERS + 1, "visibility": Visibility.SHARED, "assessment": Assessment.WORSE,
                "expected": "Live by 1 March", "reality": "Live on 20 March", "impact": "Campaign starts later",
                "created_at": published, "updated_at": published, "facts": [],
            })
            weekly_notes.append({"project_id": pid, "author_id": p % MANAGERS + 1, "body": "Thanks for the quick answers.",
                                 "version": 1, "created_at": published, "updated_at": published})
        db.session.execute(insert(Project), rows)
        db.session.execute(insert(ProjectMember), members)
        db.session.execute(insert(Update), updates)
        db.session.execute(insert(ExpectationNote), notes)
        db.session.execute(insert(WeeklyNote), weekly_notes)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:  # explicit ids above: move the sequences past them
                for table in ("users", "clients", "projects"):
                    conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
                conn.exec_driver_sql("ANALYZE")
        db.session.remove()
        db.engine.dispose()


def measure(app, moment: datetime):
    """Run the dispatch once at ``moment``; return (report, wall seconds, CPU seconds of this process, statements)."""
    from sqlalchemy import event

    from portal.extensions import db
    from portal.updates.dispatch import dispatch_weekly

    count = 0

    def on_execute(*args) -> None:
        nonlocal count
        count += 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", on_execute)
        started, cpu_started = time.perf_counter(), time.process_time()
        report = dispatch_weekly(moment)  # what is due depends on ``moment`` only: no need to move the clock
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        event.remove(db.engine, "before_cursor_execute", on_execute)
        db.session.remove()
    return report, elapsed, cpu, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    from portal import create_app

    workdir = Path(tempfile.mkdtemp(prefix="rapport-bench-weekly-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    app = create_app({
        "ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": database_url, "BASE_URL": "https://portal.example",
        "MAIL_DIR": str(workdir / "mail"),
    })
    backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    try:
        print(f"seeding {args.projects} projects into {backend} …", flush=True)
        started = time.perf_counter()
        seed(app, args.projects)
        print(f"  seeded in {time.perf_counter() - started:.1f} s")

        report, elapsed, cpu, statements = measure(app, SLOT + timedelta(minutes=2))
        assert report.sent == args.projects and report.failed == 0, report
        idle, idle_elapsed, _idle_cpu, idle_statements = measure(app, SLOT + timedelta(minutes=7))
        assert idle.sent == 0, idle

        n = args.projects
        print(f"\nweekly dispatch on {backend}, {n} projects due at once (2 client members + manager copy each)\n")
        print(f"{'':34}{'total':>12}{'per project':>14}")
        print(f"{'time (wall clock)':34}{elapsed:>10.1f} s{elapsed / n * 1000:>11.2f} ms")
        print(f"{'CPU time of the dispatcher':34}{cpu:>10.1f} s{cpu / n * 1000:>11.2f} ms")
        print(f"{'SQL statements':34}{statements:>12}{statements / n:>14.1f}")
        print(f"{'emails queued':34}{report.emails:>12}{report.emails / n:>14.1f}")
        print(f"{'idle run (nothing due): time':34}{idle_elapsed:>10.2f} s")
        print(f"{'idle run: SQL statements':34}{idle_statements:>12}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
