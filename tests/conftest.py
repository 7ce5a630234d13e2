"""Fixtures: one app per test session on a database emptied after each test, a CSRF-aware web client.

The builders (``make_client``, ``make_user``, ``make_project``, ``world``) live in
tests/fixtures/builders.py; the outbox, activity and race helpers beside them.
"""

from __future__ import annotations

import copy
import os
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.ctx import RequestContext
from flask.testing import EnvironBuilder, FlaskClient
from flask_wtf.csrf import generate_csrf
from sqlalchemy import create_engine, event, make_url, text

from portal import create_app
from portal.extensions import db, limiter
from portal.models import User
from portal.registry import EXTENSION as REGISTRIES
from tests.fixtures.builders import PASSWORD, make_client, make_project, make_user, password_hash, world  # noqa: F401 - the builder fixtures, for every test

TEST_DATABASE_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")


def pytest_report_header(config: pytest.Config) -> str:
    """Say which database the suite runs against."""
    return f"database: {'PostgreSQL (PORTAL_TEST_DATABASE_URL)' if TEST_DATABASE_URL else 'SQLite (a temporary file)'}"


@contextmanager
def scratch_postgres_database(base_url: str, label: str) -> Iterator[str]:
    """Create a database of its own next to ``base_url`` and drop it afterwards.

    Runs of the suite (a developer's and CI's, or two at once) and the xdist workers of
    one run never share tables.
    """
    url = make_url(base_url)
    name = f"{url.database}_{label}_{os.getpid()}_{secrets.token_hex(3)}"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Return the URL of this session's (this xdist worker's) database: scratch PostgreSQL if configured, else a SQLite file."""
    if TEST_DATABASE_URL:
        with scratch_postgres_database(TEST_DATABASE_URL, os.environ.get("PYTEST_XDIST_WORKER", "suite")) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.db'}"


# Argon2id far below OWASP's cost (which a test of production's config checks): a login
# verifies in under a millisecond instead of ~20 ms. Only a TESTING app given them as overrides accepts them.
FAST_PASSWORD_HASHING = {"PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 1024, "PASSWORD_HASH_PARALLELISM": 1}


def app_config(database_url: str, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    """Return the configuration overrides every test app uses (cheap password hashing unless ``ENV`` is not testing)."""
    config = {
        "ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "MAIL_DIR": str(tmp_path / "mail"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "BASE_URL": "http://portal.test",
        "TIMEZONE": "Europe/Istanbul",
        "PREVIEW_RENDERING": "scheduler",  # tests render previews when they choose (portal.pins.previews.render_pending)
        **extra,
    }
    if config["ENV"] == "testing":
        config = {**FAST_PASSWORD_HASHING, **config}
    return config


@pytest.fixture(scope="session")
def _session_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """Build the app and its schema once per session: routes, templates and compiled SQL are then reused by every test."""
    application = create_app(app_config(database_url, tmp_path_factory.mktemp("app")))
    with application.app_context():
        if db.engine.dialect.name == "sqlite":
            # Durability is not under test: skip the fsync of every commit.
            event.listen(db.engine, "connect", _sqlite_fast)
        db.drop_all()
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def app(_session_app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """Return the app on an empty database, with this test's own mail and upload folders.

    What a test changes goes with it: the configuration is restored, per-app objects built
    during the test (the storage backend, for this test's folder) are dropped, rate limits
    are forgotten and every table is emptied.
    """
    application = _session_app
    config = copy.deepcopy(dict(application.config))
    extensions = set(application.extensions)
    # A test may add a fact provider or a section; whatever it adds goes with it, even if it fails midway.
    registries = {name: (dict(table.by_key), list(table.ordered)) for name, table in application.extensions[REGISTRIES].items()}
    application.config.update(MAIL_DIR=str(tmp_path / "mail"), UPLOAD_DIR=str(tmp_path / "uploads"))
    limiter.reset()
    try:
        with application.app_context():
            yield application
            db.session.remove()
            _empty_tables()
    finally:
        application.config.clear()
        application.config.update(config)
        for key in set(application.extensions) - extensions:
            del application.extensions[key]
        for name, table in application.extensions[REGISTRIES].items():
            table.by_key, table.ordered = registries.get(name, ({}, []))


def _empty_tables() -> None:
    """Delete every row, children first, in one transaction."""
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


def _sqlite_fast(dbapi_connection, connection_record) -> None:
    """Turn off SQLite's fsync on a new connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


class Web:
    """A test client that behaves like a browser: it sends the CSRF token with every form.

    Each request runs on a worker thread, so it gets its own application context,
    database session and ``g`` exactly as in production, instead of sharing the
    context the test holds open (Flask reuses a pushed context for test requests).
    """

    _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="web")

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def request(self, method: str, url: str, **kwargs: Any):
        """Send one request in a fresh context and show the test its effects."""
        response = self._pool.submit(self.client.open, url, method=method, **kwargs).result()
        db.session.expire_all()
        return response

    def csrf_token(self) -> str:
        """Return a CSRF token valid for this client's session, as the page's form would carry.

        Signed from the token the session already holds (put there first if it holds none,
        as rendering any page would), so a POST needs no extra GET for a token. The session
        is read from the cookie each time: after login or logout it is a new one.
        """
        return self._pool.submit(self._signed_token).result()

    def _signed_token(self) -> str:
        """Sign the session's CSRF token with Flask-WTF, storing a new one in the cookie when needed."""
        app = self.client.application
        with self.client.session_transaction() as session, RequestContext(app, EnvironBuilder(app).get_environ(), session=session):
            return generate_csrf()

    def get(self, url: str, **kwargs: Any):
        """GET ``url``."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any):
        """POST a form to ``url`` with a valid CSRF token (unless ``csrf`` is False)."""
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf_token())
        return self.request("POST", url, data=form, **kwargs)

    def login(self, user: User | str, password: str = PASSWORD, **extra: Any):
        """Log in through the login form."""
        email = user if isinstance(user, str) else user.email
        return self.post("/login", {"email": email, "password": password, **extra})

    def logout(self):
        """Log out through the logout button."""
        return self.post("/logout")

    def text(self, url: str) -> str:
        """GET ``url`` and return the body, asserting it answered 200."""
        response = self.get(url)
        assert response.status_code == 200, (url, response.status_code, response.headers.get("Location"))
        return response.get_data(as_text=True)


@pytest.fixture
def web(app: Flask) -> Web:
    """Return a browser-like client for the app."""
    return Web(app.test_client())


@pytest.fixture
def make_web(app: Flask):
    """Return a factory of independent browser-like clients (one per person)."""
    return lambda: Web(app.test_client())


@pytest.fixture
def runner(app: Flask):
    """Return a CLI runner for `flask portal …` commands."""
    return app.test_cli_runner()


# --- Query counting -----------------------------------------------------------------


class QueryCounter:
    """Counts the SQL statements run inside a ``with`` block."""

    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.count += 1
        self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        event.listen(db.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(db.engine, "before_cursor_execute", self._on_execute)


@pytest.fixture
def count_queries(app: Flask):
    """Return a context manager that counts SQL statements: ``with count_queries() as q: ...``."""
    return QueryCounter
