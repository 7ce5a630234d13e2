"""The OpenAPI 3.1 document, generated with apispec from the API's routes and the schemas in ``serialize``.

Each endpoint says what it is with :func:`operation`; the document lists every ``api.*``
route of the app with its path parameters, so a route cannot be served without being
described (``test_api_openapi.py`` checks both ways).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from apispec import APISpec
from flask import Flask

from portal.api import serialize
from portal.api.pagination import DEFAULT_LIMIT, MAX_LIMIT

F = TypeVar("F", bound=Callable[..., Any])

TITLE = "Rapport API"
VERSION = "1.0.0"
_PARAMETER = re.compile(r"<(?:(?P<converter>[^:<>]+):)?(?P<name>[^<>]+)>")

_ERRORS = {
    400: "The request is malformed (no JSON object, a bad cursor or limit).",
    401: "No working token: missing, unknown, revoked, or its owner was deactivated.",
    403: "The token may only read, or its owner may not do this.",
    404: "Not found, or not visible to the token's owner (another organisation's object).",
    409: "Someone changed this in the meantime.",
    422: "A rule refused the input; `field` names the part of the body.",
    429: "Too many requests for this token; see Retry-After.",
}


def operation(
    summary: str,
    *,
    tag: str,
    answers: str | None = None,
    many: bool = False,
    body: str | None = None,
    status: int = 200,
    description: str = "",
) -> Callable[[F], F]:
    """Describe an endpoint for the OpenAPI document: what it answers with (``many``: a page of them) and the body it takes."""

    def mark(view: F) -> F:
        view.api_doc = {  # type: ignore[attr-defined]
            "summary": summary, "tag": tag, "answers": answers, "many": many, "body": body, "status": status, "description": description,
        }
        return view

    return mark


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(doc: dict[str, Any], writes: bool, public: bool) -> dict[str, Any]:
    answers = doc["answers"]
    if answers is None:
        schema: dict[str, Any] = {"type": "object"}
    elif doc["many"]:
        schema = {
            "type": "object",
            "properties": {"data": {"type": "array", "items": _ref(answers)}, "next_cursor": {"type": ["string", "null"]}},
            "required": ["data", "next_cursor"],
        }
    else:
        schema = _ref(answers)
    result: dict[str, Any] = {
        "summary": doc["summary"],
        "tags": [doc["tag"]],
        "responses": {str(doc["status"]): _json(schema, "OK" if doc["status"] == 200 else "Created")},
    }
    if doc["description"]:
        result["description"] = doc["description"]
    if public:
        result["security"] = []
        return result
    if doc["many"]:
        result["parameters"] = [
            {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
            {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}, "description": "The `next_cursor` of the previous page."},
        ]
    if doc["body"]:
        result["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(doc["body"])}}}
    codes = [400, 401, 404, 429] + ([403, 409, 422] if writes else [])
    for code in sorted(codes):
        result["responses"][str(code)] = _json(_ref("Error"), _ERRORS[code])
    if writes:
        result["description"] = (result.get("description", "") + " Needs a read-write token (agency staff).").strip()
    return result


def document(app: Flask) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the API routes of ``app``."""
    from portal.api.auth import PUBLIC_ENDPOINTS

    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version="3.1.0",
        info={"description": "Read what the portal shows you; staff tokens with the read-write scope can also write. "
              "Send a personal access token (made on your account page) as `Authorization: Bearer rpt_…`."},
        servers=[{"url": "/api/v1"}],
        security=[{"token": []}],
    )
    spec.components.security_scheme("token", {"type": "http", "scheme": "bearer", "description": "A personal access token (rpt_…)."})
    for name, schema in serialize.schemas().items():
        spec.components.schema(name, schema)
    paths: dict[str, dict[str, Any]] = {}
    parameters: dict[str, list[dict[str, Any]]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("api."):
            continue
        view = app.view_functions[rule.endpoint]
        doc = getattr(view, "api_doc", None)
        if doc is None:
            continue
        path = _PARAMETER.sub(r"{\g<name>}", rule.rule.removeprefix("/api/v1"))
        parameters[path] = [
            {"name": m["name"], "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}}
            if m["converter"] == "int" else {"name": m["name"], "in": "path", "required": True, "schema": {"type": "string"}}
            for m in _PARAMETER.finditer(rule.rule)
        ]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(doc, getattr(view, "api_writes", False), rule.endpoint in PUBLIC_ENDPOINTS)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations, parameters=parameters[path] or None)
    return spec.to_dict()
