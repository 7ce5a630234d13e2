"""Integers from URLs, query strings and forms: one range for all, checked before any query.

Every id and counter column is a PostgreSQL ``INTEGER`` (SQLite stores 64 bits), so a number
beyond 2³¹−1 can match nothing and would overflow the driver: it never reaches a query
(a 404 in a URL, ignored in a query string, a form error in a form).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter, Map
from wtforms import IntegerField

MAX_INT = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """The ``<int:…>`` URL converter, capped at :data:`MAX_INT`: a larger id is a 404."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = None, signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, MAX_INT if max is None else max, signed)


def query_int(name: str, default: int | None = None) -> int | None:
    """Return the query argument ``name`` as an int; ``default`` when absent, not a number or out of range.

    A query argument only narrows or pages a list, so garbage shows the page as if it were absent.
    """
    raw = request.args.get(name, "").strip()
    try:
        value = int(raw)
    except ValueError:
        return default
    return value if -MAX_INT <= value <= MAX_INT else default


class BoundedIntegerField(IntegerField):
    """An ``IntegerField`` whose value fits the database: a larger one is a form error, not a 500."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not -MAX_INT <= self.data <= MAX_INT:
            self.data = None
            raise ValueError(_l("This number is out of range."))


def init_app(app: Any) -> None:
    """Install the bounded converter as ``int``: before any route is added."""
    app.url_map.converters["int"] = BoundedIntConverter
