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
    env = {key: value for key, value in os.environ.items() if key != "PORTAL_BASE_URL"}
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


def test_a_command_before_the_database_exists_says_to_migrate(tmp_path):
    """Before `db upgrade`, a command stops with one line saying so (not an SQL traceback)."""
    env = {
        "PORTAL_ENV": "development",
        "PORTAL_SECRET_KEY": "a-local-secret",
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
        "PORTAL_MAIL_DIR": str(tmp_path / "mail"),
        "PORTAL_UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    result = flask("portal", "send-weekly", env=env, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "the database has no tables yet: run `flask --app portal db upgrade` first" in result.stderr
    assert flask("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    after = flask("portal", "send-weekly", env=env, cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    assert "0 weekly updates sent" in after.stdout
