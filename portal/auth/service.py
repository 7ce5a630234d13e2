"""Account operations: sessions, invitations, password resets, deactivation."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from portal import activity
from portal.auth import throttle
from portal.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from portal.claims import rows_changed
from portal.errors import DomainError, NotAllowed
from portal.extensions import db
from portal.models import AccountToken, Client, Project, ProjectMember, Role, TokenPurpose, User, UserSession
from portal.models.users import normalise_email
from portal.notify.service import queue_email
from portal.signals import approvers_changed
from portal.timeutil import utcnow
from portal.urls import portal_url

PASSWORD_MESSAGES = {
    "too_short": _l("Use at least 8 characters."),
    "too_long": _l("Use at most 128 characters."),
    "common": _l("This password is too common. Choose one that is harder to guess."),
    "personal": _l("Do not use your name or email address as your password."),
}

# Only this many characters of the user agent are kept, for the sessions list.
_UA_LIMIT = 255
# last_seen_at is written at most this often, so browsing is not a write per request.
_TOUCH_EVERY = timedelta(seconds=60)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def check_password_policy(password: str, *, email: str = "", name: str = "") -> None:
    """Raise a DomainError on the ``password`` field when the policy refuses it."""
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise DomainError(PASSWORD_MESSAGES[problem], field="password")


# --- Login and sessions -------------------------------------------------------


def may_log_in(user: User) -> bool:
    """Tell whether the account is active and, for client users, its organisation not archived."""
    return user.active and (user.client is None or user.client.archived_at is None)


class TryLater(DomainError):
    """Too many failed sign-ins with this email address: even the right password waits (``portal.auth.throttle``)."""

    status = 429

    def __init__(self, wait: timedelta) -> None:
        self.minutes = throttle.minutes(wait)
        super().__init__(
            _nl(
                "Too many failed sign-ins with this email address. Try again in %(num)d minute.",
                "Too many failed sign-ins with this email address. Try again in %(num)d minutes.",
                self.minutes,
            ),
            field="password",
        )


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None (same cost either way); the caller commits.

    Failures are counted per email address, known or not: past a few, :class:`TryLater` is raised
    before the password is even checked, for an unknown address exactly as for a known one.
    """
    wait = throttle.wait_left(email)
    if wait is not None:
        raise TryLater(wait)
    user = db.session.scalar(User.by_email(email))
    password_hash = user.password_hash if user is not None else None
    if not verify_password(password_hash, password) or user is None or not may_log_in(user):
        throttle.record_failure(email, user)
        return None
    if not user.has_two_factor:  # with two-factor, the count is cleared by a right code (the code step counts failures too)
        throttle.clear(email)
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_session(user: User, *, remember: bool, user_agent: str = "") -> str:
    """Open a server-side session for ``user`` and return its raw token; the caller commits."""
    config = current_app.config
    now = utcnow()
    raw = secrets.token_urlsafe(32)
    lifetime = timedelta(days=config["REMEMBER_DAYS"]) if remember else timedelta(hours=config["SESSION_ABSOLUTE_HOURS"])
    db.session.add(
        UserSession(
            user=user,
            token_hash=_digest(raw),
            remember=remember,
            last_seen_at=now,
            expires_at=now + lifetime,
            user_agent=user_agent[:_UA_LIMIT],
        )
    )
    user.last_login_at = now
    user.session_token = raw
    return raw


def load_session(raw: str) -> User | None:
    """Return the user of a live session token, or None when it is unknown, revoked or expired."""
    if not raw:
        return None
    record = db.session.scalar(
        select(UserSession)
        .where(UserSession.token_hash == _digest(raw))
        .options(joinedload(UserSession.user).joinedload(User.client))  # one query per request, not three
    )
    if record is None or record.revoked_at is not None or not hmac.compare_digest(record.token_hash, _digest(raw)):
        return None
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    expired = now >= record.expires_at or (not record.remember and now - record.last_seen_at > idle)
    user = record.user
    if expired or not may_log_in(user):
        record.revoked_at = now
        db.session.commit()
        return None
    if now - record.last_seen_at > _TOUCH_EVERY:
        record.last_seen_at = now
        db.session.commit()
    user.session_token = raw
    return user


def end_session(raw: str | None) -> None:
    """Revoke one session so its cookies no longer work; the caller commits."""
    if raw:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _digest(raw), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def end_all_sessions(user: User, *, keep: str | None = None) -> None:
    """Revoke every session of ``user`` (but ``keep``, if given); the caller commits."""
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep:
        query = query.where(UserSession.token_hash != _digest(keep))
    db.session.execute(query.values(revoked_at=utcnow()))


