"""Conditional writes that only one of two concurrent writers wins.

Every race in Rapport is settled the same way: an UPDATE (or DELETE) guarded by what the
writer read — a version counter, "still queued", "not used yet". The database serialises
the two writers (a row lock on PostgreSQL, the database lock on SQLite); the second one's
guard then matches no row, and it knows it lost.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, inspect, update
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import Delete, Update

from portal.extensions import db


def rows_changed(statement: Update | Delete, *, synchronize_session: Any = "auto") -> int:
    """Run a guarded UPDATE or DELETE and return how many rows it changed (0: another writer got there first)."""
    # An UPDATE or DELETE answers with a CursorResult, which has the row count Result does not declare.
    result = cast(CursorResult[Any], db.session.execute(statement, execution_options={"synchronize_session": synchronize_session}))
    return result.rowcount


def claim(row: Any, counter: InstrumentedAttribute[int]) -> bool:
    """Take ``row``'s next ``counter`` value; False when someone changed the row since it was read.

    ``row`` is a loaded model instance and ``counter`` its integer version column (for
    example ``Deliverable.lock_version``). On success the loaded row carries the new value.
    """
    mapper = inspect(type(row))
    (primary_key,) = mapper.primary_key
    seen: int = getattr(row, counter.key)
    changed = rows_changed(
        update(type(row)).where(primary_key == inspect(row).identity[0], counter == seen).values({counter.key: seen + 1}),
        synchronize_session=False,
    )
    if changed != 1:
        return False
    set_committed_value(row, counter.key, seen + 1)
    return True
