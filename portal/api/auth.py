"""Who calls the API: the person whose personal access token came as ``Authorization: Bearer``.

The API is token-only. A browser's session cookie opens nothing here (every endpoint
but the OpenAPI document answers 401 without a token), so CSRF cannot reach the API
and Flask-WTF's check is off for the blueprint; a POST without a token is still checked
as a form would be before it is refused, so it can never act on a cookie's behalf.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address

from portal.api import tokens
from portal.api.errors import ApiError
from portal.extensions import csrf, db
from portal.models import ApiToken, User

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC_ENDPOINTS = {"api.openapi"}  # the document describes the API, not anyone's data
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_NO_TOKEN = object()


def _bearer() -> str | None:
    """Return the secret of an ``Authorization: Bearer`` header, or None when there is none."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def current_token() -> ApiToken | None:
    """Return the working token the request carries (looked up once per request), or None."""
    cached = g.get("api_token", _NO_TOKEN)
    if cached is _NO_TOKEN:
        raw = _bearer()
        cached = tokens.token_for(raw) if raw else None
        g.api_token = cached
    return cached


def rate_key() -> str:
    """Key the API's rate limit by token (each token its own budget); calls without a working token by address."""
    token = current_token()
    return f"api-token:{token.id}" if token is not None else f"api-address:{get_remote_address()}"


def rate_limit() -> str:
    """Return the API's limit per token (``PORTAL_RATELIMIT_API``)."""
    return str(current_app.config.get("RATELIMIT_API", "300 per minute;5000 per hour"))


UNAUTHORIZED = _l("Send a working personal access token in the Authorization header: Bearer rpt_…")


def authenticate() -> None:
    """Let a request through only with a working token; note when the token was last used."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    raw = _bearer()
    if raw is None:
        if request.method not in _SAFE_METHODS:
            csrf.protect()  # a cookie-carrying form post is refused as a forged form would be, before the 401
        raise ApiError(401, UNAUTHORIZED, error="unauthorized", headers={"WWW-Authenticate": 'Bearer realm="api"'})
    token = current_token()
    if token is None:
        raise ApiError(401, UNAUTHORIZED, error="invalid_token", headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'})
    # Flask-Login's user for this request only (the session is not touched): messages come in the token owner's language.
    g._login_user = token.user
    if tokens.note_use(token):
        db.session.commit()


def api_user() -> User:
    """Return the person the request acts for (after :func:`authenticate`)."""
    token = current_token()
    if token is None:  # pragma: no cover - authenticate() lets no such request through
        raise ApiError(401, UNAUTHORIZED, error="unauthorized")
    return token.user


def writes(view: F) -> F:
    """Let only read-write tokens through; a read token gets 403 before anything is looked up."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        token = current_token()
        if token is None or not token.scope.can_write:
            raise ApiError(403, _l("This token can only read. Make a read-write token on your account page to change things."), error="insufficient_scope")
        return view(*args, **kwargs)

    wrapped.api_writes = True  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]