# --- Tokens ---------------------------------------------------------------------


def issue_token(user: User, purpose: TokenPurpose, *, actor: User | None = None) -> tuple[AccountToken, str]:
    """Create a single-use link token for ``user``; earlier unused ones of that purpose stop working."""
    now = utcnow()
    db.session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    config = current_app.config
    if purpose is TokenPurpose.INVITE:
        lifetime = timedelta(days=config["INVITE_DAYS"])
    elif purpose is TokenPurpose.SIGN_IN:
        lifetime = timedelta(minutes=config["SIGN_IN_LINK_MINUTES"])
    else:
        lifetime = timedelta(minutes=config["RESET_MINUTES"])
    raw = secrets.token_urlsafe(32)  # 256 bits
    token = AccountToken(user=user, purpose=purpose, token_hash=_digest(raw), expires_at=now + lifetime, created_by_id=actor.id if actor else None)
    db.session.add(token)
    db.session.flush()
    return token, raw


def find_token(raw: str, purpose: TokenPurpose) -> AccountToken | None:
    """Return the usable token for ``raw``, or None when unknown, used or expired."""
    if not raw or len(raw) > 200:
        return None
    token = db.session.scalar(select(AccountToken).where(AccountToken.token_hash == _digest(raw)))
    if (
        token is None
        or not hmac.compare_digest(token.token_hash, _digest(raw))
        or token.purpose is not purpose
        or token.used_at is not None
        or token.expires_at <= utcnow()
        or not token.user.active
    ):
        return None
    return token


def _use_token(raw: str, purpose: TokenPurpose) -> AccountToken:
    """Mark the token used, atomically: of two concurrent uses, only one succeeds."""
    token = find_token(raw, purpose)
    if token is None:
        raise DomainError(_l("This link has expired or was already used. Ask for a new one."))
    claimed = rows_changed(update(AccountToken).where(AccountToken.id == token.id, AccountToken.used_at.is_(None)).values(used_at=utcnow()))
    if not claimed:
        raise DomainError(_l("This link has expired or was already used. Ask for a new one."))
    return token


# --- Invitations -----------------------------------------------------------------


def invite_user(
    actor: User,
    *,
    email: str,
    name: str,
    role: Role,
    client: Client | None = None,
    language: str | None = None,
) -> User:
    """Create (or re-invite) a user and queue their invitation email; the caller commits."""
    if role is Role.CLIENT:
        if client is None:
            raise DomainError(_l("Choose the client organisation this person belongs to."), field="client_id")
        if client.is_archived:
            raise DomainError(_l("This client is archived. Restore it before inviting people."))
    elif not actor.is_admin:
        raise NotAllowed(_l("Only an admin can invite agency staff."))
    else:
        client = None
    if not actor.is_staff:
        raise NotAllowed(_l("Only agency staff can invite people."))

    email = normalise_email(email)
    user = db.session.scalar(User.by_email(email))
    if user is not None:
        if user.has_password:
            raise DomainError(_l("Someone with this email already has an account."), field="email")
        if user.role is not role or user.client_id != (client.id if client else None):
            raise DomainError(_l("This email has a pending invitation for another role or client."), field="email")
        user.name = name.strip() or user.name
    else:
        config = current_app.config
        default_tz = client.timezone if client else config["TIMEZONE"]
        default_lang = language or (client.language if client else config["DEFAULT_LANGUAGE"])
        user = User(email=email, name=name.strip(), role=role, client=client, language=default_lang, timezone=default_tz)
        db.session.add(user)
        db.session.flush()
    token, raw = issue_token(user, TokenPurpose.INVITE, actor=actor)
    queue_email(
        user,
        kind="invite",
        key=f"invite:{token.id}",
        template="emails/invite.html",
        inviter=actor,
        client=client,
        link=portal_url("auth.accept_invite", token=raw),
        days=current_app.config["INVITE_DAYS"],
    )
    activity.record(actor, "user.invited", user, client=client, data={"role": role.value}, internal=True)
    return user


def accept_invite(raw: str, *, name: str, password: str) -> User:
    """Set the invitee's name and password and use up the invitation; the caller commits."""
    token = find_token(raw, TokenPurpose.INVITE)
    if token is None:
        raise DomainError(_l("This link has expired or was already used. Ask for a new one."))
    user = token.user
    name = name.strip()
    if not name:
        raise DomainError(_l("Tell us your name."), field="name")
    check_password_policy(password, email=user.email, name=name)
    _use_token(raw, TokenPurpose.INVITE)
    user.name = name
    user.password_hash = hash_password(password)
    activity.record(user, "user.joined", user, client=user.client, internal=True)
    return user


