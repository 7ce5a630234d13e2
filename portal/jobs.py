"""Scheduler wiring: one dedicated process runs these jobs; web workers never do.

Each job is a module-level function that opens an app context and calls a
service. The database decides what is due, so a second scheduler process or a
re-run after a crash does no harm.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

log = logging.getLogger(__name__)


# Missed runs collapse into one; a run late by up to an hour still happens; never two at once.
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600, "replace_existing": True}

_APP: Flask | None = None


def use_app(app: Flask | None) -> None:
    """Make the jobs of this process run in ``app`` (None: build one on first use)."""
    global _APP
    _APP = app


def _app() -> Flask:
    """Return the application the jobs run in (built once per scheduler process)."""
    global _APP
    if _APP is None:
        from portal import create_app

        _APP = create_app()
    return _APP


def send_outbox() -> None:
    """Send the email outbox: due emails once each, failures retried with backoff."""
    from portal.notify.sender import send_due

    with _app().app_context():
        report = send_due()
        if report.sent or report.failed or report.dead:
            log.info("outbox: %s sent, %s failed, %s dead", report.sent, report.failed, report.dead)


def send_digests() -> None:
    """Queue the daily digests that are due: each person at their hour in their time zone, once a day."""
    from portal.digest.service import send_digests as send
    from portal.extensions import db

    with _app().app_context():
        report = send()
        db.session.commit()
        if report.digests or report.follow_ups:
            log.info("digests: %s queued, %s afternoon reminders", report.digests, report.follow_ups)


def dispatch_weekly_updates() -> None:
    """Send the weekly updates that are due (each project at its weekday and hour, once per ISO week)."""
    from portal.timeutil import utcnow
    from portal.updates.dispatch import dispatch_weekly

    with _app().app_context():
        report = dispatch_weekly(utcnow())
        if report.sent or report.failed or report.busy:
            log.info(
                "weekly updates: %s sent (%s late), %s emails queued, %s skipped, %s busy, %s failed",
                report.sent, report.late, report.emails, report.skipped, report.busy, report.failed,
            )


def refresh_goal_progress() -> None:
    """Store the status of the agreed goals that are not fresh (after a check-in, or a project's new day)."""
    from portal.goals.stored import refresh
    from portal.timeutil import utcnow

    with _app().app_context():
        stored = refresh(utcnow())
        if stored:
            log.info("goal progress: %s statuses stored", stored)


def sweep_storage() -> None:
    """Delete the temporary parts of uploads a killed process left behind (local storage)."""
    from portal.storage import storage_for

    with _app().app_context() as context:
        remove = getattr(storage_for(context.app), "remove_stale_parts", None)
        removed = remove() if remove is not None else 0
        if removed:
            log.info("storage: %s stale upload parts removed", removed)


def render_previews() -> None:
    """Render the review previews a web process did not (it crashed, or renders only here): the pictures pins sit on."""
    from portal.pins.previews import render_pending

    with _app().app_context():
        report = render_pending()
        if report.ready or report.failed:
            log.info("previews: %s ready, %s cannot be shown", report.ready, report.failed)


def send_webhooks() -> None:
    """Send the due webhook deliveries: each signed, failures retried with backoff."""
    from portal.webhooks.sender import send_due

    with _app().app_context():
        report = send_due()
        if report.delivered or report.failed or report.dead:
            log.info("webhooks: %s delivered, %s failed, %s dead", report.delivered, report.failed, report.dead)


def build_scheduler(app: Flask) -> BlockingScheduler:
    """Return a UTC BlockingScheduler with every job registered."""
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        send_outbox,
        "interval",
        seconds=int(app.config["OUTBOX_INTERVAL_SECONDS"]),
        id="send_outbox",
        **JOB_DEFAULTS,
    )
    # Each person's digest goes at their own hour in their own zone: a run every quarter hour finds
    # whoever's hour has come; the outbox key (person, local day) makes re-runs harmless.
    scheduler.add_job(send_digests, "cron", minute="*/15", id="send_digests", **JOB_DEFAULTS)
    # The database decides what is due; running often only shortens the delay after a slot.
    scheduler.add_job(
        dispatch_weekly_updates,
        "interval",
        minutes=int(app.config.get("WEEKLY_DISPATCH_INTERVAL_MINUTES", 5)),
        id="dispatch_weekly_updates",
        **JOB_DEFAULTS,
    )
    # Dashboards read the stored statuses; what is not fresh they compute, so this only keeps them cheap.
    scheduler.add_job(refresh_goal_progress, "interval", minutes=10, id="refresh_goal_progress", **JOB_DEFAULTS)
    # Uploads in flight are at most hours old; parts older than a day belong to no one.
    scheduler.add_job(sweep_storage, "cron", hour=3, minute=30, id="sweep_storage", **JOB_DEFAULTS)
    # Uploads render their previews at once in a thread; this catches what a crash or a restart left pending.
    scheduler.add_job(render_previews, "interval", seconds=30, id="render_previews", **JOB_DEFAULTS)
    # Webhook deliveries go out from here only, never from a request; the database decides what is due.
    scheduler.add_job(send_webhooks, "interval", seconds=int(app.config.get("WEBHOOK_INTERVAL_SECONDS", 10)), id="send_webhooks", **JOB_DEFAULTS)
    return scheduler
