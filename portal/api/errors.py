"""The API's refusals as JSON (``{"error": code, "message": text}``), and its one way to save."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Response, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from portal.errors import DomainError
from portal.errors_web import json_error
from portal.extensions import db
from portal.web import CHANGED_MEANWHILE

log = logging.getLogger(__name__)

NOT_FOUND = _l("Not found, or you do not have access to it.")
_DOMAIN_CODES = {403: "forbidden", 409: "conflict", 413: "too_large", 422: "invalid"}


class ApiError(HTTPException):
    """A refusal of the API: an HTTP status, a machine code, a translated message and, for input, the field it is about."""

    def __init__(self, status: int, message: Any, *, error: str, field: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(description=str(message))
        self.code = status
        self.message = message
        self.error = error
        self.field = field
        self.extra_headers = headers or {}


def invalid(message: Any, field: str | None = None) -> ApiError:
    """Return a 422 refusal of one field of the request body."""
    return ApiError(422, message, error="invalid", field=field)


def handle_http_error(error: HTTPException) -> Response:
    """Answer any HTTP error inside the API in JSON."""
    if isinstance(error, ApiError):
        extra = {"field": error.field} if error.field else {}
        return json_error(error.code or 400, error.message, error=error.error, headers=error.extra_headers, **extra)
    code = error.code or 500
    if code == 404:
        return json_error(404, NOT_FOUND)
    headers = {"Allow": ", ".join(error.valid_methods)} if code == 405 and getattr(error, "valid_methods", None) else {}  # type: ignore[attr-defined]
    return json_error(code, headers=headers)


@contextmanager
def api_committing() -> Iterator[None]:
    """Run an endpoint's service calls as one transaction; a service's refusal becomes its JSON 4xx and nothing is kept."""
    try:
        yield
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise ApiError(error.status, error.message, error=_DOMAIN_CODES.get(error.status, "invalid"), field=error.field) from error
    except (IntegrityError, StaleDataError) as error:
        db.session.rollback()
        log.warning("refused at commit on %s %s", request.method, request.path, exc_info=True)
        raise ApiError(409, CHANGED_MEANWHILE, error="conflict") from error
