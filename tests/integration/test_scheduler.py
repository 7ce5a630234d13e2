"""The scheduler runs in its own process and sends the outbox every few seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from portal import jobs
from portal.auth import service as auth_service
from portal.extensions import db
from portal.models import EmailStatus, OutboxEmail, Role

ROOT = Path(__file__).resolve().parents[2]


def test_scheduler_registers_the_outbox_job_in_utc(app):
    """The scheduler is UTC, coalesces missed runs and runs the outbox sender on an interval."""
    scheduler = jobs.build_scheduler(app)
    job = scheduler.get_job("send_outbox")
    assert job is not None and job.func is jobs.send_outbox
    assert str(scheduler.timezone) == "UTC"
    assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time >= 60


def test_storage_sweep_removes_only_stale_upload_parts(app):
    """A part a killed upload left behind a day ago is removed; one being written now is kept."""
    from portal.storage import storage_for

    incoming = Path(app.config["UPLOAD_DIR"]) / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    stale, fresh = incoming / "killed.part", incoming / "writing.part"
    stale.write_bytes(b"half an upload")
    fresh.write_bytes(b"in flight")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    assert storage_for(app) is not None
    jobs.use_app(app)
    try:
        jobs.sweep_storage()
    finally:
        jobs.use_app(None)
    assert not stale.exists() and fresh.exists()
    assert jobs.build_scheduler(app).get_job("sweep_storage") is not None
    fresh.unlink()


def test_scheduler_process_sends_queued_email(app, world, database_url, tmp_path):
    """`flask portal scheduler`, started as a process, delivers a queued invitation as an .eml file."""
    auth_service.invite_user(world.admin, email="new.manager@example.com", name="Deniz", role=Role.MANAGER)
    db.session.commit()
    mail_dir = tmp_path / "scheduler-mail"
    env = {
        **os.environ,
        "PORTAL_ENV": "testing",
        "PORTAL_SECRET_KEY": "test",
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_MAIL_DIR": str(mail_dir),
        "PORTAL_OUTBOX_INTERVAL_SECONDS": "1",
    }
    env.pop("PORTAL_SMTP_HOST", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "portal", "portal", "scheduler"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not list(mail_dir.glob("*.eml")):
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            time.sleep(0.2)  # polling a separate process's output; not a timing assertion
        assert len(list(mail_dir.glob("*.eml"))) == 1
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=15)
    db.session.expire_all()
    assert db.session.scalar(select(OutboxEmail)).status is EmailStatus.SENT
    assert "Scheduler started" in output
