"""Migrations build the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from portal import create_app
from portal.extensions import db
from tests.conftest import TEST_DATABASE_URL, app_config, scratch_postgres_database


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """Return the URL of a new, empty database of the backend under test."""
    if TEST_DATABASE_URL:
        with scratch_postgres_database(TEST_DATABASE_URL, "migrations") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"


def test_upgrade_to_head_matches_the_models(empty_database_url: str, tmp_path: Path):
    """`flask db upgrade` on an empty database gives exactly the models' schema (no drift)."""
    app = create_app(app_config(empty_database_url, tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True}), db.metadata
            )
        assert diff == [], f"models and migrations differ: {diff}"
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "clients", "projects", "project_members", "activity_events", "outbox_emails"} <= tables
        db.engine.dispose()


def test_downgrade_to_base_and_back(empty_database_url: str, tmp_path: Path):
    """Every migration can be undone and redone, so a bad deploy can be rolled back."""
    app = create_app(app_config(empty_database_url, tmp_path))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "users" in inspect(db.engine).get_table_names()
        db.engine.dispose()
