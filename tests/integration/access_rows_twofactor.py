"""Access matrix rows of two-factor sign-in (the code step, the account pages) and the agency settings."""

from __future__ import annotations

from tests.fixtures.builders import PASSWORD
from tests.integration.test_access_matrix import DONE, HOME, LOGIN, Row, row


def _password(prefix: str):
    return lambda scene: {f"{prefix}-password": PASSWORD}


def extend(scene_class) -> list[Row]:
    """Return the rows; no Scene objects are needed (each visitor acts on their own account)."""
    # fmt: off
    return [
        #   method  url                                  anonymous other_client own_client manager other_manager admin
        row("GET",  "/login/code",                           LOGIN, HOME, HOME, HOME, HOME, HOME),
        row("POST", "/login/code",                           LOGIN, HOME, HOME, HOME, HOME, HOME, data=lambda s: {"code": "123456"}),
        row("GET",  "/account/two-factor",                   LOGIN, 200,  200,  200,  200,  200),
        row("POST", "/account/two-factor/start",             LOGIN, DONE, DONE, DONE, DONE, DONE),
        # Without a code from the visitor's app, confirming is refused as bad input; so are codes for an enrolment that is off.
        row("POST", "/account/two-factor/confirm",           LOGIN, 422,  422,  422,  422,  422,  data=lambda s: {"confirm-code": "000000"}),
        row("POST", "/account/two-factor/recovery-codes",    LOGIN, 422,  422,  422,  422,  422,  data=_password("regenerate")),
        row("POST", "/account/two-factor/disable",           LOGIN, 422,  422,  422,  422,  422,  data=_password("disable")),
        row("GET",  "/admin/settings",                       LOGIN, 403,  403,  403,  403,  200),
        row("POST", "/admin/settings",                       LOGIN, 403,  403,  403,  403,  DONE, data=lambda s: {}),
    ]
    # fmt: on
