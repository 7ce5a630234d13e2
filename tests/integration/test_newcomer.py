"""A newcomer's first commands: links follow `make run PORT=…`, and a wrong setup says what to do in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def flask(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `flask --app portal …` as a newcomer would, from ``cwd``, with only ``env`` set besides PATH."""
    base = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "portal", *args],
        env={**base, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_make_run_points_links_at_the_port_it_serves():
    """`make run PORT=5311` gives the web server and the scheduler PORTAL_BASE_URL=http://localhost:5311."""
    show = ["make", "-s", "--no-print-directory", "--eval", 'show-base-url: ; @echo "$$PORTAL_BASE_URL"', "show-base-url"]
    # Not the outer make's flags either (`make test` runs this): a PORT=… of theirs would win.
    env = {key: value for key, value in os.environ.items() if key not in {"PORTAL_BASE_URL", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PORT"}}
    assert subprocess.run([*show, "PORT=5311"], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.strip() == "http://localhost:5311"
    assert subprocess.run(show, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.strip() == "http://localhost:5000"
    chosen = {**env, "PORTAL_BASE_URL": "https://portal.example"}
    assert subprocess.run([*show, "PORT=5311"], cwd=ROOT, env=chosen, capture_output=True, text=True, check=True).stdout.strip() == "https://portal.example"


@pytest.mark.parametrize("command", [["portal", "send-weekly"], ["portal", "send-outbox"], ["db", "upgrade"]])
def test_a_command_without_a_secret_key_says_what_to_set_in_one_line(tmp_path, command):
    """PORTAL_ENV defaults to production: a missing secret key is one clear line and exit status 1, not a traceback."""
    result = flask(*command, env={}, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        "Error: PORTAL_SECRET_KEY must be set in production (PORTAL_ENV is production unless set). "
        "For a local instance, run the command with PORTAL_ENV=development, as `make run` does."
    ]


def local_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PORTAL_ENV": "development",
        "PORTAL_SECRET_KEY": "a-local-secret",
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
        "PORTAL_MAIL_DIR": str(tmp_path / "mail"),
        "PORTAL_UPLOAD_DIR": str(tmp_path / "uploads"),
    }


def test_a_command_before_the_database_exists_says_to_migrate(tmp_path):
    """Before `db upgrade`, a command stops with one line saying so (not an SQL traceback)."""
    env = local_env(tmp_path)
    result = flask("portal", "send-weekly", env=env, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "the database has no tables yet: run `flask --app portal db upgrade` first" in result.stderr
    assert flask("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    after = flask("portal", "send-weekly", env=env, cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    assert "0 weekly updates sent" in after.stdout


def test_a_database_behind_the_code_says_to_migrate(tmp_path):
    """A database one migration behind (code updated, `db upgrade` forgotten) stops a command with one line."""
    env = local_env(tmp_path)
    assert flask("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    assert flask("db", "downgrade", env=env, cwd=tmp_path).returncode == 0
    result = flask("portal", "send-outbox", env=env, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "the database is not at the code's revision: run `flask --app portal db upgrade` first" in result.stderr


def test_create_admin_checks_the_database_before_asking_for_a_password(tmp_path):
    """On an empty database, create-admin says to migrate at once instead of asking for an email and a password first."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "portal", "portal", "create-admin"],
        env={**{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}, "PYTHONPATH": str(ROOT), **local_env(tmp_path)},
        cwd=tmp_path,
        input="",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Email" not in result.stdout and "Password" not in result.stdout
    assert "the database has no tables yet" in result.stderr


def test_create_admin_asks_for_what_is_missing_and_makes_an_admin_who_can_log_in(runner, make_web):
    """The prompts come after the check; the password is asked twice and never echoed; the admin can log in."""
    from portal.extensions import db
    from portal.models import Role, User

    result = runner.invoke(args=["portal", "create-admin", "--email", "Owner@Agency.example"], input="Ada Owner\nlong-enough-secret-9\nlong-enough-secret-9\n")
    assert result.exit_code == 0, result.output
    assert "Name:" in result.output and "Repeat for confirmation:" in result.output and "long-enough-secret-9" not in result.output
    admin = db.session.scalar(User.by_email("owner@agency.example"))
    assert admin is not None and admin.role is Role.ADMIN and admin.name == "Ada Owner"
    browser = make_web()
    assert browser.login(admin, "long-enough-secret-9").status_code == 302
    again = runner.invoke(args=["portal", "create-admin", "--email", "owner@agency.example", "--name", "X", "--password", "long-enough-secret-9"])
    assert again.exit_code == 1 and "a user with this email exists" in again.output
