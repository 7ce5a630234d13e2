"""Login attempts limited per account, on top of Flask-Limiter's limit per address.

Many addresses can each stay under the per-address limit while trying passwords against
one account. So failures are also counted per email address, in the database (one count
for every web worker, no Redis needed): from the ``LOGIN_THROTTLE_AFTER``-th failure on,
the next attempt must wait 1, 2, 4 … minutes, at most ``LOGIN_THROTTLE_MAX_MINUTES``, and
during the wait even the right password is refused, with a message saying when to try
again. Nobody is locked out for good: the wait never passes its cap. At the
``LOGIN_THROTTLE_NOTICE_AT``-th failure the account's owner gets one email (with a link to
choose a new password). A successful login clears the count.

Addresses nobody has are counted the same way, so the answers (and their timing class) do
not tell whether an account exists; only the notice email has someone to go to.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import LoginThrottle, TokenPurpose, User
from portal.models.users import normalise_email
from portal.notify.service import queue_email
from portal.timeutil import utcnow
from portal.urls import portal_url

DEFAULTS = {"LOGIN_THROTTLE_AFTER": 5, "LOGIN_THROTTLE_MAX_MINUTES": 60, "LOGIN_THROTTLE_NOTICE_AT": 10}


def _setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))


def _key(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def _record(email: str) -> LoginThrottle | None:
    return db.session.scalar(select(LoginThrottle).where(LoginThrottle.key_hash == _key(email)))


def wait_left(email: str) -> timedelta | None:
    """Return how long sign-ins with ``email`` must still wait, or None when they may try now."""
    record = _record(email)
    if record is None or record.locked_until is None:
        return None
    left = record.locked_until - utcnow()
    return left if left > timedelta(0) else None


def minutes(left: timedelta) -> int:
    """Return a wait as whole minutes, rounded up (so "try again in 1 minute" is never too early)."""
    return max(1, math.ceil(left.total_seconds() / 60))


def delay_after(failures: int) -> timedelta | None:
    """Return the wait after ``failures`` failures in a row: none below the threshold, then 1, 2, 4 … minutes up to the cap."""
    after = _setting("LOGIN_THROTTLE_AFTER")
    if failures < after:
        return None
    exponent = min(failures - after, 16)  # 2**16 minutes is far past any cap
    return timedelta(minutes=min(2**exponent, _setting("LOGIN_THROTTLE_MAX_MINUTES")))


def record_failure(email: str, user: User | None) -> datetime | None:
    """Count one failed sign-in with ``email`` (``user``: its account, if any); return until when it must wait. The caller commits."""
    now = utcnow()
    key = _key(email)
    if _record(email) is None:
        try:
            with db.session.begin_nested():  # a simultaneous first failure may insert it first: then count on its row
                db.session.add(LoginThrottle(key_hash=key, failures=0))
        except IntegrityError:
            pass
    # One UPDATE counts the failure, so simultaneous failures add up instead of overwriting each other.
    db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key_hash == key)
        .values(failures=LoginThrottle.failures + 1, last_failure_at=now)
        .execution_options(synchronize_session=False)
    )
    record = db.session.scalars(select(LoginThrottle).where(LoginThrottle.key_hash == key).execution_options(populate_existing=True)).one()
    delay = delay_after(record.failures)
    record.locked_until = now + delay if delay else None
    if user is not None and record.failures >= _setting("LOGIN_THROTTLE_NOTICE_AT") and record.notified_at is None:
        record.notified_at = now
        _queue_notice(user)
    return record.locked_until


def clear(email: str) -> None:
    """Forget the failures of ``email`` after a successful sign-in; the caller commits."""
    record = _record(email)
    if record is not None:
        db.session.delete(record)


def _queue_notice(user: User) -> None:
    """Tell the owner that someone keeps failing to sign in as them, with a link to choose a new password."""
    from portal.auth.service import issue_token

    if not (user.active and user.has_password):
        return  # nobody can sign in as them anyway
    token, raw = issue_token(user, TokenPurpose.RESET)
    queue_email(
        user,
        kind="login_attempts",
        key=f"login-attempts:{token.id}",
        template="emails/login_attempts.html",
        link=portal_url("auth.reset_password", token=raw),
        failures=_setting("LOGIN_THROTTLE_NOTICE_AT"),
        minutes=current_app.config["RESET_MINUTES"],
    )
