"""Locale and time zone selection, and the filters and globals every template may use.

They are registered on the app, not on a blueprint: the scheduler and the CLI render
emails (and the weekly update's facts) without serving a page. A feature's own labels
(``goal_labels``, ``deliverable_labels``…) are added by its ``init_app``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from babel import Locale, dates
from flask import Flask, current_app, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import Domain, _get_current_context, format_date, get_babel, get_domain, get_locale, get_timezone
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from portal.goals import texts
from portal.goals.units import format_computed, format_measure, format_percentage
from portal.markdown import render_markdown
from portal.notify.sender import redact_links
from portal.storage.downloads import human_size
from portal.timeutil import utcnow, zone_named
from portal.weekly.facts import group_facts, is_portal_path, is_quiet, sentences_for

LANGUAGE_NAMES = {"en": "English", "tr": "Türkçe"}


def select_locale() -> str:
    """Choose the language: the user's setting, else the visitor's choice, else the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and scheduler jobs: emails use force_locale
        return current_app.config["DEFAULT_LANGUAGE"]
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    chosen = session.get("language")
    if isinstance(chosen, str) and chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["DEFAULT_LANGUAGE"]


class RequestDomain(Domain):
    """Flask-Babel's message domain, keeping the context's translations once looked up.

    Each ``_()`` otherwise looks up the context, the locale, its name and the catalog cache
    again (~8 µs; a page calls it hundreds of times). Flask-Babel already keeps a
    ``babel_translations`` slot on its context for this, which ``force_locale`` (emails) and
    ``refresh()`` reset, but its domain never reads it; this one does.
    """

    def get_translations(self) -> Any:
        """Return the translations of the context's locale (looked up once per context and locale)."""
        context = _get_current_context()
        if context is None:
            return super().get_translations()
        kept = getattr(context, "babel_translations", None)
        if kept is None:
            kept = context.babel_translations = super().get_translations()
        return kept


def _translations() -> Any:
    """Return the current translations, straight from the context's slot once they are kept there.

    Flask-Babel's own lookup reaches its state through ``flask.g`` three times per call (a
    proxy each); the application context holds it directly. Templates call this through
    ``_()``: a few hundred times a page.
    """
    app_context = _cv_app.get(None)
    state = app_context.g.__dict__.get("_flask_babel") if app_context is not None else None
    kept = state.__dict__.get("babel_translations") if state is not None else None
    return kept if kept is not None else get_domain().get_translations()


def select_timezone() -> str:
    """Choose the time zone: the user's setting, else the agency's."""
    if has_request_context() and current_user and current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return current_app.config["TIMEZONE"]


# Babel's formatting is slow (a pattern lookup and a time zone conversion per call, ~0.1 ms) and the
# dashboards format the same moments on every request. The results are cached per (value, format,
# locale, zone): the locale and zone are still asked of Flask-Babel on every call (it keeps them for
# the request), so ``force_locale`` (emails) and ``refresh()`` keep working.
_FORMAT_CACHE_SIZE = 8192


@lru_cache(maxsize=_FORMAT_CACHE_SIZE)
def _datetime_text(value: datetime, fmt: str, locale: Locale | None, tzinfo: Any) -> str:
    return dates.format_datetime(value, _datetime_pattern(fmt, locale), tzinfo=tzinfo, locale=locale)


_NAMED_FORMATS = ("short", "medium", "long", "full")


def _datetime_pattern(fmt: str, locale: Locale | None) -> str:
    """Return the pattern of a "short"/"medium"/"long"/"full" date and time: the date in that length, the time without seconds.

    Babel's own medium/long/full times carry seconds ("9:00:00 AM"); nobody schedules to the
    second, so every time the portal prints is the locale's short time ("9:00 AM", "09:00"),
    with the zone's name after it in the "full" style. A format configured for Flask-Babel, or
    an explicit pattern, is used as it is.
    """
    configured = _format("datetime", fmt)
    if fmt not in _NAMED_FORMATS or configured != fmt:
        return configured
    parsed = locale or Locale.parse("en")
    time_pattern = parsed.time_formats["short"].pattern + (" zzzz" if fmt == "full" else "")
    return str(parsed.datetime_formats[fmt]).replace("{0}", time_pattern).replace("{1}", parsed.date_formats[fmt].pattern)


@lru_cache(maxsize=_FORMAT_CACHE_SIZE)
def _date_text(value: date, fmt: str, locale: Locale | None) -> str:
    return dates.format_date(value, _format("date", fmt), locale=locale)


