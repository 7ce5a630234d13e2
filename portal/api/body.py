"""Reading a write endpoint's JSON body: each field of the right type, or a 4xx naming it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

from portal.api.errors import ApiError, invalid

_TEXT_MAX = 100_000  # the services have their own, smaller limits; this only keeps a huge value from going further


def json_object() -> dict[str, Any]:
    """Return the request's JSON object; anything else (no JSON, an array, bad JSON) is a 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, _l("Send a JSON object as the body, with Content-Type: application/json."), error="bad_request")
    return body


def text(body: dict[str, Any], name: str, default: str = "") -> str:
    """Return a text field (NUL characters removed: never part of real text)."""
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str) or len(value) > _TEXT_MAX:
        raise invalid(_l("This must be text."), name)
    return value.replace("\x00", "")


def flag(body: dict[str, Any], name: str, default: bool) -> bool:
    """Return a true/false field."""
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise invalid(_l("This must be true or false."), name)
    return value


def optional_flag(body: dict[str, Any], name: str) -> bool | None:
    """Return a true/false field, or None when it is absent."""
    return None if body.get(name) is None else flag(body, name, False)


def day(body: dict[str, Any], name: str) -> date | None:
    """Return a date field given as YYYY-MM-DD, or None when it is absent."""
    value = body.get(name)
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise invalid(_l("Enter a date as YYYY-MM-DD."), name) from None


def number(body: dict[str, Any], name: str) -> Decimal | None:
    """Return a decimal field given as a number or as text, or None when it is absent."""
    value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or len(str(value)) > 40:
        raise invalid(_l("Enter a number."), name)
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise invalid(_l("Enter a number."), name) from None
    if not result.is_finite():
        raise invalid(_l("Enter a number."), name)
    return result


def strings(body: dict[str, Any], name: str) -> list[str]:
    """Return a list-of-texts field (empty when absent)."""
    value = body.get(name) or []
    if not isinstance(value, list) or len(value) > 50 or not all(isinstance(item, str) for item in value):
        raise invalid(_l("This must be a list of texts."), name)
    return value


def links(body: dict[str, Any], name: str = "links") -> str:
    """Return ``[{"url": …, "label": …}, …]`` as the one-link-per-line text the deliverables service reads."""
    value = body.get(name) or []
    if not isinstance(value, list) or len(value) > 50:
        raise invalid(_l("This must be a list of links."), name)
    lines = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str) or not isinstance(item.get("label", ""), str):
            raise invalid(_l("Each link needs a url (and may have a label)."), name)
        url, label = item["url"].strip(), " ".join(str(item.get("label") or "").split())
        if not url or any(ch.isspace() for ch in url):
            raise invalid(_l("Each link needs a url (and may have a label)."), name)
        lines.append(f"{label} {url}".strip())
    return "\n".join(lines)
