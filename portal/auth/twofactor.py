"""Two-factor sign-in: TOTP codes (RFC 6238, through pyotp), single-use recovery codes, the agency's "staff must" setting.

The TOTP secret is stored encrypted (Fernet) with a key derived from ``SECRET_KEY`` by HKDF-SHA256, so a
copy of the database alone does not give the codes away; changing ``SECRET_KEY`` therefore turns every
enrolment off (people enrol again, or use a recovery code). The secret is shown only while enrolling.

A code is accepted once: the time step it matched is stored, and only a later step is accepted next
(one step either side of now, for clocks that drift). Recovery codes have 80 random bits, so a salted
SHA-256 is enough to keep them (a slow hash protects guessable secrets, which they are not).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup
from sqlalchemy import delete, or_, select, update

from portal import activity
from portal.auth.passwords import verify_password
from portal.claims import rows_changed
from portal.errors import DomainError, NotAllowed
from portal.extensions import db
from portal.models import AgencySettings, RecoveryCode, Role, User
from portal.timeutil import utcnow

RECOVERY_CODES = 10
STEP_SECONDS = 30
VALID_WINDOW = 1  # steps either side of now
_HKDF_INFO = b"rapport two-factor secret v1"

WRONG_CODE = _l("That code is not right, or it was already used. Enter the current code from your app, or a recovery code.")
WRONG_PASSWORD = _l("Your password is not correct.")


# --- The secret at rest ---------------------------------------------------------------


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


# The session key set at login when the agency requires two-factor sign-in and this staff member has none:
# they may then only enrol (the gate in portal.auth), and enrolling asks no password again.
MUST_ENROL = "two_factor_must_enrol"

def _seal(secret: str) -> str:
    return _fernet(current_app.config["SECRET_KEY"]).encrypt(secret.encode()).decode()


def _open(sealed: str | None) -> str | None:
    if not sealed:
        return None
    try:
        return _fernet(current_app.config["SECRET_KEY"]).decrypt(sealed.encode()).decode()
    except InvalidToken:  # SECRET_KEY changed: the enrolment can no longer be checked
        return None


# --- Enrolment ---------------------------------------------------------------------------


def start_enrolment(user: User) -> None:
    """Give ``user`` a new secret to add to their app (replacing an unconfirmed one); the caller commits."""
    if user.has_two_factor:
        raise DomainError(_l("Two-factor sign-in is already on."))
    user.totp_secret = _seal(pyotp.random_base32())
    user.totp_confirmed_at = None
    user.totp_last_step = None


def pending_secret(user: User) -> str | None:
    """Return the secret of an enrolment not confirmed yet (None otherwise: a confirmed secret is never shown again)."""
    if user.totp_confirmed_at is not None:
        return None
    return _open(user.totp_secret)


def provisioning_uri(user: User, secret: str) -> str:
    """Return the ``otpauth://`` address the QR code carries."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=current_app.config["AGENCY_NAME"])


def qr_svg(uri: str) -> Markup:
    """Return the QR code of ``uri`` as inline SVG markup (no script, no style attribute, no data: address)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff", svgclass="qr-code", lineclass=None)
    return Markup(svg)  # noqa: S704 - segno's own markup of a URI we built


def confirm_enrolment(user: User, code: str, password: str | None = None) -> list[str]:
    """Turn two-factor sign-in on once ``code`` matches the new secret; return the recovery codes to show once. The caller commits.

    ``password`` is checked unless None, which only the enrolment right after a login may use (the
    password was just typed): otherwise someone holding a stolen session could tie the account to
    their own app and lock its owner out.
    """
    if password is not None:
        _check_password(user, password)
    secret = pending_secret(user)
    if secret is None:
        raise DomainError(_l("Start again: set up two-factor sign-in from your account page."))
    step = _matching_step(secret, code)
    if step is None:
        raise DomainError(_l("That code is not right. Enter the six digits your app shows now."), field="code")
    user.totp_confirmed_at = utcnow()
    user.totp_last_step = step
    activity.record(user, "user.two_factor_on", user, client=user.client, internal=True)
    return _new_recovery_codes(user)


def regenerate_recovery_codes(user: User, password: str) -> list[str]:
    """Replace the recovery codes (the old ones stop working) after checking the password; the caller commits."""
    _check_password(user, password)
    if not user.has_two_factor:
        raise DomainError(_l("Two-factor sign-in is off."))
    return _new_recovery_codes(user)


def disable(user: User, password: str) -> None:
    """Turn two-factor sign-in off after checking the password; refused for staff when the agency requires it. The caller commits."""
    _check_password(user, password)
    if not user.totp_secret:
        raise DomainError(_l("Two-factor sign-in is off."))
    if user.is_staff and staff_must_use_two_factor():
        raise NotAllowed(_l("The agency requires two-factor sign-in for staff: it cannot be turned off."))
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    activity.record(user, "user.two_factor_off", user, client=user.client, internal=True)


def _check_password(user: User, password: str) -> None:
    if not verify_password(user.password_hash, password):
        raise DomainError(WRONG_PASSWORD, field="password")


# --- Codes --------------------------------------------------------------------------------


def _now_step() -> int:
    return int(utcnow().timestamp()) // STEP_SECONDS


def _matching_step(secret: str, code: str) -> int | None:
    """Return the time step (now ±1) whose code is ``code``, or None."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now = _now_step()
    found = None
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):  # every step is compared: no early exit
            found = step
    return found


