"""Making, finding and revoking a person's calendar feed address."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from portal.extensions import db
from portal.models import CalendarFeed, User
from portal.timeutil import utcnow

_TOKEN = 32  # bytes of secret: 256 bits
_TOUCH_EVERY = timedelta(hours=1)  # "last used" is written at most this often, not on every poll


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def active_feed(user: User) -> CalendarFeed | None:
    """Return the user's feed that still works, if any."""
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None)))


def make_feed(user: User) -> str:
    """Revoke the user's feed (if any) and make a new one; return its secret (the caller commits and shows it once)."""
    revoke_feeds(user)
    token = secrets.token_urlsafe(_TOKEN)
    db.session.add(CalendarFeed(user_id=user.id, token_hash=_digest(token)))
    db.session.flush()
    return token


def revoke_feeds(user: User) -> int:
    """Stop every feed address of the user; return how many worked until now (the caller commits)."""
    result = db.session.execute(
        update(CalendarFeed).where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def user_for_token(token: str) -> User | None:
    """Return the active user whose working feed this secret opens, noting the use (at most hourly); None otherwise."""
    if not token or len(token) > 100:
        return None
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _digest(token), CalendarFeed.revoked_at.is_(None)))
    if feed is None or not feed.user.active:
        return None
    now = utcnow()
    if feed.last_used_at is None or now - feed.last_used_at >= _TOUCH_EVERY:
        feed.last_used_at = now
        db.session.commit()
    return feed.user
