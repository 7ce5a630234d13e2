"""Locale and time zone selection, template filters and globals."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_timedelta, get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from portal.timeutil import utcnow

LANGUAGE_NAMES = {"en": "English", "tr": "Türkçe"}


def select_locale() -> str:
    """Choose the language: the user's setting, else the visitor's choice, else the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and scheduler jobs: emails use force_locale
        return current_app.config["DEFAULT_LANGUAGE"]
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    chosen = session.get("language")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["DEFAULT_LANGUAGE"]


def select_timezone() -> str:
    """Choose the time zone: the user's setting, else the agency's."""
    if has_request_context() and current_user and current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return current_app.config["TIMEZONE"]


def relative_time(value: datetime | None) -> Markup:
    """Render ``value`` as "3 days ago", with the exact local time on hover and for machines."""
    if value is None:
        return Markup("")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    exact = format_datetime(value, "medium")
    words = format_timedelta(value - utcnow(), add_direction=True, threshold=1.0)
    return Markup('<time datetime="{iso}" title="{exact}">{words}</time>').format(
        iso=value.isoformat(), exact=exact, words=words
    )


def local_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """Render ``value`` in the user's zone and language."""
    return format_datetime(value, fmt) if value else ""


def local_date(value: date | None, fmt: str = "medium") -> str:
    """Render a calendar date in the user's language."""
    return format_date(value, fmt) if value else ""


def nl2br(value: str) -> Markup:
    """Escape text and keep its line breaks."""
    return Markup("<br>").join(escape(value).split("\n"))


def init_app(app: Flask) -> None:
    """Register filters and globals used by every template."""
    from portal.notify.sender import redact_links

    app.jinja_env.filters.update(
        ago=relative_time, datetime=local_datetime, date=local_date, nl2br=nl2br, redact_links=redact_links
    )
    app.jinja_env.globals.update(
        csrf_token=generate_csrf,
        current_locale=lambda: str(get_locale()),
        language_names=LANGUAGE_NAMES,
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