def verify_code(user: User, code: str) -> bool:
    """Accept a current TOTP code once, or an unused recovery code once; the caller commits."""
    if not user.has_two_factor:
        return False
    secret = _open(user.totp_secret)
    step = _matching_step(secret, code) if secret else None
    if step is not None:
        # Only a step later than the last one used: the same code (or an earlier one) cannot be replayed, even concurrently.
        claimed = rows_changed(
            update(User)
            .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
            .values(totp_last_step=step)
        )
        return bool(claimed)
    return _use_recovery_code(user, code)


def _normalise_recovery(code: str) -> str:
    return "".join(char for char in code.lower() if char.isalnum())


def _recovery_hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{_normalise_recovery(code)}".encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    """Replace ``user``'s recovery codes with ten new ones; return them in clear, to show this once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()  # 80 bits, 16 characters
        code = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
        salt = secrets.token_hex(16)
        db.session.add(RecoveryCode(user_id=user.id, salt=salt, code_hash=_recovery_hash(salt, code)))
        codes.append(code)
    db.session.flush()
    return codes


def _use_recovery_code(user: User, code: str) -> bool:
    """Use one unused recovery code matching ``code``, atomically (of two concurrent uses, one wins)."""
    if len(_normalise_recovery(code)) != 16:
        return False
    unused = db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all()
    match = next((row for row in unused if hmac.compare_digest(row.code_hash, _recovery_hash(row.salt, code))), None)
    if match is None:
        return False
    claimed = rows_changed(update(RecoveryCode).where(RecoveryCode.id == match.id, RecoveryCode.used_at.is_(None)).values(used_at=utcnow()))
    if claimed:
        activity.record(user, "user.recovery_code_used", user, client=user.client, internal=True)
    return bool(claimed)


def recovery_codes_left(user: User) -> int:
    """Return how many recovery codes ``user`` has not used."""
    return len(db.session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())


# --- The agency's setting --------------------------------------------------------------------


def agency_settings() -> AgencySettings:
    """Return the agency's settings row, made with its defaults when there is none yet (the caller commits)."""
    settings = db.session.get(AgencySettings, 1)
    if settings is None:
        settings = AgencySettings(id=1, staff_two_factor_required=False)
        db.session.add(settings)
    return settings


def staff_must_use_two_factor() -> bool:
    """Tell whether the agency requires two-factor sign-in of its staff."""
    settings = db.session.get(AgencySettings, 1)
    return bool(settings and settings.staff_two_factor_required)


def must_enrol(user: User) -> bool:
    """Tell whether ``user`` must set up two-factor sign-in before using the portal."""
    return user.is_staff and not user.has_two_factor and staff_must_use_two_factor()


def set_staff_requirement(actor: User, required: bool) -> None:
    """Require (or stop requiring) two-factor sign-in of staff; the caller commits.

    Turning it on needs the admin's own enrolment first (else they would lock themselves out of this page);
    staff without it are logged out, and sent to enrol right after their next password.
    """
    if not actor.is_admin:
        raise NotAllowed(_l("Only an admin can change the agency's settings."))
    if required and not actor.has_two_factor:
        raise DomainError(_l("Turn on two-factor sign-in for your own account first, on your account page."), field="staff_two_factor_required")
    from portal.auth.service import end_all_sessions

    settings = agency_settings()
    if settings.staff_two_factor_required != required:
        settings.staff_two_factor_required = required
        if required:  # staff without it are logged out: their next sign-in takes them to enrol
            for person in db.session.scalars(select(User).where(User.role != Role.CLIENT, User.totp_confirmed_at.is_(None), User.id != actor.id)):
                end_all_sessions(person)
        activity.record(actor, "agency.staff_two_factor_required" if required else "agency.staff_two_factor_optional", actor, internal=True)


# --- Between the password and the code ----------------------------------------------------------
# After the right password, the browser holds only this: a signed, expiring note of who passed the
# first step (bound to their password hash, so a password change voids it), never a session.

_PENDING_SALT = "rapport.two-factor.pending"
PENDING_MINUTES_DEFAULT = 5


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_PENDING_SALT)


def _password_fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:32]


def pending_minutes() -> int:
    """Return how long the code may be entered after the password."""
    return int(current_app.config.get("TWO_FACTOR_PENDING_MINUTES", PENDING_MINUTES_DEFAULT))


def pending_token(user: User, *, remember: bool, next_path: str | None) -> str:
    """Return the signed note that ``user`` passed the password step (with their "remember me" and where to go next)."""
    return _serializer().dumps({"uid": user.id, "pw": _password_fingerprint(user), "remember": remember, "next": next_path or ""})


def pending_user_id(raw: str | None) -> int | None:
    """Return the user id of a validly signed note, expired or not (only to key the per-account rate limit)."""
    if not raw:
        return None
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return None
    return data.get("uid") if isinstance(data, dict) and isinstance(data.get("uid"), int) else None


def read_pending(raw: str | None) -> tuple[User, bool, str | None] | None:
    """Return (user, remember, next) of a live note, or None when it is missing, forged, expired or out of date."""
    from portal.auth.service import may_log_in

    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=pending_minutes() * 60)
    except BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(data, dict) or not isinstance(data.get("uid"), int):
        return None
    user = db.session.get(User, data["uid"])
    if user is None or not may_log_in(user) or not user.has_two_factor or not hmac.compare_digest(str(data.get("pw", "")), _password_fingerprint(user)):
        return None
    return user, bool(data.get("remember")), str(data.get("next") or "") or None
