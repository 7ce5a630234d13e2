"""Security wiring: the session-backed user loader, headers on every response, proxies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask import Flask, Response, current_app, flash, redirect, request, url_for
from flask import Request as FlaskRequest
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, iter_multi_items
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.extensions import login_manager

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


# Werkzeug parses query strings, forms and uploads into this class: values are text, or
# FileStorage for uploads.
ParameterValue = str | FileStorage


class TextOnlyMultiDict(ImmutableMultiDict[str, ParameterValue]):
    """Query and form values without NUL characters: never part of real text, and PostgreSQL refuses them."""

    def __init__(self, mapping: Iterable[tuple[str, ParameterValue]] | Mapping[str, ParameterValue | list[ParameterValue]] | None = None) -> None:
        """Copy ``mapping``, removing NUL characters from keys and text values."""
        if mapping is not None:
            mapping = [(key.replace("\x00", ""), _no_nul(value)) for key, value in iter_multi_items(mapping)]
        super().__init__(mapping)


def _no_nul(value: ParameterValue) -> ParameterValue:
    """Return a text value without NUL characters; an uploaded file unchanged."""
    return value.replace("\x00", "") if isinstance(value, str) else value


class PortalRequest(FlaskRequest):
    """Flask's request, with query strings and forms parsed into :class:`TextOnlyMultiDict`."""

    parameter_storage_class = TextOnlyMultiDict


def init_app(app: Flask) -> None:
    """Install the request class, user loader, response headers and proxy handling."""
    app.request_class = PortalRequest
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.after_request(_security_headers)
    if app.config["PROXY_COUNT"]:
        count = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]


def _load_user(session_token: str):
    """Return the user of a live server-side session (the id Flask-Login keeps is its token)."""
    from portal.auth.service import load_session

    return load_session(session_token)


def _unauthorized():
    """Send an anonymous visitor to the login page, coming back here afterwards if it was a page."""
    flash(str(login_manager.login_message), login_manager.login_message_category)
    # Only a page can be returned to: after logging in, a form's POST URL would answer 405.
    next_path = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.login", next=next_path))


def _security_headers(response: Response) -> Response:
    """Add the headers QUALITY.md requires to every response, errors and downloads included."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if request.endpoint not in {"static", "bootstrap.static"}:
        # Pages carry personal data: never store them in shared caches or the back/forward cache.
        headers.setdefault("Cache-Control", "no-store")
    return response
