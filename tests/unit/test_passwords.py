"""The password policy and Argon2id hashing."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from portal import create_app
from portal.auth.passwords import MAX_LENGTH, MIN_LENGTH, hash_password, needs_rehash, password_problem, verify_password
from portal.config import ConfigError
from tests.conftest import FAST_PASSWORD_HASHING, app_config


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("", "too_short"),
        ("seven77", "too_short"),
        ("x" * (MAX_LENGTH + 1), "too_long"),
        ("password123", "common"),
        ("PassWord123", "common"),
        ("12345678", "common"),
        ("aaaaaaaaaaaa", "common"),
        ("abababababab", "common"),
    ],
)
def test_weak_passwords_are_refused(password, problem):
    """Short, overlong, common and repetitive passwords are refused with the reason."""
    assert password_problem(password) == problem


@pytest.mark.parametrize(
    ("password", "email", "name"),
    [
        ("ayse.yilmaz", "ayse.yilmaz@example.com", ""),
        ("Ayse.Yilmaz@Example.com", "ayse.yilmaz@example.com", ""),
        ("ayşe yılmaz", "someone@example.com", "Ayşe Yılmaz"),
    ],
    ids=["email's local part", "whole email, any case", "name"],
)
def test_personal_passwords_are_refused(password, email, name):
    """The user's own email address or name is not a password."""
    assert password_problem(password, email=email, name=name) == "personal"


@pytest.mark.parametrize(
    "password",
    [
        "x7#mQ2!v",  # exactly the minimum
        "correct horse battery staple",
        "the quick brown fox jumps over the lazy dog while the cat sleeps on the mat",
        "ğüşıöç çok gizli parola",
        "y" * 3 + "z" * 3 + "w" * (MAX_LENGTH - 6),
    ],
    ids=["minimum length", "passphrase", "64+ characters", "Turkish letters", "maximum length"],
)
def test_good_passwords_are_accepted(password):
    """Passwords of 8 characters and up, passphrases included, pass the policy."""
    assert len(password) >= MIN_LENGTH
    assert password_problem(password, email="ayse@example.com", name="Ayşe") is None


def test_minimum_length_is_eight():
    """The policy's minimum is the 8 characters QUALITY.md asks for, and 64+ characters are allowed."""
    assert MIN_LENGTH == 8
    assert MAX_LENGTH >= 64


def test_hash_is_argon2id_and_salted():
    """Each hash is Argon2id with its own salt, and never contains the password."""
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("$argon2id$") and second.startswith("$argon2id$")
    assert first != second
    assert "correct horse battery" not in first


def test_hash_uses_owasp_parameters():
    """The hash is made with at least OWASP's Argon2id minimum: 19 MiB, 2 iterations."""
    params = hash_password("correct horse battery").split("$")[3]
    values = dict(item.split("=") for item in params.split(","))
    assert int(values["m"]) >= 19 * 1024 and int(values["t"]) >= 2 and int(values["p"]) >= 1


def argon2_parameters(password_hash: str) -> dict[str, int]:
    """Return the m, t and p an Argon2 hash was made with."""
    return {key: int(value) for key, value in (item.split("=") for item in password_hash.split("$")[3].split(","))}


def test_production_hashes_with_owasp_parameters(database_url, tmp_path):
    """A production app hashes with OWASP's parameters, whatever the test suite uses for speed."""
    production = create_app(app_config(database_url, tmp_path, ENV="production"))
    with production.app_context():
        stored = hash_password("correct horse battery")
        assert argon2_parameters(stored) == {"m": 19 * 1024, "t": 2, "p": 1}
        assert verify_password(stored, "correct horse battery") and not needs_rehash(stored)


@pytest.mark.parametrize("env", ["production", "development"])
def test_weaker_hashing_is_refused_outside_the_test_suite(database_url, tmp_path, env):
    """Parameters below OWASP's stop a production or development start; only PORTAL_ENV=testing takes them."""
    with pytest.raises(ConfigError, match="PASSWORD_HASH_MEMORY_KIB"):
        create_app(app_config(database_url, tmp_path, ENV=env, **FAST_PASSWORD_HASHING))
    testing = create_app(app_config(database_url, tmp_path))
    with testing.app_context():
        assert argon2_parameters(hash_password("correct horse battery"))["m"] == FAST_PASSWORD_HASHING["PASSWORD_HASH_MEMORY_KIB"]


def test_the_environment_cannot_lower_hashing_even_with_portal_env_testing(database_url, tmp_path, monkeypatch):
    """A deployment started with PORTAL_ENV=testing by mistake, and weak PORTAL_PASSWORD_HASH_* values, refuses to start."""
    monkeypatch.setenv("PORTAL_ENV", "testing")
    monkeypatch.setenv("PORTAL_PASSWORD_HASH_MEMORY_KIB", "8")
    monkeypatch.setenv("PORTAL_PASSWORD_HASH_TIME_COST", "1")
    with pytest.raises(ConfigError, match="PASSWORD_HASH_MEMORY_KIB"):
        create_app({"SECRET_KEY": "x", "DATABASE_URL": database_url})
    with pytest.raises(ConfigError, match="PASSWORD_HASH_TIME_COST"):
        create_app({"SECRET_KEY": "x", "DATABASE_URL": database_url, "TESTING": True})


def test_a_hash_from_other_parameters_is_upgraded_when_the_app_changes_them(database_url, tmp_path):
    """An app with stronger parameters flags hashes made with the old ones, and verifies them still."""
    stored = hash_password("correct horse battery")
    stronger = create_app(app_config(database_url, tmp_path, ENV="production", PASSWORD_HASH_TIME_COST=3))
    with stronger.app_context():
        assert verify_password(stored, "correct horse battery") and needs_rehash(stored)
        assert argon2_parameters(hash_password("correct horse battery"))["t"] == 3


def test_verify_accepts_only_the_right_password():
    """Verification passes for the password and fails for anything else."""
    stored = hash_password("correct horse battery")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batter")
    assert not verify_password(stored, "")


@pytest.mark.parametrize("stored", [None, "", "not a hash", "$argon2id$v=19$garbage"])
def test_verify_fails_safely_without_a_usable_hash(stored):
    """A missing or broken hash fails verification instead of raising."""
    assert verify_password(stored, "correct horse battery") is False


def test_weaker_hashes_are_flagged_for_rehash():
    """A hash made with weaker parameters is flagged so it is upgraded at the next login."""
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("correct horse battery")
    assert verify_password(weak, "correct horse battery")
    assert needs_rehash(weak)
    assert not needs_rehash(hash_password("correct horse battery"))
