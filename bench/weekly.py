"""Cost of the weekly dispatch: time and queries per project, with every project due at once.

Seeds N active projects (each with two client members, two progress updates of the past
week with blockers and needs, a shared "worse than expected" note and a personal note),
then runs ``dispatch_weekly`` at the shared slot and prints the time taken and the SQL
statements per project; then runs it again (nothing due: the cost of every idle run of
the scheduler, every few minutes).

    .venv/bin/python bench/weekly.py --projects 1000                 # SQLite in a temporary folder
    .venv/bin/python bench/weekly.py --projects 10000 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/rapport_bench
    .venv/bin/python bench/weekly.py --projects 10000 --processes 2 --database-url postgresql+psycopg://…  # two dispatchers at once

``--processes N`` starts N dispatcher processes at the same moment (as N schedulers or
``flask portal send-weekly`` runs would): the time is from their start to the last one's end,
CPU time and statements are those of all of them added up; the run fails if a week was sent
twice or not at all. ``--batch-size`` sets PORTAL_WEEKLY_BATCH_SIZE.

Each project also gets goals (two agreed metric goals with three check-ins each, one
off track and one ahead, an open assumption, and a proposal waiting for the client's
signature), deliverables (one overdue with a change request of the week, one version
waiting for review, one approved this week) and asset requests (one overdue, one
submitted this week, one returned once and then accepted), so every fact provider of
the weekly update and of the expectation note has real work to do.

The database at --database-url is emptied (every table dropped and created again).
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
        for model, batch in seed_features(projects, clients).items():
            db.session.execute(insert(model), batch)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:  # explicit ids above: move the sequences past them
                for table in ("users", "clients", "projects", "goals", "goal_revisions", "deliverables",
                              "deliverable_versions", "asset_requests"):
                    conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")  # noqa: S608 - table names from the literal tuple above
                conn.exec_driver_sql("ANALYZE")
        db.session.remove()
        db.engine.dispose()


def seed_features(projects: int, clients: int) -> dict:
    """Return the rows of every project's goals, deliverables and asset requests, per model, in insert order."""
    from datetime import date
    from decimal import Decimal

    from portal.models import (
        AssetFile,
        AssetRequest,
        AssetRequestStatus,
        AssetReview,
        AssumptionStatus,
        Decision,
        DecisionOutcome,
        Deliverable,
        DeliverableStatus,
        DeliverableVersion,
        Goal,
        GoalAssumption,
        GoalCheckIn,
        GoalRevision,
        GoalSignature,
        GoalState,
        MeasureKind,
        ReasonCategory,
        ReviewDecision,
        ReviewState,
        Side,
        VersionStatus,
    )

    agreed_at = datetime(2026, 1, 15, 7, tzinfo=UTC)
    week = SLOT - timedelta(days=4)  # inside the period of the update at SLOT
    rows: dict = {model: [] for model in (Goal, GoalRevision, GoalSignature, GoalAssumption, GoalCheckIn, Deliverable,
                                          DeliverableVersion, Decision, AssetRequest, AssetFile, AssetReview)}
    goal_id = deliverable_id = request_id = 0
    for p in range(projects):
        pid, c = p + 1, p % clients
        manager_id, approver_id = p % MANAGERS + 1, MANAGERS + 2 * c + 1
        # Goals: two agreed (off track, ahead) with check-ins, one proposal waiting for the client.
        for kind, (baseline, target, unit, values) in enumerate([
            (Decimal(100), Decimal(500), "orders", (Decimal(105), Decimal(110), Decimal(112))),
            (Decimal(0), Decimal(100), "%", (Decimal(15), Decimal(30), Decimal(40))),
            (Decimal(3000), Decimal(1500), "ms", ()),
        ]):
            goal_id += 1
            agreed = bool(values)
            rows[Goal].append({"id": goal_id, "project_id": pid, "created_by_id": manager_id,
                               "state": GoalState.AGREED if agreed else GoalState.PROPOSED, "current_number": 1,
                               "agreed_number": 1 if agreed else None, "version": 1, "created_at": CREATED})
            rows[GoalRevision].append({"id": goal_id, "goal_id": goal_id, "number": 1, "title": f"Goal {kind} of project {pid}",
                                       "why": "", "measure": MeasureKind.METRIC, "metric_name": "Metric", "baseline": baseline,
                                       "target": target, "unit": unit, "done_when": "", "target_date": date(2026, 6, 15),
                                       "note": "", "proposed_by_id": manager_id, "side": Side.AGENCY,
                                       "agreed_at": agreed_at if agreed else None, "agreed_on": agreed_at.date() if agreed else None,
                                       "created_at": CREATED})
            for side, user_id in ((Side.AGENCY, manager_id), (Side.CLIENT, approver_id))[: 2 if agreed else 1]:
                rows[GoalSignature].append({"revision_id": goal_id, "side": side, "user_id": user_id, "implied": side is Side.AGENCY,
                                            "signed_at": agreed_at})
            rows[GoalAssumption].append({"goal_id": goal_id, "text": "Photos arrive on time", "side": Side.AGENCY, "added_in": 1,
                                         "status": AssumptionStatus.OPEN, "created_at": CREATED})
            for n, value in enumerate(values):
                rows[GoalCheckIn].append({"goal_id": goal_id, "revision_number": 1, "measured_on": date(2026, 2, 20) + timedelta(days=7 * n),
                                          "value": value, "note": "", "recorded_by_id": manager_id, "created_at": CREATED})
        # Deliverables: overdue after a change request this week, one waiting for review, one approved this week.
        for status, due, outcome in (
            (DeliverableStatus.CHANGES_REQUESTED, date(2026, 3, 2), DecisionOutcome.CHANGES_REQUESTED),
            (DeliverableStatus.IN_REVIEW, date(2026, 3, 20), None),
            (DeliverableStatus.APPROVED, date(2026, 3, 10), DecisionOutcome.APPROVE),
        ):
            deliverable_id += 1
            approved = status is DeliverableStatus.APPROVED
            rows[Deliverable].append({"id": deliverable_id, "project_id": pid, "title": f"Deliverable {deliverable_id}", "description": "",
                                      "due_date": due, "included_rounds": 2, "status": status, "current_number": 1,
                                      "approved_at": week if approved else None, "created_by_id": manager_id, "updated_at": week,
                                      "lock_version": 1, "created_at": CREATED})
            version_status = {DecisionOutcome.APPROVE: VersionStatus.APPROVED, DecisionOutcome.CHANGES_REQUESTED: VersionStatus.CHANGES_REQUESTED,
                              None: VersionStatus.IN_REVIEW}[outcome]
            rows[DeliverableVersion].append({"id": deliverable_id, "deliverable_id": deliverable_id, "number": 1, "round": 0,
                                             "status": version_status, "change_notes": "", "impact_note": "", "over_rounds": False,
                                             "created_by_id": manager_id, "submitted_by_id": manager_id, "submitted_at": week - timedelta(days=3),
                                             "settled_at": week if outcome else None, "created_at": CREATED})
            if outcome is not None:
                rows[Decision].append({"deliverable_id": deliverable_id, "version_id": deliverable_id, "approver_id": approver_id,
                                       "outcome": outcome, "text": "" if outcome is DecisionOutcome.APPROVE else "Colours are off",
                                       "reason_category": None if outcome is DecisionOutcome.APPROVE else ReasonCategory.QUALITY,
                                       "decided_at": week})
        # Asset requests: overdue, submitted this week, returned once then accepted.
        for status, version in ((AssetRequestStatus.OPEN, 1), (AssetRequestStatus.SUBMITTED, 1), (AssetRequestStatus.ACCEPTED, 2)):
            request_id += 1
            accepted = status is AssetRequestStatus.ACCEPTED
            rows[AssetRequest].append({"id": request_id, "project_id": pid, "created_by_id": manager_id, "title": f"Request {request_id}",
                                       "instructions": "", "kinds": ["documents"], "due_date": date(2026, 3, 1), "required": True,
                                       "status": status, "current_version": version,
                                       "submitted_at": week if status is not AssetRequestStatus.OPEN else None,
                                       "closed_at": week + timedelta(days=1) if accepted else None, "updated_at": week,
                                       "row_version": 1, "created_at": CREATED})
            for v in range(1, version + 1) if status is not AssetRequestStatus.OPEN else ():
                rows[AssetFile].append({"project_id": pid, "request_id": request_id, "version": v, "original_name": "file.pdf",
                                        "extension": "pdf", "content_type": "application/pdf", "size": 1000, "sha256": "0" * 64,
                                        "storage_key": f"assets/bench-{request_id}-{v}", "thumbnail_key": None,
                                        "uploaded_by_id": approver_id, "review_state": ReviewState.PENDING,
                                        "created_at": week - timedelta(days=2 * (version - v))})
            if accepted:
                for v, decision in ((1, ReviewDecision.RETURNED), (2, ReviewDecision.ACCEPTED)):
                    rows[AssetReview].append({"request_id": request_id, "version": v, "decision": decision,
                                              "note": "Higher resolution, please" if v == 1 else "", "reviewer_id": manager_id,
                                              "created_at": week - timedelta(days=1) if v == 1 else week + timedelta(days=1)})
    return rows


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


