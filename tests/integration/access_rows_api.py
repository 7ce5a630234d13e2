"""Access matrix rows of the REST API feature: the account's token page, and the API seen from a browser.

The API is token-only: a browser's session cookie opens none of it (401 for everyone, logged
in or not), only its OpenAPI document is public. What each token may do is the API's own
matrix, ``test_api_matrix.py``.
"""

from __future__ import annotations

from typing import Any

API = "/api/v1"
LOGIN = "/login"
DONE = "done"


def _own_client_token(scene: Any) -> int:
    """A fresh working token of the project's client user (to revoke)."""
    from portal.api import tokens
    from portal.extensions import db
    from portal.models import TokenScope

    token, _ = tokens.create_token(scene.world.own_client, name="Spreadsheet", scope=TokenScope.READ)
    db.session.commit()
    return token.id


def _token_form(scene: Any) -> dict:
    return {"name": "Reporting", "scope": "read"}


def _update_body(scene: Any) -> dict:
    return {"title": "From a browser", "body": "Should not be saved"}


def extend(scene_class: type) -> list:
    """Return the feature's rows (and teach the scene the token it revokes)."""
    from tests.integration.test_access_matrix import row

    scene_class.client_token = _own_client_token
    no_cookie = (401, 401, 401, 401, 401, 401)  # anonymous, other client, own client, manager, other manager, admin
    # fmt: off
    return [
        row("GET",  "/account/tokens/",                                    LOGIN, 200, 200,  200, 200, 200),
        row("POST", "/account/tokens/",                                    LOGIN, 201, 201,  201, 201, 201, data=_token_form),
        row("POST", "/account/tokens/{client_token}/revoke",               LOGIN, 404, DONE, 404, 404, 404),
        row("GET",  f"{API}/openapi.json",                                 200,   200, 200,  200, 200, 200),
        row("GET",  f"{API}/projects",                                     *no_cookie),
        row("GET",  f"{API}/projects/{{project}}",                         *no_cookie),
        row("GET",  f"{API}/projects/{{project}}/goals",                   *no_cookie),
        row("GET",  f"{API}/goals/{{agreed_goal}}",                        *no_cookie),
        row("POST", f"{API}/goals/{{agreed_goal}}/check-ins",              *no_cookie),
        row("GET",  f"{API}/projects/{{project}}/deliverables",            *no_cookie),
        row("GET",  f"{API}/deliverables/{{deliverable}}",                 *no_cookie),
        row("GET",  f"{API}/deliverables/{{deliverable}}/versions/1",      *no_cookie),
        row("POST", f"{API}/deliverables/{{review_deliverable}}/versions", *no_cookie),
        row("GET",  f"{API}/projects/{{project}}/asset-requests",          *no_cookie),
        row("GET",  f"{API}/asset-requests/{{asset_request}}",             *no_cookie),
        row("POST", f"{API}/projects/{{project}}/asset-requests",          *no_cookie),
        row("GET",  f"{API}/projects/{{project}}/updates",                 *no_cookie),
        row("GET",  f"{API}/projects/{{project}}/updates/{{update}}",      *no_cookie),
        row("POST", f"{API}/projects/{{project}}/updates",                 *no_cookie, data=_update_body),
        row("GET",  f"{API}/projects/{{project}}/expectation-notes",       *no_cookie),
        row("GET",  f"{API}/projects/{{project}}/expectation-notes/{{xnote}}", *no_cookie),
        row("GET",  f"{API}/projects/{{project}}/incidents",               *no_cookie),
        row("GET",  f"{API}/incidents/{{project}}",                        *no_cookie),  # 401 comes before any lookup
    ]
    # fmt: on
