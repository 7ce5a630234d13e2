"""A seed-only clock: rows written by the services inside ``clock.at(moment)`` carry that moment.

The services stamp what they write with ``utcnow()`` (created, signed, submitted,
decided…). To tell a story that happened over the past weeks without changing the
services or depending on a test library, the demo seed listens to its own session's
``before_flush``: every timestamp written since the seed started (so: "now") on a row
flushed inside ``at(moment)`` is replaced by ``moment``. Timestamps set explicitly
to the past are left alone, rows flushed outside ``at`` keep the real time, and the
activity log stays append-only (its events are stamped while still new).

Date columns derived from "today" (a goal's ``agreed_on``) are not datetimes; the
seed sets those itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.timeutil import UTCDateTime, utcnow


class SeedClock:
    """Backdates what the services write while a moment is set (see the module's docstring)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or utcnow()
        self._since = utcnow() - timedelta(seconds=1)  # anything stamped after this was stamped "now"
        self._moment: datetime | None = None
        self._session: Session | None = None

    def start(self) -> None:
        """Listen to the current session's flushes."""
        self._session = db.session()
        event.listen(self._session, "before_flush", self._before_flush)

    def stop(self) -> None:
        """Stop listening (the rows already written keep their moments)."""
        if self._session is not None:
            event.remove(self._session, "before_flush", self._before_flush)
            self._session = None

    def ago(self, days: int, hour: int = 9, minute: int = 0) -> datetime:
        """Return ``days`` before today at ``hour:minute`` UTC, never later than a minute ago."""
        day = self.now - timedelta(days=days)
        moment = day.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return min(moment, self.now - timedelta(minutes=1))

    @contextmanager
    def at(self, moment: datetime) -> Iterator[datetime]:
        """Stamp what is written in the block with ``moment``; flushes on the way out."""
        previous = self._moment
        self._moment = moment
        try:
            yield moment
            db.session.flush()
        finally:
            self._moment = previous

    def _before_flush(self, session: Session, flush_context, instances) -> None:
        moment = self._moment
        if moment is None:
            return
        for obj in list(session.new) + list(session.dirty):
            state = inspect(obj)
            new = obj in session.new
            for attr in state.mapper.column_attrs:
                if not isinstance(attr.columns[0].type, UTCDateTime):
                    continue
                key = attr.key
                value = getattr(obj, key)
                if value is None:
                    # created_at / updated_at get their defaults at insert or update: give them the moment.
                    if key in ("created_at", "updated_at") and (new or key == "updated_at"):
                        setattr(obj, key, moment)
                    continue
                changed = new or state.attrs[key].history.has_changes()
                if changed and value >= self._since:
                    setattr(obj, key, moment)
                elif not new and key == "updated_at" and not changed:
                    setattr(obj, key, moment)  # beat the column's onupdate