# --- Password reset ----------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Queue a reset link if an active account has this email; say nothing either way."""
    user = db.session.scalar(User.by_email(email))
    if user is None or not may_log_in(user) or not user.has_password:
        return
    _email_link(user, TokenPurpose.RESET, kind="password_reset", key="reset", endpoint="auth.reset_password", minutes="RESET_MINUTES")


def _email_link(user: User, purpose: TokenPurpose, *, kind: str, key: str, endpoint: str, minutes: str) -> None:
    """Issue a single-use link for ``purpose`` and queue its email (``emails/<kind>.html``; ``minutes`` names its lifetime setting)."""
    token, raw = issue_token(user, purpose)
    queue_email(
        user,
        kind=kind,
        key=f"{key}:{token.id}",
        template=f"emails/{kind}.html",
        link=portal_url(endpoint, token=raw),
        minutes=current_app.config[minutes],
    )


def may_use_sign_in_links(user: User) -> bool:
    """Tell whether ``user`` may sign in with an emailed link: a client whose organisation allows it, and who may log in."""
    return user.role is Role.CLIENT and user.client is not None and user.client.sign_in_links and not user.client.is_archived and may_log_in(user)


def request_sign_in_link(email: str) -> None:
    """Queue a sign-in link if this email belongs to a client allowed to use one; say nothing either way."""
    user = db.session.scalar(User.by_email(email))
    if user is None or not may_use_sign_in_links(user):
        return
    _email_link(user, TokenPurpose.SIGN_IN, kind="sign_in_link", key="sign-in", endpoint="auth.sign_in_with_link", minutes="SIGN_IN_LINK_MINUTES")


def sign_in_with_link(raw: str) -> User:
    """Use a sign-in link (once); return its user. The caller opens the session and commits."""
    token = _use_token(raw, TokenPurpose.SIGN_IN)
    user = token.user
    if not may_use_sign_in_links(user):  # the organisation turned links off since it was sent
        raise DomainError(_l("This link has expired or was already used. Ask for a new one."))
    activity.record(user, "user.signed_in_with_link", user, client=user.client, internal=True)
    return user


def reset_password(raw: str, password: str) -> User:
    """Set a new password from a reset link and end every session; the caller commits."""
    token = find_token(raw, TokenPurpose.RESET)
    if token is None:
        raise DomainError(_l("This link has expired or was already used. Ask for a new one."))
    user = token.user
    check_password_policy(password, email=user.email, name=user.name)
    _use_token(raw, TokenPurpose.RESET)
    user.password_hash = hash_password(password)
    end_all_sessions(user)
    activity.record(user, "user.password_reset", user, client=user.client, internal=True)
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Change the password after checking the current one; other sessions end. The caller commits."""
    if not verify_password(user.password_hash, current):
        raise DomainError(_l("Your current password is not correct."), field="current_password")
    check_password_policy(new, email=user.email, name=user.name)
    user.password_hash = hash_password(new)
    end_all_sessions(user, keep=user.session_token)


# --- Administration -------------------------------------------------------------------


def set_active(actor: User, user: User, active: bool) -> None:
    """Deactivate (ending every session at once) or reactivate a user; the caller commits."""
    if user.id == actor.id:
        raise DomainError(_l("You cannot deactivate your own account."))
    user.active = active
    if not active:
        end_all_sessions(user)
    activity.record(actor, "user.deactivated" if not active else "user.reactivated", user, client=user.client, internal=True)
    if not active and user.role is Role.CLIENT:
        _resettle_approvals(actor, user)


def _resettle_approvals(actor: User, user: User) -> None:
    """A deactivated approver no longer decides: settle what the remaining approvers all approved."""
    db.session.flush()
    projects = db.session.scalars(
        select(Project).join(ProjectMember, ProjectMember.project_id == Project.id).where(
            ProjectMember.user_id == user.id, ProjectMember.is_approver.is_(True)
        )
    ).all()
    for project in projects:
        approvers_changed.send(actor, project=project)


def change_role(actor: User, user: User, role: Role) -> None:
    """Move a staff user between admin and manager; the caller commits."""
    if not actor.is_admin:
        raise NotAllowed(_l("Only an admin can change roles."))
    if user.id == actor.id:
        raise DomainError(_l("You cannot change your own role."), field="role")
    if Role.CLIENT in (user.role, role):
        raise DomainError(_l("Client users cannot become staff, nor staff client users."), field="role")
    if user.role is not role:
        user.role = role
        activity.record(actor, "user.role_changed", user, data={"role": role.value}, internal=True)
