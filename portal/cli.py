"""`flask portal …` commands: thin wrappers around services."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click
from flask import Flask, current_app
from flask.cli import AppGroup

portal_cli = AppGroup("portal", help="Rapport commands.")

F = TypeVar("F", bound=Callable[..., Any])


def needs_database(command: F) -> F:
    """Stop a command with one clear line when the database is not migrated to the code's revision."""

    @functools.wraps(command)
    def checked(*args: Any, **kwargs: Any) -> Any:
        check_database_is_migrated()
        return command(*args, **kwargs)

    return cast(F, checked)


def check_database_is_migrated() -> None:
    """Raise a one-line ClickException unless the database has the tables at the migrations' head.

    A database made by ``db.create_all()`` (the test suite's) has no Alembic revision: it
    has every table of the models, so it passes.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    from portal.extensions import db

    with db.engine.connect() as connection:
        if not inspect(connection).has_table("users"):
            raise click.ClickException("the database has no tables yet: run `flask --app portal db upgrade` first (`make run` does it for you)")
        current = set(MigrationContext.configure(connection).get_current_heads())
    if not current:
        return
    migrate = current_app.extensions["migrate"]
    heads = set(ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory)).get_heads())
    if current != heads:
        raise click.ClickException("the database is not at the code's revision: run `flask --app portal db upgrade` first (`make run` does it for you)")


@portal_cli.command("scheduler")
@needs_database
def scheduler_command() -> None:
    """Run the job scheduler in this process until stopped."""
    from portal import jobs

    logging.basicConfig(level=logging.INFO, format="%(asctime)s scheduler %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per run; jobs log what they did
    jobs.use_app(current_app._get_current_object())  # type: ignore[attr-defined]
    scheduler = jobs.build_scheduler(current_app)
    click.echo("Scheduler started (Ctrl-C to stop).")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()


@portal_cli.command("send-outbox")
@needs_database
def send_outbox_command() -> None:
    """Send the due emails of the outbox once (one run: at most PORTAL_MAIL_BATCH_SIZE emails, PORTAL_MAIL_BATCH_SECONDS)."""
    from portal.notify.sender import send_due

    report = send_due()
    click.echo(f"{report.sent} sent, {report.failed} failed, {report.dead} dead")


@portal_cli.command("refresh-goal-progress")
@needs_database
def refresh_goal_progress_command() -> None:
    """Store each agreed goal's status for its project's today (what the scheduler does every few minutes)."""
    from portal.goals import stored
    from portal.timeutil import utcnow

    click.echo(f"{stored.refresh(utcnow())} goal statuses stored")


@portal_cli.command("send-digests")
@needs_database
def send_digests_command() -> None:
    """Queue the daily digests that are due now: each person at their hour, at most once a day (what the scheduler runs)."""
    from portal.digest.service import send_digests
    from portal.extensions import db

    report = send_digests()
    db.session.commit()
    click.echo(f"{report.digests} digests queued, {report.follow_ups} afternoon reminders queued")


@portal_cli.command("send-weekly")
@click.option("--project", "project_id", type=int, default=None, help="Only this project (its id).")
@click.option("--now", "force", is_flag=True, help="Also send this week's update before its slot.")
@needs_database
def send_weekly_command(project_id: int | None, force: bool) -> None:
    """Send the weekly updates that are due now (the same dispatch the scheduler runs)."""
    from portal.timeutil import utcnow
    from portal.updates.dispatch import dispatch_weekly

    report = dispatch_weekly(utcnow(), project_id=project_id, force=force)
    click.echo(
        f"{report.sent} weekly updates sent ({report.late} late), {report.emails} emails queued, "
        f"{report.skipped} already sent by another run, {report.busy} busy, {report.failed} failed"
    )
    if report.emails:
        click.echo("The scheduler (or `flask portal send-outbox`) delivers the queued emails.")
    if report.failed:
        raise click.ClickException("some weekly updates failed; see the log. The next run tries them again.")


@portal_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Succeed quietly when the database already has users (default: fail).")
@needs_database
def seed_command(if_empty: bool) -> None:
    """Load the demo agency: an admin, two managers, clients, their people and projects."""
    from portal.seed import DEMO_PASSWORD, seed_demo

    # The demo is only ever loaded into an empty database: its people and names would collide.
    if seed_demo(only_if_empty=True):
        click.echo(f"Demo data loaded (every demo login uses the password {DEMO_PASSWORD!r}).")
    elif if_empty:
        click.echo("The database already has users; demo data not loaded.")
    else:
        raise click.ClickException("the database already has users; the demo is only loaded into an empty database.")


@portal_cli.command("banner")
@click.option("--url", default=None, help="Where the web server listens (default: PORTAL_BASE_URL).")
def banner_command(url: str | None) -> None:
    """Print where the portal runs and the demo logins, with each one's language and who approves."""
    from portal.seed import LANGUAGE_LABELS, demo_logins

    base = (url or current_app.config["BASE_URL"]).rstrip("/")
    click.echo("")
    click.echo(f"  Rapport is running at {base}/login")
    click.echo("")
    click.echo(f"    {'Who':<48} {'Email':<32} {'Password':<19} Language")
    for login in demo_logins():
        who = f"{login.role} (approver)" if login.approver else login.role
        click.echo(f"    {who:<48} {login.email:<32} {login.password:<19} {LANGUAGE_LABELS[login.language]}")
    click.echo("")
    click.echo("  After login the portal speaks each person's own language; the switch in the menu changes it.")
    click.echo("  Emails are written to instance/mail/ unless PORTAL_SMTP_HOST is set. Ctrl-C stops everything.")
    click.echo("")


@portal_cli.command("create-admin")
@click.option("--email")
@click.option("--name")
@click.option("--password", help="Asked for (hidden, twice) when not given.")
@needs_database
def create_admin_command(email: str | None, name: str | None, password: str | None) -> None:
    """Create an agency admin (for a fresh production database)."""
    # Asked for here, after the database check: nobody types a password for a command that cannot run.
    email = email or click.prompt("Email")
    name = name or click.prompt("Name")
    password = password or click.prompt("Password", hide_input=True, confirmation_prompt=True)
    from portal.auth.passwords import hash_password
    from portal.auth.service import check_password_policy
    from portal.errors import DomainError
    from portal.extensions import db
    from portal.models import Role, User
    from portal.models.users import normalise_email

    try:
        check_password_policy(password, email=email, name=name)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    if db.session.scalar(User.by_email(email)) is not None:
        raise click.ClickException("a user with this email exists")
    db.session.add(
        User(
            email=normalise_email(email),
            name=name,
            role=Role.ADMIN,
            password_hash=hash_password(password),
            timezone=current_app.config["TIMEZONE"],
            language=current_app.config["DEFAULT_LANGUAGE"],
        )
    )
    db.session.commit()
    click.echo(f"Admin {email} created.")


def init_app(app: Flask) -> None:
    """Register the `portal` command group."""
    app.cli.add_command(portal_cli)
