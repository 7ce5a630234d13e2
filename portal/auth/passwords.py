"""Password hashing (Argon2id) and the password policy."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context

from portal.config import Config

MIN_LENGTH = 8
MAX_LENGTH = 128


@lru_cache(maxsize=4)
def _argon2(time_cost: int, memory_kib: int, parallelism: int) -> tuple[PasswordHasher, str]:
    """Return an Argon2id hasher with these parameters, and a hash of a random password made with it.

    The dummy hash is verified against when the account does not exist, so a failed login
    takes as long whether or not the email is known.
    """
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    return hasher, hasher.hash("not-a-real-password-9f8e7d6c")


def _hashing() -> tuple[PasswordHasher, str]:
    """Return the hasher (and dummy hash) for the app's parameters: OWASP's (the defaults) outside an app."""
    source = current_app.config if has_app_context() else vars(Config)
    return _argon2(source["PASSWORD_HASH_TIME_COST"], source["PASSWORD_HASH_MEMORY_KIB"], source["PASSWORD_HASH_PARALLELISM"])


def hash_password(password: str) -> str:
    """Return an Argon2id hash of ``password``."""
    hasher, _ = _hashing()
    return hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password`` against ``password_hash`` in constant-ish time."""
    hasher, dummy = _hashing()
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Tell whether the hash was made with weaker parameters than today's."""
    hasher, _ = _hashing()
    return hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Return why ``password`` is refused, as an untranslated key, or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if len(password) > MAX_LENGTH:
        return "too_long"
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(lowered)) <= 2:
        return "common"
    local_part = email.split("@", 1)[0].lower()
    if (local_part and lowered == local_part) or lowered == email.lower() or (name and lowered == name.lower()):
        return "personal"
    return None
