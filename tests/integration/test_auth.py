"""Logging in and out, sessions, invitations, password resets, and the rules that guard them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from babel.support import Translations
from sqlalchemy import text

from portal import create_app
from portal.config import ConfigError
from portal.extensions import db
from portal.models import OutboxEmail, Role, User
from tests.conftest import app_config
from tests.fixtures.builders import PASSWORD
from tests.fixtures.outbox import emails, outbox_size

MISMATCH = "That email and password do not match an active account."
NEW_PASSWORD = "plum tree over the quiet harbour"
TRANSLATIONS = Path(__file__).resolve().parents[2] / "portal" / "translations"


# --- Helpers ----------------------------------------------------------------------


def location(response) -> str:
    """Return the path (and query) a redirect points to."""
    assert response.status_code == 302, response.status_code
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def alerts(response) -> list[str]:
    """Return the texts of the flashed messages on a page."""
    html = response.get_data(as_text=True)
    return [" ".join(m.split()) for m in re.findall(r'<div class="alert[^"]*"[^>]*>(.*?)<button', html, re.S)]


def field_error(response, field_id: str) -> str:
    """Return the error shown under the form field ``field_id``."""
    match = re.search(rf'<div id="{re.escape(field_id)}-error"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S)
    assert match, f"no error under {field_id}"
    return " ".join(match.group(1).split())


def link_in(email: OutboxEmail) -> str:
    """Return the path of the portal link in an email."""
    match = re.search(r"http://portal\.test(/\S+)", email.text_body)
    assert match, email.text_body
    return match.group(1)


def turkish(message: str) -> str:
    """Return the compiled Turkish catalog's translation of ``message``."""
    translated = Translations.load(str(TRANSLATIONS), ["tr"]).gettext(message)
    assert translated != message, f"no Turkish for {message!r}: run `pybabel compile -d portal/translations`"
    return translated


def replay(make_web, **cookies: str):
    """Return a new browser that sends only the given cookies, as a thief with a copy would."""
    browser = make_web()
    for name, value in cookies.items():
        browser.client.set_cookie(name, value)
    return browser


def now() -> datetime:
    return datetime.now(UTC)


# --- Logging in ----------------------------------------------------------------------


def test_login_form_fields_have_labels(web):
    """The login page labels its fields "Email" and "Password"."""
    page = web.text("/login")
    assert re.search(r'<label class="form-label" for="email">Email\b', page)
    assert re.search(r'<label class="form-label" for="password">Password\b', page)
    assert 'id="email"' in page and 'id="password"' in page


def test_wrong_password_and_unknown_email_look_the_same(web, world):
    """A wrong password and an unknown address get the same answer, so accounts cannot be guessed."""
    wrong = web.login(world.own_client, "not the password at all")
    unknown = web.login("nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert alerts(wrong) == alerts(unknown) == [MISMATCH]
    assert location(web.get("/")).startswith("/login")


@pytest.mark.parametrize("reason", ["deactivated", "organisation archived"])
def test_inactive_users_cannot_log_in(web, world, reason):
    """A deactivated user, or one whose organisation is archived, gets the usual refusal."""
    if reason == "deactivated":
        world.own_client.active = False
    else:
        world.own_org.archived_at = now()
    db.session.commit()
    response = web.login(world.own_client)
    assert response.status_code == 401
    assert alerts(response) == [MISMATCH]
    assert location(web.login(world.other_client)) == "/"  # the same password works for an active user


def test_remember_me_sets_a_remember_cookie(make_web, world):
    """Ticking "remember me" leaves a long-lived cookie; not ticking it leaves none."""
    forgetful, remembered = make_web(), make_web()
    forgetful.login(world.own_client)
    assert forgetful.client.get_cookie("remember_token") is None
    remembered.login(world.own_client, remember="y")
    cookie = remembered.client.get_cookie("remember_token")
    assert cookie is not None
    assert cookie.expires is not None and cookie.expires > now() + timedelta(days=25)


def test_session_cookies_are_httponly_and_samesite_lax(web, world):
    """Session and remember cookies are out of scripts' reach and not sent on cross-site posts."""
    response = web.login(world.own_client, remember="y")
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name], name
        assert "SameSite=Lax" in cookies[name], name
        assert "Secure" not in cookies[name], name  # plain HTTP outside production


