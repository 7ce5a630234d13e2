"""Personal access tokens: made and revoked on the account page, sent as ``Authorization: Bearer``.

A token is ``rpt_`` followed by 256 bits from :mod:`secrets`; only its SHA-256 is stored, so
it is shown once, when made. The prefix lets people (and secret scanners) recognise one.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.auth.service import may_log_in
from portal.errors import DomainError
from portal.extensions import db
from portal.models import ApiToken, TokenScope, User
from portal.timeutil import utcnow

PREFIX = "rpt_"
_SECRET_BYTES = 32  # 256 bits
_MAX_LENGTH = 100  # longer than any token we make: refused before hashing
NAME_MAX = 80
MAX_ACTIVE = 20  # working tokens per person
_TOUCH_EVERY = timedelta(minutes=1)  # "last used" is written at most this often, not on every call


def digest(raw: str) -> str:
    """Return the stored form of a token's secret."""
    return hashlib.sha256(raw.encode()).hexdigest()


def scopes_for(user: User) -> list[TokenScope]:
    """Return the scopes ``user`` may give a token: writing is for agency staff."""
    return [TokenScope.READ, TokenScope.READ_WRITE] if user.is_staff else [TokenScope.READ]


def tokens_of(user: User) -> list[ApiToken]:
    """Return the user's working tokens, newest first."""
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).order_by(ApiToken.id.desc())
    return list(db.session.scalars(query))


def create_token(user: User, *, name: str, scope: TokenScope) -> tuple[ApiToken, str]:
    """Make a token for ``user``; return it and its secret (the caller commits and shows the secret once)."""
    name = (name or "").strip()
    if len(name) > NAME_MAX:
        raise DomainError(_l("Keep the name under %(num)d characters.", num=NAME_MAX), field="name")
    if scope not in scopes_for(user):
        raise DomainError(_l("Only agency staff can make tokens that change things."), field="scope")
    if len(tokens_of(user)) >= MAX_ACTIVE:
        raise DomainError(_l("You have %(num)d working tokens. Revoke one you no longer use first.", num=MAX_ACTIVE))
    raw = PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
    token = ApiToken(user_id=user.id, name=name, scope=scope, token_hash=digest(raw))
    db.session.add(token)
    db.session.flush()
    return token, raw


def revoke_token(token: ApiToken) -> None:
    """Stop ``token`` at once (the caller commits)."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def token_for(raw: str) -> ApiToken | None:
    """Return the working token of an active user that ``raw`` is the secret of; None for anything else."""
    if not raw.startswith(PREFIX) or len(raw) > _MAX_LENGTH:
        return None
    # Looked up by its hash: an index lookup, never a comparison of secrets character by character.
    query = (
        select(ApiToken)
        .where(ApiToken.token_hash == digest(raw), ApiToken.revoked_at.is_(None))
        .options(joinedload(ApiToken.user).joinedload(User.client))
    )
    token = db.session.scalar(query)
    # The same rule as a login: deactivated people and people of an archived organisation are refused.
    if token is None or not may_log_in(token.user):
        return None
    return token


def note_use(token: ApiToken) -> bool:
    """Set the token's "last used" time (at most once a minute); return whether it changed (the caller commits)."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < _TOUCH_EVERY:
        return False
    token.last_used_at = now
    return True
