"""Two-factor sign-in: enrolling, the code after the password, recovery codes, and the agency's "staff must" setting."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pyotp
import pytest
import time_machine

from portal.extensions import db
from portal.models import RecoveryCode, User
from tests.fixtures.builders import PASSWORD
from tests.fixtures.outbox import emails

# A fixed moment in the middle of a 30-second step, so "the step before" and "the step after" are exact.
NOON = datetime(2026, 12, 7, 9, 0, 15, tzinfo=UTC)


def location(response) -> str:
    """Return the path a redirect points to."""
    assert response.status_code == 302, (response.status_code, response.get_data(as_text=True)[:500])
    return urlsplit(response.headers["Location"]).path


def page_text(response) -> str:
    """Return a page's text, whitespace collapsed and entities decoded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def code_at(secret: str, moment: datetime) -> str:
    """Return the code an authenticator app shows at ``moment``."""
    return pyotp.TOTP(secret).at(moment)


def enrol(web, *, at: datetime | None = None) -> tuple[str, list[str]]:
    """Set up two-factor sign-in as the logged-in user, as they would; return the secret and the recovery codes shown."""
    assert location(web.post("/account/two-factor/start")) == "/account/two-factor"
    page = web.text("/account/two-factor")
    secret = re.search(r'id="two-factor-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    assert "<svg" in page and "data:" not in page  # the QR code is inline markup
    response = web.post("/account/two-factor/confirm", {"confirm-code": code_at(secret, at or datetime.now(UTC)), "confirm-password": PASSWORD})
    assert response.status_code == 200, page_text(response)
    assert response.headers["Cache-Control"] == "no-store"
    codes = re.findall(r'<li class="recovery-code">([a-z2-7-]+)</li>', response.get_data(as_text=True))
    return secret, codes


def sign_in(web, user, code: str, **extra):
    """Log in with the password, then the code; return the answer to the code."""
    assert location(web.login(user, **extra)) == "/login/code"
    return web.post("/login/code", {"code": code})


@pytest.fixture
def enrolled(make_web, world):
    """The client user with two-factor sign-in on (enrolled at NOON), logged out; yields (user, secret, recovery codes)."""
    with time_machine.travel(NOON, tick=False):
        browser = make_web()
        browser.login(world.own_client)
        secret, codes = enrol(browser, at=NOON)
    return world.own_client, secret, codes


# --- Enrolling ----------------------------------------------------------------------------


def test_account_page_offers_two_factor_sign_in(web, world):
    """The account page says two-factor sign-in is off and leads to setting it up."""
    web.login(world.own_client)
    page = web.text("/account/")
    assert "Two-factor sign-in" in page and 'href="/account/two-factor"' in page and "Set up two-factor sign-in" in page


def test_enrolling_shows_a_qr_code_and_the_key_then_ten_recovery_codes(web, world):
    """Setting up shows a QR code and the key; a right code turns it on and shows ten recovery codes once."""
    web.login(world.own_client)
    secret, codes = enrol(web)
    assert len(codes) == 10 and len(set(codes)) == 10
    user = db.session.get(User, world.own_client.id)
    assert user.has_two_factor
    assert secret not in (user.totp_secret or "")  # stored encrypted
    stored = [row.code_hash for row in db.session.query(RecoveryCode).filter_by(user_id=user.id)]
    assert len(stored) == 10 and not any(code in stored or code.replace("-", "") in stored for code in codes)
    page = web.text("/account/two-factor")
    assert secret not in page and "10 unused recovery codes" in page  # the secret is never shown again
    assert "On" in web.text("/account/")


def test_a_wrong_confirmation_code_leaves_it_off(web, world):
    """A wrong code when confirming is refused with a message; sign-in still needs only the password."""
    web.login(world.own_client)
    web.post("/account/two-factor/start")
    response = web.post("/account/two-factor/confirm", {"confirm-code": "000000", "confirm-password": PASSWORD})
    assert response.status_code == 422
    assert "That code is not right" in page_text(response)
    assert not db.session.get(User, world.own_client.id).has_two_factor


def test_disabling_needs_the_password(enrolled, web):
    """Turning it off asks for the password; afterwards, the password alone logs in."""
    user, secret, _ = enrolled
    with time_machine.travel(NOON + timedelta(minutes=1), tick=False):
        assert location(sign_in(web, user, code_at(secret, NOON + timedelta(minutes=1)))) == "/"
        refused = web.post("/account/two-factor/disable", {"disable-password": "not my password"})
        assert refused.status_code == 422 and "Your password is not correct." in page_text(refused)
        assert location(web.post("/account/two-factor/disable", {"disable-password": PASSWORD})) == "/account/"
    assert not db.session.get(User, user.id).has_two_factor
    assert db.session.query(RecoveryCode).filter_by(user_id=user.id).count() == 0
    web.logout()
    assert location(web.login(user)) == "/"


# --- The code after the password ------------------------------------------------------------


def test_password_then_code_logs_in(enrolled, web):
    """After the right password, the portal asks for the code; the code logs in."""
    user, secret, _ = enrolled
    later = NOON + timedelta(minutes=2)
    with time_machine.travel(later, tick=False):
        assert location(web.login(user)) == "/login/code"
        assert "Enter your code" in web.text("/login/code")
        assert location(web.get("/")) == "/login"  # the password alone opened no session
        response = web.post("/login/code", {"code": code_at(secret, later)})
        assert location(response) == "/"
        assert web.get("/").status_code == 200


def test_a_wrong_code_is_refused(enrolled, web):
    """A wrong code is refused with a clear message, and no session starts."""
    user, _, _ = enrolled
    with time_machine.travel(NOON + timedelta(minutes=2), tick=False):
        response = sign_in(web, user, "123456")
        assert response.status_code == 401 and "That code is not right" in page_text(response)
        assert location(web.get("/")) == "/login"


def test_a_code_cannot_be_used_twice(enrolled, make_web):
    """The same code (the same 30 seconds) does not log in a second browser."""
    user, secret, _ = enrolled
    moment = NOON + timedelta(minutes=3)
    with time_machine.travel(moment, tick=False):
        code = code_at(secret, moment)
        assert location(sign_in(make_web(), user, code)) == "/"
        assert sign_in(make_web(), user, code).status_code == 401


@pytest.mark.parametrize(("offset", "accepted"), [(-60, False), (-30, True), (0, True), (30, True), (60, False)])
def test_codes_one_step_either_side_are_accepted(enrolled, web, offset, accepted):
    """A phone's clock may be 30 seconds off either way; a minute off is refused."""
    user, secret, _ = enrolled
    moment = NOON + timedelta(minutes=10)
    with time_machine.travel(moment, tick=False):
        response = sign_in(web, user, code_at(secret, moment + timedelta(seconds=offset)))
    assert (response.status_code == 302) is accepted, response.status_code


def test_an_earlier_code_is_refused_after_a_later_one(enrolled, make_web):
    """Once the next step's code was used, the current step's code is refused too (no replay within the window)."""
    user, secret, _ = enrolled
    moment = NOON + timedelta(minutes=10)
    with time_machine.travel(moment, tick=False):
        assert location(sign_in(make_web(), user, code_at(secret, moment + timedelta(seconds=30)))) == "/"
        assert sign_in(make_web(), user, code_at(secret, moment)).status_code == 401


def test_recovery_codes_work_once_each(enrolled, make_web):
    """A recovery code logs in instead of a code, once; another code works after it."""
    user, _, codes = enrolled
    with time_machine.travel(NOON + timedelta(minutes=5), tick=False):
        assert location(sign_in(make_web(), user, codes[0])) == "/"
        assert sign_in(make_web(), user, codes[0]).status_code == 401
        assert location(sign_in(make_web(), user, codes[1].upper().replace("-", " "))) == "/"  # typed loosely


def test_new_recovery_codes_need_the_password_and_replace_the_old(enrolled, make_web):
    """Making new recovery codes asks for the password; the old ones stop working."""
    user, secret, old = enrolled
    moment = NOON + timedelta(minutes=5)
    with time_machine.travel(moment, tick=False):
        browser = make_web()
        assert location(sign_in(browser, user, code_at(secret, moment))) == "/"
        refused = browser.post("/account/two-factor/recovery-codes", {"regenerate-password": "wrong password"})
        assert refused.status_code == 422
        response = browser.post("/account/two-factor/recovery-codes", {"regenerate-password": PASSWORD})
        new = re.findall(r'<li class="recovery-code">([a-z2-7-]+)</li>', response.get_data(as_text=True))
        assert response.status_code == 200 and len(new) == 10 and not set(new) & set(old)
        assert sign_in(make_web(), user, old[2]).status_code == 401
        assert location(sign_in(make_web(), user, new[0])) == "/"


def test_the_step_between_password_and_code_expires(enrolled, web):
    """Five minutes after the password, the code page sends the person back to log in again."""
    user, secret, _ = enrolled
    with time_machine.travel(NOON + timedelta(minutes=20), tick=False) as traveller:
        assert location(web.login(user)) == "/login/code"
        traveller.shift(timedelta(minutes=6))
        response = web.post("/login/code", {"code": code_at(secret, NOON + timedelta(minutes=26))})
        assert location(response) == "/login"
        assert location(web.get("/")) == "/login"


def test_without_the_password_step_the_code_page_sends_to_login(web):
    """Nobody reaches the code page without the password first."""
    assert location(web.get("/login/code")) == "/login"
    assert location(web.post("/login/code", {"code": "123456"})) == "/login"


def test_a_password_change_voids_the_step_in_between(enrolled, web):
    """The note between password and code is bound to the password: changing it (a reset) voids the note."""
    user, secret, _ = enrolled
    moment = NOON + timedelta(minutes=30)
    with time_machine.travel(moment, tick=False):
        assert location(web.login(user)) == "/login/code"
        person = db.session.get(User, user.id)
        person.password_hash = person.password_hash + "x"  # as if reset meanwhile
        db.session.commit()
        assert location(web.post("/login/code", {"code": code_at(secret, moment)})) == "/login"


def test_remember_me_still_works_after_the_code(enrolled, web):
    """"Remember me" chosen with the password gives a lasting login once the code is in."""
    user, secret, _ = enrolled
    moment = NOON + timedelta(minutes=40)
    with time_machine.travel(moment, tick=False):
        response = sign_in(web, user, code_at(secret, moment), remember="y")
    assert location(response) == "/"
    assert "remember_token=" in " ".join(response.headers.getlist("Set-Cookie"))


def test_codes_are_rate_limited_per_account(enrolled, make_web):
    """Wrong codes soon make the account wait, even from other addresses, and then the right code waits too."""
    user, secret, _ = enrolled
    moment = NOON + timedelta(minutes=50)
    with time_machine.travel(moment, tick=False):
        answers = []
        for attempt in range(5):
            browser = make_web()
            address = {"environ_base": {"REMOTE_ADDR": f"10.0.0.{attempt + 1}"}}
            # The right password does not reset the count: only a right code does.
            assert location(browser.login(user, **address)) == "/login/code"
            answers.append(browser.post("/login/code", {"code": "000000"}, **address).status_code)
        assert answers == [401] * 5
        # Now the account waits: a sign-in already at the code step gets 429 even with the right code,
        # and a new sign-in is refused at the password step.
        assert browser.post("/login/code", {"code": code_at(secret, moment)}, **address).status_code == 429
        late = make_web()
        assert late.login(user, environ_base={"REMOTE_ADDR": "10.0.0.99"}).status_code == 429


def test_a_sign_in_link_still_asks_for_the_code(enrolled, web, world):
    """A client whose organisation allows emailed links still gives their code after the link."""
    user, secret, _ = enrolled
    world.own_org.sign_in_links = True
    db.session.commit()
    moment = NOON + timedelta(minutes=55)
    with time_machine.travel(moment, tick=False):
        web.post("/login/link", {"email": user.email})
        link = re.search(r"http://portal\.test(/\S+)", emails("sign_in_link", to=user.email)[-1].text_body).group(1)
        assert location(web.post(link)) == "/login/code"
        assert location(web.get("/")) == "/login"
        assert location(web.post("/login/code", {"code": code_at(secret, moment)})) == "/"


# --- Required for staff ----------------------------------------------------------------------


def test_an_admin_must_enrol_before_requiring_it(web, world):
    """The setting cannot be turned on by an admin who has not enrolled (they would lock themselves out)."""
    web.login(world.admin)
    response = web.post("/admin/settings", {"staff_two_factor_required": "y"})
    assert response.status_code == 422 and "Turn on two-factor sign-in for your own account first" in page_text(response)


def test_staff_without_it_must_enrol_right_after_the_password(make_web, world):
    """When the agency requires it, a manager without it is taken to enrol after the password and can open nothing else until done."""
    admin = make_web()
    admin.login(world.admin)
    enrol(admin)
    manager = make_web()
    manager.login(world.manager)
    assert location(admin.post("/admin/settings", {"staff_two_factor_required": "y"})) == "/admin/settings"
    assert location(manager.get("/")) == "/login"  # turning it on logged out staff without it
    assert location(manager.login(world.manager, remember="y")) == "/account/two-factor"
    assert location(manager.get("/")) == "/account/two-factor"
    assert location(manager.get(f"/projects/{world.project.id}")) == "/account/two-factor"
    _, codes = enrol_started(manager)
    assert len(codes) == 10
    assert manager.get("/").status_code == 200
    refused = manager.post("/account/two-factor/disable", {"disable-password": PASSWORD})
    assert refused.status_code == 403 and db.session.get(User, world.manager.id).has_two_factor
    # Clients choose for themselves.
    assert location(make_web().login(world.own_client)) == "/"


def enrol_started(web) -> tuple[str, list[str]]:
    """Finish an enrolment the login already started (the key is on the page)."""
    page = web.text("/account/two-factor")
    secret = re.search(r'id="two-factor-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    response = web.post("/account/two-factor/confirm", {"confirm-code": code_at(secret, datetime.now(UTC))})
    assert response.status_code == 200
    return secret, re.findall(r'<li class="recovery-code">([a-z2-7-]+)</li>', response.get_data(as_text=True))


def test_only_admins_see_the_agency_settings(make_web, world):
    """Managers and clients are refused the settings page; the admin's people page links to it."""
    for person in (world.manager, world.own_client):
        browser = make_web()
        browser.login(person)
        assert browser.get("/admin/settings").status_code == 403
    admin = make_web()
    admin.login(world.admin)
    assert 'href="/admin/settings"' in admin.text("/admin/users")
    assert "Staff must use two-factor sign-in" in admin.text("/admin/settings")


def test_a_newly_invited_manager_must_enrol_before_using_the_portal(make_web, world):
    """Accepting an invitation is a first factor like any other: when the agency requires it, the newcomer enrols first."""
    from tests.integration.test_auth import NEW_PASSWORD, invite_staff, link_in

    admin = make_web()
    admin.login(world.admin)
    enrol(admin)
    assert location(admin.post("/admin/settings", {"staff_two_factor_required": "y"})) == "/admin/settings"
    invite_staff(admin)
    link = link_in(emails(to="zeynep@example.com")[0])
    newcomer = make_web()
    joined = newcomer.post(link, {"name": "Zeynep Yılmaz", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert location(joined) == "/account/two-factor"
    assert location(newcomer.get("/")) == "/account/two-factor"
    assert location(newcomer.get("/account/tokens/")) == "/account/two-factor"  # no API token before enrolling either


def test_turning_two_factor_on_or_off_logs_out_the_other_browsers(make_web, world):
    """A browser logged in with the password alone before enrolment must log in again, with the code; so must one after turning it off."""
    phone, laptop = make_web(), make_web()
    with time_machine.travel(NOON, tick=False):
        phone.login(world.own_client)
        laptop.login(world.own_client)
        secret, _codes = enrol(laptop, at=NOON)
        assert location(phone.get("/")) == "/login"
        assert laptop.get("/").status_code == 200  # the browser that enrolled stays in
    with time_machine.travel(NOON + timedelta(minutes=2), tick=False):
        assert location(sign_in(phone, world.own_client, code_at(secret, NOON + timedelta(minutes=2)))) == "/"
        assert phone.get("/").status_code == 200
        laptop.post("/account/two-factor/disable", {"disable-password": PASSWORD})
        assert not db.session.get(User, world.own_client.id).has_two_factor
        assert laptop.get("/").status_code == 200
        assert location(phone.get("/")) == "/login"


def test_turning_two_factor_on_asks_for_the_password(web, world):
    """A stolen session alone cannot tie the account to someone else's app: the first code goes with the password."""
    web.login(world.own_client)
    web.post("/account/two-factor/start")
    page = web.text("/account/two-factor")
    secret = re.search(r'id="two-factor-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    assert 'name="confirm-password"' in page
    refused = web.post("/account/two-factor/confirm", {"confirm-code": code_at(secret, datetime.now(UTC)), "confirm-password": "not it"})
    assert refused.status_code == 422 and not db.session.get(User, world.own_client.id).has_two_factor
