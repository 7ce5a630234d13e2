"""The OpenAPI 3.1 document: valid, served without a token, describing every API route, and true to the answers."""

from __future__ import annotations

import re

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from portal.models import TokenScope
from tests.integration.api_support import call, make_token
from tests.integration.test_api_matrix import READS, WRITE_ENDPOINTS, Scene


@pytest.fixture
def document(web) -> dict:
    """Return the served document (fetched without a token: it is public)."""
    response = web.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(document):
    """openapi-spec-validator finds nothing wrong with it, as OpenAPI 3.1."""
    assert document["openapi"] == "3.1.0"
    validate(document, cls=OpenAPIV31SpecValidator)
    assert document["components"]["securitySchemes"]["token"] == {
        "type": "http", "scheme": "bearer", "description": "A personal access token (rpt_…).",
    }


def test_every_api_route_is_described_and_nothing_else(app, document):
    """Each route of the blueprint is in the document with its method, and the document names no route that is not served."""
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            served |= {(path, method.lower()) for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    described = {(path, method) for path, operations in document["paths"].items() for method in operations if method != "parameters"}
    assert served == described


def test_write_operations_say_they_need_a_read_write_token(document):
    """A write's description names the scope; its refusals (403, 409, 422) are listed."""
    operation = document["paths"]["/projects/{project_id}/updates"]["post"]
    assert "read-write token" in operation["description"]
    assert {"201", "400", "401", "403", "404", "409", "422", "429"} <= set(operation["responses"])


def _shape(path: str) -> str:
    return re.sub(r"/(\{[a-z_]+\}|\d+)(?=/|$)", "/{}", path)


def _schema(document: dict, path: str, method: str, status: str) -> dict:
    for described, operations in document["paths"].items():
        if _shape(described) == _shape(path):
            return operations[method]["responses"][status]["content"]["application/json"]["schema"]
    raise AssertionError(f"{path} is not described")


@pytest.mark.parametrize("endpoint", READS + WRITE_ENDPOINTS, ids=lambda e: e.id)
def test_answers_match_the_document(web, world, make_user, document, endpoint):
    """What an endpoint answers (an admin's read, a manager's write, a refusal) fits the schema the document gives it."""
    scene = Scene(world, make_user)
    path = endpoint.path.format_map(scene)
    user = world.manager if endpoint.method == "POST" else world.admin
    token = make_token(user, TokenScope.READ_WRITE)
    response = call(web, endpoint.method, path, token, json=endpoint.body(scene) if endpoint.body else None)
    status = "201" if endpoint.method == "POST" else "200"
    assert str(response.status_code) == status, response.get_data(as_text=True)
    schema = {**_schema(document, endpoint.path, endpoint.method.lower(), status), "components": document["components"]}
    OAS31Validator(schema).validate(response.get_json())
    refusal = call(web, endpoint.method, path.replace(str(world.project.id), "2147483000"), None)
    error = {**_schema(document, endpoint.path, endpoint.method.lower(), "401"), "components": document["components"]}
    if refusal.status_code == 401:
        OAS31Validator(error).validate(refusal.get_json())
