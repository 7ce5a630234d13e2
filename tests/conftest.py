"""Fixtures: a fresh database per test, a CSRF-aware web client, and builders."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, make_url, text

from portal import create_app
from portal.auth.passwords import hash_password
from portal.extensions import db
from portal.models import Client, Project, ProjectMember, Role, User

PASSWORD = "correct horse battery"
_PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: Argon2 is slow on purpose
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

TEST_DATABASE_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")


def pytest_report_header(config: pytest.Config) -> str:
    """Say which database the suite runs against."""
    return f"database: {'PostgreSQL (PORTAL_TEST_DATABASE_URL)' if TEST_DATABASE_URL else 'SQLite (a temporary file)'}"


@contextmanager
def scratch_postgres_database(base_url: str, label: str) -> Iterator[str]:
    """Create a database of its own next to ``base_url`` and drop it afterwards.

    Runs of the suite (a developer's and CI's, or two at once) never share tables.
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
    """Return the URL of the test database: a scratch PostgreSQL database if configured, else a SQLite file."""
    if TEST_DATABASE_URL:
        with scratch_postgres_database(TEST_DATABASE_URL, "suite") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.db'}"


@pytest.fixture(scope="session")
def _schema(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Create the schema once for the session and drop it at the end."""
    app = create_app({"ENV": "testing", "DATABASE_URL": database_url, "SECRET_KEY": "test"})
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def app_config(database_url: str, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    """Return the configuration overrides every test app uses."""
    return {
        "ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "MAIL_DIR": str(tmp_path / "mail"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "BASE_URL": "http://portal.test",
        "TIMEZONE": "Europe/Istanbul",
        **extra,
    }


@pytest.fixture
def app(_schema: None, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Return an app on an empty database (every table emptied after the test)."""
    application = create_app(app_config(database_url, tmp_path))
    with application.app_context():
        if db.engine.dialect.name == "sqlite":
            # Durability is not under test: skip the fsync of every commit.
            event.listen(db.engine, "connect", _sqlite_fast)
        yield application
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()


def _sqlite_fast(dbapi_connection, connection_record) -> None:
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
        """Return a CSRF token valid for this client's session."""
        page = self.request("GET", "/password/forgot").get_data(as_text=True)
        match = _CSRF_META.search(page)
        assert match, "no CSRF token on the page"
        return match.group(1)

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
        assert response.status_code == 200, (url, response.status_code)
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


# --- Builders -------------------------------------------------------------------


@pytest.fixture
def make_client(app: Flask):
    """Return a builder of client organisations."""

    def build(name: str = "Anadolu Kahve", **values: Any) -> Client:
        client = Client(name=name, timezone=values.pop("timezone", "Europe/Istanbul"), **values)
        db.session.add(client)
        db.session.commit()
        return client

    return build


@pytest.fixture
def make_user(app: Flask):
    """Return a builder of users with the shared test password."""
    counter = iter(range(1, 10_000))

    def build(role: Role | str = Role.MANAGER, client: Client | None = None, **values: Any) -> User:
        role = Role(role)
        n = next(counter)
        values.setdefault("email", f"{role.value}{n}@example.com")
        values.setdefault("name", f"{role.value.title()} {n}")
        values.setdefault("password_hash", _PASSWORD_HASH)
        values.setdefault("timezone", "Europe/Istanbul")
        user = User(role=role, client=client, **values)
        db.session.add(user)
        db.session.commit()
        return user

    return build


@pytest.fixture
def make_project(app: Flask, make_client, make_user):
    """Return a builder of projects with members given as (user, is_approver) pairs."""

    def build(
        client: Client | None = None,
        manager: User | None = None,
        members: list[tuple[User, bool]] | None = None,
        **values: Any,
    ) -> Project:
        client = client or make_client()
        manager = manager or make_user(Role.MANAGER)
        values.setdefault("name", "Website relaunch")
        values.setdefault("timezone", "Europe/Istanbul")
        project = Project(client=client, manager=manager, **values)
        db.session.add(project)
        for user, approver in members or []:
            db.session.add(ProjectMember(project=project, user=user, is_approver=approver))
        db.session.commit()
        return project

    return build


@pytest.fixture
def world(make_client, make_user, make_project):
    """Two client organisations, each with a client user and a project; a manager; an admin."""

    class World:
        admin = make_user(Role.ADMIN, name="Elif Admin", email="admin@example.com")
        manager = make_user(Role.MANAGER, name="Can Manager", email="manager@example.com")
        other_manager = make_user(Role.MANAGER, name="Sarah Other", email="other.manager@example.com")
        own_org = make_client("Anadolu Kahve")
        other_org = make_client("Northwind Outdoor")
        own_client = make_user(Role.CLIENT, own_org, name="Ayşe Client", email="ayse@example.com")
        other_client = make_user(Role.CLIENT, other_org, name="Tom Other", email="tom@example.com")
        project = make_project(own_org, manager, [(own_client, True)], name="E-commerce relaunch")
        other_project = make_project(other_org, other_manager, [(other_client, True)], name="Spring catalogue")

    return World


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