def test_cookies_are_secure_in_production(database_url, tmp_path):
    """In production the cookies are only ever sent over HTTPS."""
    production = create_app(app_config(database_url, tmp_path, ENV="production"))
    assert production.config["SESSION_COOKIE_SECURE"] is True
    assert production.config["REMEMBER_COOKIE_SECURE"] is True
    response = production.test_client().get("/password/forgot")
    session_cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    behind_plain_http = create_app(app_config(database_url, tmp_path, ENV="production", SESSION_COOKIE_SECURE=False))
    assert behind_plain_http.config["SESSION_COOKIE_SECURE"] is False  # an explicit setting still wins


def test_production_refuses_to_start_without_a_secret_key(database_url, tmp_path):
    """A production start without PORTAL_SECRET_KEY fails loudly instead of signing with a guess."""
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(app_config(database_url, tmp_path, ENV="production", SECRET_KEY=""))
    assert create_app(app_config(database_url, tmp_path, ENV="production", SECRET_KEY="s3cret")).config["ENV"] == "production"


def test_session_is_renewed_at_login(web, world):
    """Nothing put in the session before logging in survives it (no session fixation)."""
    with web.client.session_transaction() as session:
        session["planted"] = "by someone else"
    web.get("/login")
    with web.client.session_transaction() as session:
        assert session["planted"] == "by someone else"  # it would survive an ordinary request
    assert location(web.login(world.own_client)) == "/"
    with web.client.session_transaction() as session:
        assert "planted" not in session
        assert "_user_id" in session


# --- Ending sessions --------------------------------------------------------------------


def test_logout_ends_the_session_on_the_server(web, make_web, world):
    """After logging out, a copy of the old session cookie no longer opens any page."""
    web.login(world.own_client)
    stolen = web.client.get_cookie("session").value
    assert replay(make_web, session=stolen).get("/").status_code == 200  # a copy works while the session lives
    assert location(web.logout()) == "/login"
    assert location(replay(make_web, session=stolen).get("/")).startswith("/login")
    assert location(web.get("/")).startswith("/login")


def test_logout_ends_a_remembered_session(web, make_web, world):
    """After logging out, a copy of the remember-me cookie no longer logs anyone in."""
    web.login(world.own_client, remember="y")
    stolen = web.client.get_cookie("remember_token").value
    assert replay(make_web, remember_token=stolen).get("/").status_code == 200
    web.logout()
    assert location(replay(make_web, remember_token=stolen).get("/")).startswith("/login")


def test_deactivation_ends_live_sessions_at_once(web, make_web, world):
    """When an admin deactivates someone, their open browser is logged out on its next click."""
    web.login(world.own_client)
    assert web.get("/").status_code == 200
    admin = make_web()
    admin.login(world.admin)
    admin.post(f"/admin/users/{world.own_client.id}/deactivate")
    assert location(web.get("/")).startswith("/login")
    assert web.login(world.own_client).status_code == 401


def test_password_change_ends_other_sessions_but_keeps_this_one(make_web, world):
    """Changing the password logs out the other devices, not the one used to change it."""
    laptop, phone = make_web(), make_web()
    laptop.login(world.own_client)
    phone.login(world.own_client)
    response = laptop.post(
        "/account/password",
        {"password-current_password": PASSWORD, "password-password": NEW_PASSWORD, "password-confirm": NEW_PASSWORD},
    )
    assert location(response) == "/account/"
    assert laptop.get("/").status_code == 200
    assert location(phone.get("/")).startswith("/login")
    assert location(phone.login(world.own_client, NEW_PASSWORD)) == "/"


def test_idle_session_expires(app, web, world):
    """A session left alone longer than the idle limit ends; one in use does not."""
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    with time_machine.travel(now(), tick=False) as clock:
        web.login(world.own_client)
        clock.shift(idle - timedelta(minutes=1))
        assert web.get("/").status_code == 200
        clock.shift(idle - timedelta(minutes=1))
        assert web.get("/").status_code == 200  # the click before kept it alive
        clock.shift(idle + timedelta(minutes=1))
        assert location(web.get("/")).startswith("/login")


def test_session_ends_after_its_absolute_lifetime(app, web, world):
    """Even a session in constant use ends after the absolute lifetime."""
    lifetime = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    step = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] // 2)
    with time_machine.travel(now(), tick=False) as clock:
        web.login(world.own_client)
        elapsed = timedelta(0)
        while elapsed + step < lifetime:
            clock.shift(step)
            elapsed += step
            assert web.get("/").status_code == 200, elapsed
        clock.shift(lifetime - elapsed + timedelta(minutes=1))
        assert location(web.get("/")).startswith("/login")


