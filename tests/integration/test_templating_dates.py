"""The date filters cache Babel's work, yet follow each user's language and zone, and force_locale (emails)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import flask_babel
import pytest
from flask import g
from flask_babel import force_locale, refresh

from portal.templating import local_date, local_datetime, relative_time
from portal.timeutil import utcnow

MOMENT = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)  # already 2 March in Istanbul, still 1 March in New York


def without_seconds(text: str) -> str:
    """Drop the seconds of the time in ``text`` ("10:30:00 PM" → "10:30 PM")."""
    return re.sub(r"(\d{1,2}:\d{2}):\d{2}", r"\1", text)


def _sign_in(user) -> None:
    """Make ``user`` the request's current user (as Flask-Login's session loader would)."""
    g._login_user = user
    refresh()  # the test's app context (and its g, where Flask-Babel keeps the locale) outlives each request


@pytest.mark.parametrize(("language", "zone"), [("en", "Europe/Istanbul"), ("tr", "Europe/Istanbul"), ("en", "America/New_York"), ("tr", "UTC")])
def test_filters_match_flask_babel_for_each_language_and_zone(app, make_user, language, zone):
    """Cached or not, the text is what Flask-Babel gives for the signed-in user's language and zone."""
    user = make_user(language=language, timezone=zone)
    with app.test_request_context("/"):
        _sign_in(user)
        for _ in range(2):  # the second call is served from the cache
            # Babel's medium time has seconds ("10:30:00 PM"); the portal prints every time without them.
            assert local_datetime(MOMENT) == without_seconds(flask_babel.format_datetime(MOMENT, "medium"))
            assert local_datetime(MOMENT, "short") == flask_babel.format_datetime(MOMENT, "short")
            assert local_datetime(MOMENT.replace(tzinfo=None)) == without_seconds(flask_babel.format_datetime(MOMENT.replace(tzinfo=None), "medium"))
            assert local_date(MOMENT.date()) == flask_babel.format_date(MOMENT.date(), "medium")
            assert local_date(MOMENT) == flask_babel.format_date(MOMENT, "medium")  # a datetime: its day in the user's zone
            ago = relative_time(utcnow() - timedelta(days=3, minutes=5))
            words = flask_babel.format_timedelta(-timedelta(days=3, minutes=5), add_direction=True, threshold=1.0)
            assert f">{words}</time>" in ago


def test_the_same_moment_reads_differently_per_user(app, make_user):
    """One cache, two users: Turkish in Istanbul and English in New York each get their own text."""
    turkish = make_user(language="tr", timezone="Europe/Istanbul")
    american = make_user(language="en", timezone="America/New_York")
    texts = []
    for user in (turkish, american, turkish):
        with app.test_request_context("/"):
            _sign_in(user)
            texts.append((local_datetime(MOMENT), local_date(date(2026, 3, 2)), str(relative_time(MOMENT))))
    assert texts[0] == texts[2] and texts[0] != texts[1]
    assert (texts[0][1], texts[1][1]) == ("2 Mar 2026", "Mar 2, 2026")  # each language's own order
    assert texts[0][0].startswith("2 Mar") and texts[1][0].startswith("Mar 1")  # the day in each zone


def test_force_locale_is_honoured(app, make_user):
    """Emails rendered during a request in the recipient's language get that language, not the viewer's."""
    user = make_user(language="en", timezone="Europe/Istanbul")
    with app.test_request_context("/"):
        _sign_in(user)
        english = local_date(date(2026, 3, 2), "long")
        with force_locale("tr"):
            turkish = local_date(date(2026, 3, 2), "long")
        assert english == "March 2, 2026" and turkish == "2 Mart 2026"
        assert local_date(date(2026, 3, 2), "long") == english