def _dispatcher_process(config: dict, moment: datetime, ready, results) -> None:
    """One dispatcher process of ``measure_processes``: build the app, wait for the others, dispatch, report."""
    sys.path.insert(0, str(ROOT))
    from portal import create_app

    app = create_app(config)
    with app.app_context():  # connect and warm up before the start line: the measure is the dispatch
        from sqlalchemy import text

        from portal.extensions import db

        db.session.execute(text("SELECT 1"))
        db.session.remove()
    ready.wait()
    started = time.time()
    report, _elapsed, cpu, statements = measure(app, moment)
    results.put((started, time.time(), cpu, statements, report))


def measure_processes(config: dict, moment: datetime, processes: int):
    """Run ``processes`` dispatchers at once at ``moment``; return (reports, wall seconds, CPU seconds, statements), all added up."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(processes)
    results = context.Queue()
    workers = [context.Process(target=_dispatcher_process, args=(config, moment, ready, results)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    found = [results.get(timeout=3600) for _ in workers]
    for worker in workers:
        worker.join()
    if any(worker.exitcode for worker in workers):
        raise SystemExit(f"a dispatcher process failed: exit codes {[worker.exitcode for worker in workers]}")
    wall = max(end for _start, end, *_ in found) - min(start for start, *_ in found)
    return [r for *_, r in found], wall, sum(cpu for _s, _e, cpu, *_ in found), sum(n for *_, n, _r in found)


def count_facts(app) -> tuple[int, int]:
    """Return how many facts the weekly updates and lines the weekly notes hold, all projects together."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import ExpectationNote, NoteSource, Update, UpdateKind

    with app.app_context():
        facts = sum(len(f or []) for f in db.session.scalars(select(Update.facts).where(Update.kind == UpdateKind.WEEKLY)))
        lines = sum(len(f or []) for f in db.session.scalars(select(ExpectationNote.facts).where(ExpectationNote.source == NoteSource.WEEKLY)))
        db.session.remove()
    return facts, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--processes", type=int, default=1, help="dispatcher processes started at once (default 1)")
    parser.add_argument("--batch-size", type=int, default=0, help="PORTAL_WEEKLY_BATCH_SIZE (default: the app's, 200)")
    args = parser.parse_args()

    from portal import create_app

    workdir = Path(tempfile.mkdtemp(prefix="rapport-bench-weekly-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    config = {
        "ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": database_url, "BASE_URL": "https://portal.example",
        "MAIL_DIR": str(workdir / "mail"),
    }
    if args.batch_size:
        config["WEEKLY_BATCH_SIZE"] = args.batch_size
    app = create_app(config)
    backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    try:
        print(f"seeding {args.projects} projects into {backend} …", flush=True)
        started = time.perf_counter()
        seed(app, args.projects)
        print(f"  seeded in {time.perf_counter() - started:.1f} s")

        if args.processes > 1:
            reports, elapsed, cpu, statements = measure_processes(config, SLOT + timedelta(minutes=2), args.processes)
        else:
            report, elapsed, cpu, statements = measure(app, SLOT + timedelta(minutes=2))
            reports = [report]
        sent, failed = sum(r.sent for r in reports), sum(r.failed + r.busy for r in reports)
        if sent != args.projects or failed:
            raise SystemExit(f"the dispatch did not send one update per project: {reports}")
        idle, idle_elapsed, _idle_cpu, idle_statements = measure(app, SLOT + timedelta(minutes=7))
        if idle.sent:
            raise SystemExit(f"a second run sent again: {idle}")
        facts, lines = count_facts(app)
        emails, duplicates = count_emails(app)
        if duplicates or emails != sum(r.emails for r in reports):
            raise SystemExit(f"{emails} weekly emails in the outbox, {duplicates} weeks sent twice: {reports}")

        n = args.projects
        who = f"{args.processes} dispatcher processes" if args.processes > 1 else "one dispatcher"
        print(f"\nweekly dispatch on {backend}, {n} projects due at once (2 client members + manager copy each), {who}\n")
        print(f"{'':34}{'total':>12}{'per project':>14}")
        print(f"{'time (wall clock)':34}{elapsed:>10.1f} s{elapsed / n * 1000:>11.2f} ms")
        print(f"{'CPU time of the dispatchers':34}{cpu:>10.1f} s{cpu / n * 1000:>11.2f} ms")
        print(f"{'SQL statements':34}{statements:>12}{statements / n:>14.2f}")
        print(f"{'emails queued':34}{emails:>12}{emails / n:>14.1f}")
        print(f"{'facts in the updates':34}{facts:>12}{facts / n:>14.1f}")
        print(f"{'lines in the expectation notes':34}{lines:>12}{lines / n:>14.1f}")
        if args.processes > 1:
            print(f"{'weeks sent by each dispatcher':34}{' / '.join(str(r.sent) for r in reports):>12}")
        print(f"{'idle run (nothing due): time':34}{idle_elapsed:>10.2f} s")
        print(f"{'idle run: SQL statements':34}{idle_statements:>12}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def count_emails(app) -> tuple[int, int]:
    """Return how many weekly emails the outbox holds, and how many (project, week) pairs have two updates (must be 0)."""
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.models import OutboxEmail, Update, UpdateKind

    with app.app_context():
        emails = db.session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.kind == "weekly")) or 0
        twice = db.session.scalar(
            select(func.count()).select_from(
                select(Update.project_id).where(Update.kind == UpdateKind.WEEKLY)
                .group_by(Update.project_id, Update.iso_year, Update.iso_week).having(func.count() > 1).subquery()
            )
        ) or 0
        db.session.remove()
    return emails, twice


if __name__ == "__main__":
    main()