def test_remembered_session_outlives_idleness_but_not_its_lifetime(app, web, world):
    """A remembered login survives days away, and ends after the remember period."""
    days = app.config["REMEMBER_DAYS"]
    with time_machine.travel(now(), tick=False) as clock:
        web.login(world.own_client, remember="y")
        clock.shift(timedelta(days=days - 1))
        assert web.get("/").status_code == 200
        clock.shift(timedelta(days=1, minutes=1))
        assert location(web.get("/")).startswith("/login")


# --- Invitations ---------------------------------------------------------------------------


def invite_staff(admin_web, email: str = "zeynep@example.com", language: str = "en"):
    """Invite a manager through the people page."""
    return admin_web.post(
        "/admin/users/invite",
        {
            "invite-name": "Zeynep",
            "invite-email": email,
            "invite-role": "manager",
            "invite-client_id": "0",
            "invite-language": language,
        },
    )


def test_admin_invitation_reaches_the_invitee_in_their_language(web, world):
    """A staff invitation is queued once, in the language chosen for the invitee."""
    web.login(world.admin)
    assert location(invite_staff(web, "Zeynep@Example.com", "tr")) == "/admin/users"
    [email] = emails(to="zeynep@example.com")
    assert email.language == "tr"
    assert email.subject == turkish("%(inviter)s invites you to join the team on Rapport") % {"inviter": "Elif Admin"}
    assert "/invite/" in email.text_body


@pytest.mark.parametrize("language", ["en", "tr"])
def test_manager_invites_a_client_person_in_their_language(web, world, language):
    """A manager invites someone of their client; the email speaks the invitee's language."""
    web.login(world.manager)
    response = web.post(f"/clients/{world.own_org.id}/invite", {"name": "Selin", "email": "selin@example.com", "language": language})
    assert location(response) == f"/clients/{world.own_org.id}"
    [email] = emails(to="selin@example.com")
    subject = "%(inviter)s invites you to follow %(client)s on Rapport"
    subject = turkish(subject) if language == "tr" else subject
    assert email.language == language
    assert email.subject == subject % {"inviter": "Can Manager", "client": "Anadolu Kahve"}
    invitee = db.session.scalar(User.by_email("selin@example.com"))
    assert invitee.role is Role.CLIENT and invitee.client_id == world.own_org.id and invitee.language == language


