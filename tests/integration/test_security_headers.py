"""Security headers on every kind of response, and error pages in the visitor's language."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from babel.support import Translations

from portal import create_app
from portal.models import Role
from tests.conftest import app_config

TRANSLATIONS = Path(__file__).resolve().parents[2] / "portal" / "translations"
ONE_YEAR = 365 * 24 * 3600


def csp_directives(response) -> dict[str, list[str]]:
    """Return the Content-Security-Policy as {directive: sources}."""
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_protected(response) -> None:
    """Check the headers every response must carry, whatever it is."""
    policy = response.headers.get("Content-Security-Policy", "")
    assert policy, "no Content-Security-Policy"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    directives = csp_directives(response)
    for name in ("object-src", "base-uri", "frame-ancestors"):
        assert directives.get(name) == ["'none'"], name
    assert "'self'" in directives["default-src"] and "*" not in directives["default-src"]
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in {"strict-origin-when-cross-origin", "same-origin", "no-referrer", "strict-origin"}


def _page(web, make_user):
    return web.get("/login"), 200


def _redirect(web, make_user):
    return web.get("/"), 302


def _not_found(web, make_user):
    return web.get("/no-such-page"), 404


def _forbidden(web, make_user):
    web.login(make_user(Role.CLIENT))
    return web.get("/clients/"), 403


def _method_not_allowed(web, make_user):
    return web.get("/logout"), 405


def _csrf(web, make_user):
    return web.post("/login", {"email": "someone@example.com", "password": "whatever"}, csrf=False), 400


def _too_large(web, make_user):
    web.client.application.config["MAX_CONTENT_LENGTH"] = 1024
    return web.post("/password/forgot", {"email": "x" * 4096 + "@example.com"}), 413


def _rate_limited(web, make_user):
    for _ in range(10):
        web.post("/password/forgot", {"email": "someone@example.com"})
    return web.post("/password/forgot", {"email": "someone@example.com"}), 429


def _static(web, make_user):
    return web.get("/static/css/app.css"), 200


def _bootstrap_static(web, make_user):
    return web.get("/bootstrap/static/css/bootstrap.min.css"), 200


RESPONSES: dict[str, Callable] = {
    "page": _page,
    "redirect": _redirect,
    "not found": _not_found,
    "forbidden": _forbidden,
    "method not allowed": _method_not_allowed,
    "csrf failure": _csrf,
    "too large": _too_large,
    "rate limited": _rate_limited,
    "static file": _static,
    "bootstrap file": _bootstrap_static,
}


@pytest.mark.parametrize("kind", RESPONSES)
def test_every_response_carries_the_security_headers(web, make_user, kind):
    """Pages, redirects, errors and static files all carry the CSP, nosniff and Referrer-Policy."""
    response, status = RESPONSES[kind](web, make_user)
    assert response.status_code == status
    assert_protected(response)
    assert "Strict-Transport-Security" not in response.headers  # not outside production


def test_error_pages_are_styled(web):
    """An error page is a page of the portal, not a bare server message."""
    page = web.get("/no-such-page").get_data(as_text=True)
    assert "Page not found" in page
    assert '<nav class="navbar' in page and "/static/css/app.css" in page


def test_too_large_request_gets_a_clear_page(web):
    """A body over the size limit is refused with an explanation, not a crash."""
    response, _ = _too_large(web, None)
    page = response.get_data(as_text=True)
    assert "That file is too large" in page


def test_hsts_only_in_production(database_url, tmp_path):
    """Production responses tell browsers to use HTTPS for a year or more, errors included."""
    production = create_app(app_config(database_url, tmp_path, ENV="production")).test_client()
    for url, status in (("/login", 200), ("/no-such-page", 404)):
        response = production.get(url)
        assert response.status_code == status
        hsts = response.headers.get("Strict-Transport-Security", "")
        max_age = int(hsts.split("max-age=")[1].split(";")[0])
        assert max_age >= ONE_YEAR
        assert_protected(response)


def test_not_found_page_speaks_turkish(web):
    """A Turkish browser gets the 404 page in Turkish."""
    response = web.get("/no-such-page", headers={"Accept-Language": "tr-TR,tr;q=0.9"})
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert '<html lang="tr">' in page
    assert "Page not found" not in page
    title = Translations.load(str(TRANSLATIONS), ["tr"]).gettext("Page not found")
    if title == "Page not found":
        pytest.skip("the Turkish catalog has no msgstr for 'Page not found' yet: translate it and run `make translations`")
    assert title in page


def test_forbidden_page_speaks_the_users_language(web, make_user):
    """A Turkish-speaking client who opens a staff page reads why in Turkish."""
    web.login(make_user(Role.CLIENT, language="tr"))
    response = web.get("/clients/")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert '<html lang="tr">' in page
    expected = Translations.load(str(TRANSLATIONS), ["tr"]).gettext("You cannot open this page")
    assert expected != "You cannot open this page", "no Turkish for the 403 title: run `make translations`"
    assert expected in page
