"""Configuration: one class, overridden by ``PORTAL_*`` environment variables."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import click
from flask import Flask


class ConfigError(click.ClickException, RuntimeError):
    """Raised when the configuration cannot run safely.

    A ``click.ClickException``, so ``flask --app portal …`` prints the one line that says
    what to set (``Error: …``, exit status 1) instead of a traceback; gunicorn and the
    tests see an ordinary exception with the same message.
    """

    def __str__(self) -> str:
        return self.message


class Config:
    """Defaults for every setting; see the README's configuration table."""

    ENV = "production"  # development | testing | production
    SECRET_KEY: str | None = None
    DATABASE_URL: str | None = None  # default: SQLite under instance/
    BASE_URL = "http://localhost:5000"  # used for links in emails
    AGENCY_NAME = "Rapport"

    # Languages and time.
    LANGUAGES: ClassVar[list[str]] = ["en", "tr"]
    DEFAULT_LANGUAGE = "en"
    TIMEZONE = "Europe/Istanbul"  # the agency's zone: default for users and projects
    WEEKLY_WEEKDAY = 0  # Monday; default for new projects
    WEEKLY_HOUR = 9

    # Password hashing: Argon2id with OWASP's parameters (m=19 MiB, t=2, p=1). Only the test
    # suite (PORTAL_ENV=testing) may set weaker ones, where the cost is not what is under test.
    PASSWORD_HASH_TIME_COST = 2
    PASSWORD_HASH_MEMORY_KIB = 19 * 1024
    PASSWORD_HASH_PARALLELISM = 1

    # Sessions.
    SESSION_IDLE_MINUTES = 120
    SESSION_ABSOLUTE_HOURS = 12
    REMEMBER_DAYS = 30
    INVITE_DAYS = 7
    RESET_MINUTES = 60
    SIGN_IN_LINK_MINUTES = 15
    # None: Secure in production only. Flask's own default (False) must not decide it.
    SESSION_COOKIE_SECURE: bool | None = None
    REMEMBER_COOKIE_SECURE: bool | None = None

    # Email.
    MAIL_FROM = "Rapport <no-reply@rapport.localhost>"
    MAIL_DIR: str | None = None  # default: instance/mail
    SMTP_HOST: str | None = None
    SMTP_PORT = 587
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_STARTTLS = True
    SMTP_SSL = False
    SMTP_TIMEOUT = 10  # seconds for the connection and for each reply of the server
    # A failed email is retried for this long after it was queued, then marked failed ("dead").
    MAIL_RETRY_WINDOW_HOURS = 72
    MAIL_RETRY_BASE_SECONDS = 30  # first wait; each next one doubles…
    MAIL_RETRY_MAX_SECONDS = 1800  # …up to this, so mail goes out within half an hour of a recovery
    # How long a sender holds the email it sends; one SMTP conversation is cut off at half of it.
    MAIL_LEASE_SECONDS = 60
    MAIL_BATCH_SIZE = 100  # at most this many emails a run…
    MAIL_BATCH_SECONDS = 30  # …and no new one started after this long; the rest go in the next run
    OUTBOX_INTERVAL_SECONDS = 5

    # Rate limits and infrastructure.
    REDIS_URL: str | None = None
    RATELIMIT_LOGIN = "10 per minute;50 per hour"
    RATELIMIT_TOKEN = "10 per minute;50 per hour"  # noqa: S105 - the limit of the token forms, not a secret
    PROXY_COUNT = 0  # number of trusted reverse proxies in front of the app

    # Uploads (the request limit; each feature enforces its own rules).
    MAX_UPLOAD_MB = 512
    STORAGE = "local"  # local | s3: where uploaded files are kept (portal.storage)
    UPLOAD_DIR: str | None = None  # local storage root; default: instance/uploads
    S3_BUCKET: str | None = None
    S3_ENDPOINT_URL: str | None = None  # for S3-compatible services (MinIO, R2…); None: AWS
    S3_ACCESS_KEY_ID: str | None = None  # None: boto3's usual credential chain
    S3_SECRET_ACCESS_KEY: str | None = None
    S3_REGION: str | None = None
    # Review previews (the pictures pins sit on): "thread" renders them in the uploading process
    # right after the upload; "scheduler" leaves them to the scheduler's sweep alone (which also
    # catches what a crashed thread left).
    PREVIEW_RENDERING = "thread"

    # Goals: how far behind the expected value (as a percentage of the planned change,
    # |target − baseline|) a goal may fall before it is "at risk", then "off track".
    GOAL_AT_RISK_PERCENT = 10
    GOAL_OFF_TRACK_PERCENT = 25


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Fill ``app.config`` from defaults, ``PORTAL_*`` variables, then test overrides."""
    app.config.from_object(Config)
    app.config.from_prefixed_env("PORTAL")
    if overrides:
        app.config.update(overrides)
    cfg = app.config
    env = cfg["ENV"]
    if env not in {"development", "testing", "production"}:
        raise ConfigError(f"PORTAL_ENV must be development, testing or production, not {env!r}")
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)

    if not cfg.get("SECRET_KEY"):
        if env == "production":
            raise ConfigError(
                "PORTAL_SECRET_KEY must be set in production (PORTAL_ENV is production unless set). "
                "For a local instance, run the command with PORTAL_ENV=development, as `make run` does."
            )
        cfg["SECRET_KEY"] = _development_secret(instance)

    _check_password_hashing(cfg, env, overrides or {})

    db_url = cfg.get("DATABASE_URL") or f"sqlite:///{instance / 'portal.db'}"
    cfg["SQLALCHEMY_DATABASE_URI"] = db_url
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if db_url.startswith("postgresql"):
        cfg["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_pre_ping", True)
    cfg["MAIL_DIR"] = cfg.get("MAIL_DIR") or str(instance / "mail")
    cfg["UPLOAD_DIR"] = cfg.get("UPLOAD_DIR") or str(instance / "uploads")
    if cfg["STORAGE"] not in {"local", "s3"}:
        raise ConfigError(f"PORTAL_STORAGE must be local or s3, not {cfg['STORAGE']!r}")
    if cfg["PREVIEW_RENDERING"] not in {"thread", "scheduler"}:
        raise ConfigError(f"PORTAL_PREVIEW_RENDERING must be thread or scheduler, not {cfg['PREVIEW_RENDERING']!r}")
    if cfg["STORAGE"] == "s3" and not cfg.get("S3_BUCKET"):
        raise ConfigError("PORTAL_S3_BUCKET must be set when PORTAL_STORAGE=s3")
    if isinstance(cfg["LANGUAGES"], str):
        cfg["LANGUAGES"] = [code.strip() for code in cfg["LANGUAGES"].split(",") if code.strip()]

    cfg["MAX_CONTENT_LENGTH"] = int(cfg["MAX_UPLOAD_MB"]) * 1024 * 1024
    cfg["BABEL_DEFAULT_LOCALE"] = cfg["DEFAULT_LANGUAGE"]
    cfg["BABEL_DEFAULT_TIMEZONE"] = "UTC"
    cfg["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")
    cfg["BOOTSTRAP_SERVE_LOCAL"] = True
    cfg["WTF_CSRF_TIME_LIMIT"] = None  # the token lives as long as the session
    cfg["PERMANENT_SESSION_LIFETIME"] = timedelta(days=int(cfg["REMEMBER_DAYS"]))
    cfg["SESSION_COOKIE_HTTPONLY"] = True
    cfg["SESSION_COOKIE_SAMESITE"] = "Lax"
    cfg["REMEMBER_COOKIE_HTTPONLY"] = True
    cfg["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    cfg["REMEMBER_COOKIE_DURATION"] = timedelta(days=int(cfg["REMEMBER_DAYS"]))
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if cfg.get(key) is None:
            cfg[key] = env == "production"
    cfg["RATELIMIT_STORAGE_URI"] = cfg.get("REDIS_URL") or "memory://"
    cfg["RATELIMIT_HEADERS_ENABLED"] = True


_PASSWORD_HASHING = ("PASSWORD_HASH_TIME_COST", "PASSWORD_HASH_MEMORY_KIB", "PASSWORD_HASH_PARALLELISM")


def _check_password_hashing(cfg: Mapping[str, Any], env: str, overrides: Mapping[str, Any]) -> None:
    """Refuse Argon2id parameters weaker than OWASP's anywhere but in the test suite.

    Only the suite's own app (``TESTING`` with ``ENV=testing``) may lower them, and only
    through ``create_app``'s overrides: no environment variable can, so a deployment
    started with ``PORTAL_ENV=testing`` by mistake still hashes at full strength.
    """
    for key in _PASSWORD_HASHING:
        value = cfg[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"PORTAL_{key} must be a positive whole number, not {value!r}")
    weaker = [key for key in _PASSWORD_HASHING if cfg[key] < getattr(Config, key)]
    in_suite = env == "testing" and cfg.get("TESTING") is True and all(key in overrides for key in weaker)
    if weaker and not in_suite:
        names = ", ".join(f"PORTAL_{key}" for key in weaker)
        raise ConfigError(f"{names} may not be below OWASP's Argon2id parameters (only the test suite may lower them)")


def _development_secret(instance: Path) -> str:
    """Return a key kept under instance/ so development sessions survive restarts."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