def test_invitation_link_works_once(web, make_web, world):
    """The invitee sets a name and password through the link; the link then stops working."""
    web.login(world.admin)
    invite_staff(web)
    link = link_in(emails(to="zeynep@example.com")[0])

    newcomer = make_web()
    assert "Join Rapport" in newcomer.text(link)
    response = newcomer.post(link, {"name": "Zeynep Yılmaz", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert location(response) == "/"
    assert "Zeynep Yılmaz" in newcomer.text("/")
    assert db.session.scalar(User.by_email("zeynep@example.com")).password_hash.startswith("$argon2id$")

    again = make_web()
    page = again.get(link)
    assert page.status_code == 404 and "This link no longer works" in page.get_data(as_text=True)
    assert again.post(link, {"name": "Mallory", "password": "another passphrase", "confirm": "another passphrase"}).status_code == 404
    assert db.session.scalar(User.by_email("zeynep@example.com")).name == "Zeynep Yılmaz"


def test_resent_invitation_replaces_the_old_link(web, make_web, world):
    """After "Resend invitation", only the newest link works."""
    web.login(world.admin)
    invite_staff(web)
    zeynep = db.session.scalar(User.by_email("zeynep@example.com"))
    assert location(web.post(f"/admin/users/{zeynep.id}/resend")) == f"/admin/users/{zeynep.id}"
    first, second = (link_in(email) for email in emails(to="zeynep@example.com"))
    assert first != second
    assert make_web().get(first).status_code == 404
    assert make_web().get(second).status_code == 200


def test_failed_acceptance_does_not_use_up_the_invitation(web, make_web, world):
    """A password the policy refuses is explained at the field, and the link still works afterwards."""
    web.login(world.admin)
    invite_staff(web)
    link = link_in(emails(to="zeynep@example.com")[0])
    newcomer = make_web()
    response = newcomer.post(link, {"name": "Zeynep", "password": "zeynep@example.com", "confirm": "zeynep@example.com"})
    assert response.status_code == 422
    assert field_error(response, "password") == "Do not use your name or email address as your password."
    assert newcomer.get(link).status_code == 200


def test_invitation_expires(app, web, make_web, world):
    """The link works until the invitation period ends, and not a minute after."""
    days = timedelta(days=app.config["INVITE_DAYS"])
    with time_machine.travel(now(), tick=False) as clock:
        web.login(world.admin)
        invite_staff(web)
        link = link_in(emails(to="zeynep@example.com")[0])
        clock.shift(days - timedelta(minutes=1))
        assert make_web().get(link).status_code == 200
        clock.shift(timedelta(minutes=2))
        assert make_web().get(link).status_code == 404


def test_invitation_token_is_stored_only_hashed(web, world):
    """The database never holds the secret part of an emailed link."""
    web.login(world.admin)
    invite_staff(web)
    token = link_in(emails(to="zeynep@example.com")[0]).rsplit("/", 1)[1]
    assert len(token) * 6 >= 128  # URL-safe base64: at least 128 random bits
    rows = db.session.execute(text("SELECT * FROM account_tokens")).all()
    assert rows
    assert token not in repr(rows)


# --- Password reset ----------------------------------------------------------------------------


def test_reset_request_does_not_reveal_whether_an_account_exists(web, world):
    """Known and unknown addresses get the same message; only the known one gets an email."""
    known = web.post("/password/forgot", {"email": world.own_client.email}, follow_redirects=True)
    assert len(emails(to=world.own_client.email)) == 1
    before = outbox_size()
    unknown = web.post("/password/forgot", {"email": "nobody@example.com"}, follow_redirects=True)
    assert outbox_size() == before
    assert known.status_code == unknown.status_code == 200
    assert alerts(known) == alerts(unknown)
    assert alerts(known) == ["If an account uses that address, we have sent it a link to choose a new password."]


def test_reset_link_works_once_and_ends_every_session(make_web, world):
    """A new password through the link logs out every device; the link then stops working."""
    laptop, phone, forgetful = make_web(), make_web(), make_web()
    laptop.login(world.own_client)
    phone.login(world.own_client)
    forgetful.post("/password/forgot", {"email": world.own_client.email})
    link = link_in(emails(to=world.own_client.email)[0])

    assert forgetful.get(link).status_code == 200
    assert location(forgetful.post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})) == "/login"
    assert location(laptop.get("/")).startswith("/login")
    assert location(phone.get("/")).startswith("/login")
    assert forgetful.get(link).status_code == 404
    assert forgetful.login(world.own_client).status_code == 401
    assert location(forgetful.login(world.own_client, NEW_PASSWORD)) == "/"


# --- Password policy -------------------------------------------------------------------------------


def change_password(web, new: str, current: str = PASSWORD):
    """Change the logged-in user's password through the account page."""
    return web.post(
        "/account/password",
        {"password-current_password": current, "password-password": new, "password-confirm": new},
    )


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("tiny42", "Use at least 8 characters."),
        ("password123", "This password is too common. Choose one that is harder to guess."),
        ("ayse@example.com", "Do not use your name or email address as your password."),
    ],
    ids=["short", "common", "email"],
)
def test_weak_passwords_are_refused_at_the_field(web, world, password, message):
    """A short, common or personal password is refused with the reason under the field."""
    web.login(world.own_client)
    before = world.own_client.password_hash
    response = change_password(web, password)
    assert response.status_code == 422
    assert field_error(response, "password-password") == message
    assert db.session.get(User, world.own_client.id).password_hash == before


def test_password_change_needs_the_current_password(web, world):
    """Without the right current password, the password stays as it was."""
    web.login(world.own_client)
    response = change_password(web, NEW_PASSWORD, current="not my password")
    assert response.status_code == 422
    assert field_error(response, "password-current_password") == "Your current password is not correct."
    assert location(web.logout()) == "/login"
    assert location(web.login(world.own_client)) == "/"


def test_password_errors_speak_the_users_language(web, world):
    """A Turkish-speaking user reads the policy's reason in Turkish."""
    world.own_client.language = "tr"
    db.session.commit()
    web.login(world.own_client)
    response = change_password(web, "tiny42")
    assert response.status_code == 422
    assert field_error(response, "password-password") == turkish("Use at least 8 characters.")


