"""The REST API, ``/api/v1``, and the personal access tokens that open it.

Token-only: each call carries a token made on the account page (``Authorization: Bearer``),
scoped to read, or — for agency staff — read and write. Reads go through ``portal.access``,
writes through the features' services; every error is JSON. The OpenAPI 3.1 document
(``/api/v1/openapi.json``) is generated from the routes. Rate limited per token.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the API and the account's token page."""
    from portal.api import account_views, views

    app.register_blueprint(views.bp)
    app.register_blueprint(account_views.bp)
