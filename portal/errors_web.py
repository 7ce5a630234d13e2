"""Error pages: translated, styled, and a clean rollback on failure."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Something in that request was not right"), _l("Go back, check what you entered and try again.")),
    403: (_l("You cannot open this page"), _l("Your account does not have access to it. Ask your account manager if you think it should.")),
    404: (_l("Page not found"), _l("It may have moved, or you may not have access to it.")),
    405: (_l("That action is not possible here"), _l("Go back and use the buttons on the page.")),
    409: (_l("Someone changed this in the meantime"), _l("Reload the page to see the latest state, then try again.")),
    413: (_l("That file is too large"), _l("Files can be at most %(mb)s MB. Try a smaller file or split it.")),
    429: (_l("Too many attempts"), _l("Wait a minute, then try again.")),
    500: (_l("Something went wrong on our side"), _l("Nothing you entered was saved. Try again in a moment; we have been told.")),
}


# The REST API (portal.api) answers every error as JSON: {"error": code, "message": text}.
API_PREFIX = "/api/"
ERROR_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 409: "conflict",
    413: "too_large", 415: "unsupported_media_type", 422: "unprocessable", 429: "too_many_requests", 500: "server_error",
}


def json_error(code: int, message: object = None, *, error: str | None = None, headers: dict[str, str] | None = None, **extra: object) -> Response:
    """Return the API's JSON error: a machine code, a translated message (default: the page title of ``code``)."""
    title, _hint = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    response = jsonify({"error": error or ERROR_CODES.get(code, "error"), "message": str(message or title), **extra})
    response.status_code = code
    response.headers.update(headers or {})
    return response


def _is_api() -> bool:
    return request.path.startswith(API_PREFIX)


def _render(code: int, detail: str | None = None):
    title, hint = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    from flask import current_app

    limit_mb = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024) or current_app.config["MAX_UPLOAD_MB"]
    hint_text = hint % {"mb": limit_mb} if code == 413 else hint
    return render_template("errors/error.html", code=code, title=title, hint=detail or hint_text), code


def init_app(app: Flask) -> None:
    """Register the handlers for HTTP errors, CSRF failures and unexpected exceptions."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        """Explain an expired or missing form token."""
        if _is_api():
            # Only a tokenless POST to the API gets here (portal.api.auth): it is told what the API wants.
            message = _l("Send a personal access token in the Authorization header: Bearer rpt_…")
            return json_error(400, message, error="missing_token", headers={"WWW-Authenticate": 'Bearer realm="api"'})
        return _render(400, str(_l("The form expired. Reload the page and send it again.")))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        """Render a translated page for every HTTP error."""
        if error.code is None or error.code < 400:
            return error
        if _is_api():
            valid = getattr(error, "valid_methods", None) if error.code == 405 else None
            allow = {"Allow": ", ".join(valid)} if valid else {}
            return json_error(error.code, headers=allow)
        response, code = _render(error.code)
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            return response, code, {"Allow": ", ".join(error.valid_methods)}
        return response, code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        """Roll back, log, and show the 500 page; nothing half-written survives."""
        if isinstance(error, HTTPException):
            return http_error(error)
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _is_api():
            return json_error(500)
        return _render(InternalServerError.code)