@lru_cache(maxsize=_FORMAT_CACHE_SIZE)
def _delta_text(seconds: int, locale: Locale | None, direction: bool = True) -> str:
    # Babel reads whole seconds only (``days * 86400 + seconds``), so the key loses nothing.
    return dates.format_timedelta(timedelta(seconds=seconds), "second", threshold=1.0, add_direction=direction, locale=locale)


def _format(key: str, fmt: str) -> str:
    """Resolve "short"/"medium"/… through Flask-Babel's configured date formats, as its own filters do."""
    formats = get_babel().instance.date_formats
    if fmt in ("short", "medium", "full", "long"):
        return formats[f"{key}.{fmt}"] or fmt
    return fmt


def relative_time(value: datetime | None) -> Markup:
    """Render ``value`` as "3 days ago", with the exact local time on hover and for machines."""
    if value is None:
        return Markup("")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    locale = get_locale()
    exact = _datetime_text(value, "medium", locale, get_timezone())
    delta = value - utcnow()
    words = _delta_text(delta.days * 86400 + delta.seconds, locale)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(value.isoformat(), exact, words)  # format() escapes each value


def duration_since(value: datetime | None, now: datetime | None = None) -> Markup:
    """Render how long it has been since ``value`` ("1 month", "3 days"), the exact local time on hover.

    For "waiting for 1 month": the same words as ``ago`` without its direction ("1 month ago").
    """
    if value is None:
        return Markup("")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    locale = get_locale()
    exact = _datetime_text(value, "medium", locale, get_timezone())
    delta = (now or utcnow()) - value
    words = _delta_text(max(delta.days * 86400 + delta.seconds, 0), locale, False)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(value.isoformat(), exact, words)  # format() escapes each value


def local_datetime(value: datetime | None, fmt: str = "medium", zone: str | None = None) -> str:
    """Render ``value`` in the user's zone and language (or in the zone called ``zone``: a client's time now)."""
    if not value:
        return ""
    if value.tzinfo is None:  # as Flask-Babel reads a naive datetime: UTC
        value = value.replace(tzinfo=UTC)
    return _datetime_text(value, fmt, get_locale(), zone_named(zone) if zone else get_timezone())


def local_date(value: date | None, fmt: str = "medium") -> str:
    """Render a calendar date in the user's language (a datetime: its date in the user's zone)."""
    if not value:
        return ""
    if isinstance(value, datetime):
        return format_date(value, fmt)  # rebased to the user's zone by Flask-Babel; rare, not cached
    return _date_text(value, fmt, get_locale())


def nl2br(value: str) -> Markup:
    """Escape text and keep its line breaks."""
    return Markup("<br>").join(escape(value).split("\n"))


def iso_date(value: str | None) -> date | None:
    """Turn a fact's ISO date (``2026-03-09``) back into a date for the ``date`` filter."""
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def iso_datetime(value: str | None) -> datetime | None:
    """Turn a fact's ISO timestamp back into an aware datetime for the ``datetime`` filter."""
    try:
        parsed = datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def fact_href(link: str | None, external: bool = False) -> str | None:
    """Return a fact's link for a page (path) or an email (absolute); None unless it is a portal path."""
    if not link or not is_portal_path(link) or urlsplit(link).scheme:
        return None
    if external or not has_request_context():
        return current_app.config["BASE_URL"].rstrip("/") + link
    return request.script_root + link


def init_app(app: Flask) -> None:
    """Register the filters and globals used by every template, emails included."""
    # The same gettext callables Flask-Babel installs, reaching the translations faster.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.filters.update(
        ago=relative_time,
        duration=duration_since,
        datetime=local_datetime,
        date=local_date,
        nl2br=nl2br,
        redact_links=redact_links,
        markdown=render_markdown,
        filesize=human_size,
        iso_date=iso_date,
        iso_datetime=iso_datetime,
        fact_href=fact_href,
        goal_measure=format_measure,
        goal_computed=format_computed,
        percentage=format_percentage,
    )
    app.jinja_env.globals.update(
        csrf_token=generate_csrf,
        current_locale=lambda: str(get_locale()),
        language_names=LANGUAGE_NAMES,
        group_facts=group_facts,
        fact_sentences=sentences_for,
        facts_are_quiet=is_quiet,
        goal_measure_text=texts.measure_text,
        goal_progress_text=texts.progress_text,
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