def test_long_passphrase_is_accepted_and_stored_with_argon2id(web, make_web, world):
    """A passphrase of more than 64 characters is welcome and stored as an Argon2id hash."""
    passphrase = "the quick brown fox jumps over the lazy dog while the cat sleeps on"
    assert len(passphrase) > 64
    web.login(world.own_client)
    assert location(change_password(web, passphrase)) == "/account/"
    stored = db.session.get(User, world.own_client.id).password_hash
    assert stored.startswith("$argon2id$") and passphrase not in stored
    assert location(make_web().login(world.own_client, passphrase)) == "/"


# --- Rate limits, redirects, CSRF -----------------------------------------------------------------------


def test_eleventh_login_attempt_in_a_minute_is_refused(web, world):
    """After ten attempts in a minute from one address the login form answers 429 with a styled page, even to the right password.

    Each attempt names another account, so this is the limit per address, not the one per account (test_login_limits.py).
    """
    with time_machine.travel(now(), tick=False):
        for attempt in range(10):
            assert web.login(f"guess{attempt}@example.com", "guess after guess").status_code == 401
        response = web.login(world.own_client)
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many attempts" in page and "Wait a minute, then try again." in page
    assert "/static/css/app.css" in page and '<nav class="navbar' in page


@pytest.mark.parametrize("form", ["password reset request", "invitation", "reset link"])
def test_token_forms_are_rate_limited(web, world, form):
    """Reset requests and the forms behind emailed links are limited like logins, so tokens cannot be guessed."""
    url = {
        "password reset request": "/password/forgot",
        "invitation": "/invite/not-a-real-token",
        "reset link": "/password/reset/not-a-real-token",
    }[form]
    data = {"email": world.own_client.email, "name": "Guess", "password": "guess guess", "confirm": "guess guess"}
    with time_machine.travel(now(), tick=False):
        answers = [web.post(url, data).status_code for _ in range(11)]
    assert 429 not in answers[:10]
    assert answers[10] == 429


UNSAFE_TARGETS = ["//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)", "///evil.example"]


def test_login_follows_a_relative_next(web, world):
    """After logging in, a same-site path in ``next`` is where the user lands."""
    assert location(web.login(world.own_client, next="/account/?tab=password")) == "/account/?tab=password"


@pytest.mark.parametrize("target", UNSAFE_TARGETS)
def test_login_does_not_follow_an_unsafe_next(web, world, target):
    """A ``next`` pointing off the site sends the user home instead."""
    response = web.login(world.own_client, next=target)
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", UNSAFE_TARGETS)
def test_language_switch_does_not_follow_an_unsafe_next(web, target):
    """The language buttons stay on the site whatever ``next`` says."""
    assert web.post("/language", {"language": "tr", "next": target}).headers["Location"] == "/"
    assert web.post("/language", {"language": "en", "next": "/login"}).headers["Location"] == "/login"


def test_login_without_csrf_token_is_refused(web, world):
    """A login form posted without its token is refused and logs nobody in."""
    response = web.post("/login", {"email": world.own_client.email, "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert "The form expired. Reload the page and send it again." in response.get_data(as_text=True)
    assert location(web.get("/")).startswith("/login")


def test_changes_without_csrf_token_change_nothing(web, make_web, world):
    """Forged posts (no token) are refused with 400 and leave names and accounts as they were."""
    web.login(world.own_client)
    response = web.post("/account/", {"profile-name": "Forged", "profile-language": "en", "profile-timezone": "UTC"}, csrf=False)
    assert response.status_code == 400
    admin = make_web()
    admin.login(world.admin)
    assert admin.post(f"/admin/users/{world.manager.id}/deactivate", csrf=False).status_code == 400
    assert db.session.get(User, world.own_client.id).name == "Ayşe Client"
    assert db.session.get(User, world.manager.id).active


def test_anonymous_form_post_is_not_returned_to_after_login(web, world):
    """A form sent while logged out leads to the login page without a `next` that would answer 405."""
    response = web.post(f"/projects/{world.project.id}/archive")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_no_reset_link_for_people_of_an_archived_client(web, world):
    """Archived organisations' people get no password-reset email (they cannot log in anyway)."""
    from portal.clients import service as client_service

    client_service.set_archived(world.admin, world.own_org, True)
    db.session.commit()
    web.post("/password/forgot", {"email": world.own_client.email})
    assert outbox_size() == 0
