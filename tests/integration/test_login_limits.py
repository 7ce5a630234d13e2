"""Login attempts limited per account: a wait that grows, never a lock for good, a notice to the owner, nothing revealed."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import time_machine

from portal.auth import throttle
from portal.extensions import db
from portal.models import LoginThrottle
from tests.fixtures.outbox import emails

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
WRONG = "not the password at all"


def from_address(number: int) -> dict:
    """Send a request from another network address, as an attacker with many would."""
    return {"environ_base": {"REMOTE_ADDR": f"10.1.{number // 250}.{number % 250 + 1}"}}


def messages(response) -> str:
    """Return what the page tells the person: its alerts and field errors, whitespace collapsed."""
    body = response.get_data(as_text=True)
    found = re.findall(r'<div class="alert[^"]*"[^>]*>(.*?)<button', body, re.S) + re.findall(r'class="invalid-feedback d-block">(.*?)</div>', body, re.S)
    return " ".join(html.unescape(" ".join(found)).split())


def attempt(make_web, email: str, password: str, number: int):
    """Try to log in from a fresh browser at a new address; return the answer."""
    return make_web().post("/login", {"email": email, "password": password}, **from_address(number))


def test_five_failures_make_even_the_right_password_wait(make_web, world):
    """After five wrong passwords (from five addresses), the right one is refused for a minute with a message saying so."""
    email = world.own_client.email
    with time_machine.travel(START, tick=False) as traveller:
        assert [attempt(make_web, email, WRONG, n).status_code for n in range(5)] == [401] * 5
        refused = attempt(make_web, email, "correct horse battery", 6)
        assert refused.status_code == 429
        assert "Too many failed sign-ins with this email address. Try again in 1 minute." in messages(refused)
        assert email in refused.get_data(as_text=True)  # what was typed is kept
        traveller.shift(timedelta(seconds=61))
        response = attempt(make_web, email, "correct horse battery", 7)
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/"


def test_the_wait_doubles_up_to_an_hour(make_web, world):
    """Each failure after the fifth doubles the wait: 1, 2, 4 … minutes, never more than an hour."""
    email = world.own_client.email
    waits = []
    with time_machine.travel(START, tick=False) as traveller:
        for n in range(12):
            left = throttle.wait_left(email)
            if left:
                traveller.shift(left + timedelta(seconds=1))
            assert attempt(make_web, email, WRONG, n).status_code == 401
            left = throttle.wait_left(email)
            waits.append(throttle.minutes(left) if left else 0)
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60]


def test_a_successful_login_clears_the_count(make_web, world):
    """The right password, once the wait is over, logs in and forgets the failures: the next mistake waits no more."""
    email = world.own_client.email
    with time_machine.travel(START, tick=False) as traveller:
        for n in range(5):
            attempt(make_web, email, WRONG, n)
        traveller.shift(timedelta(minutes=2))
        assert attempt(make_web, email, "correct horse battery", 10).status_code == 302
        assert db.session.query(LoginThrottle).count() == 0
        assert attempt(make_web, email, WRONG, 11).status_code == 401
        assert throttle.wait_left(email) is None


def test_the_owner_is_told_once_after_ten_failures(make_web, world):
    """At the tenth failure the owner gets one email with a link to choose a new password; more failures send no more."""
    email = world.own_client.email
    with time_machine.travel(START, tick=False) as traveller:
        for n in range(13):
            left = throttle.wait_left(email)
            if left:
                traveller.shift(left + timedelta(seconds=1))
            attempt(make_web, email, WRONG, n)
            if n == 8:
                assert emails("login_attempts", to=email) == []
            if n == 9:
                sent = emails("login_attempts", to=email)
                link = re.search(r"http://portal\.test(/password/reset/\S+)", sent[0].text_body).group(1)
                assert make_web().get(link).status_code == 200  # the link works
    sent = emails("login_attempts", to=email)
    assert len(sent) == 1
    assert "Someone tried to sign in to your Rapport account with a wrong password 10 times in a row." in sent[0].text_body


def test_unknown_addresses_get_the_same_answers(make_web, world):
    """An address nobody has is answered exactly like a real account, failure after failure; nobody is emailed."""
    known, unknown = world.own_client.email, "nobody@example.com"
    answers = {}
    with time_machine.travel(START, tick=False):
        for email in (known, unknown):
            responses = [attempt(make_web, email, WRONG, n + (0 if email == known else 100)) for n in range(6)]
            answers[email] = [(r.status_code, messages(r)) for r in responses]
    assert answers[known] == answers[unknown]
    assert answers[known][5][0] == 429
    assert emails("login_attempts") == []


def test_other_accounts_are_not_held_up(make_web, world):
    """Failures against one account make only that account wait."""
    with time_machine.travel(START, tick=False):
        for n in range(6):
            attempt(make_web, world.own_client.email, WRONG, n)
        response = attempt(make_web, world.other_client.email, "correct horse battery", 50)
    assert response.status_code == 302
