"""Cursor pagination: lists come in id order, ``limit`` at a time, with an opaque ``next_cursor``.

The cursor names the last id of the page (base64 of ``v1:<id>``): a row added or removed
meanwhile never shifts a page, and clients treat it as opaque.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flask import request
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select

from portal.api.errors import ApiError
from portal.extensions import db
from portal.ids import MAX_INT

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def encode_cursor(last_id: int) -> str:
    """Return the opaque cursor of the page after ``last_id``."""
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Return the last id a cursor names; refuse anything this API did not make with a 400."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, _, number = text.partition(":")
        last_id = int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        last_id = -1
        version = ""
    if version != "v1" or not 0 <= last_id <= MAX_INT or len(cursor) > 40:
        raise ApiError(400, _l("This cursor is not one the API gave. Start again without a cursor."), error="invalid_cursor", field="cursor")
    return last_id


def page_limit() -> int:
    """Return the ``limit`` query argument, 1 to :data:`MAX_LIMIT` (default :data:`DEFAULT_LIMIT`); anything else is a 400."""
    raw = request.args.get("limit", "").strip()
    if not raw:
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIMIT:
        raise ApiError(400, _l("The limit must be a whole number from 1 to %(num)d.", num=MAX_LIMIT), error="invalid_limit", field="limit")
    return value


def paginate(query: Select[Any], id_column: Any, render: Callable[[Sequence[Any]], list[dict[str, Any]]]) -> dict[str, Any]:
    """Return one page of ``query`` in ``id_column`` order as ``{"data": [...], "next_cursor": ...}``."""
    limit = page_limit()
    cursor = request.args.get("cursor", "").strip()
    if cursor:
        query = query.where(id_column > decode_cursor(cursor))
    rows = list(db.session.scalars(query.order_by(id_column).limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    return {"data": render(rows), "next_cursor": encode_cursor(rows[-1].id) if more and rows else None}
