"""The weekly email's facts, each sentence rendered once for both parts, read exactly as when every part rendered its own."""

from __future__ import annotations

from typing import Any, cast

import pytest
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from portal.extensions import db
from portal.models import Update, UpdateKind
from portal.seed import seed_demo
from portal.updates.dispatch import render_weekly_facts
from portal.weekly.facts import group_facts


@pytest.mark.parametrize("language", ["en", "tr"])
def test_prepared_facts_render_the_same_text_and_html(app, language):
    """Every weekly update of the demo (all kinds of facts), in each language: identical output, sentences and links included."""
    assert seed_demo() is True
    updates = db.session.scalars(select(Update).where(Update.kind == UpdateKind.WEEKLY)).all()
    assert updates and sum(len(u.facts) for u in updates) > 20
    macros = cast(Any, current_app.jinja_env.get_template("weekly/_facts.html").module)
    bodies = []
    for update in updates:
        groups = group_facts(update.facts)
        with force_locale(language):
            text = str(macros.weekly_email_text(groups)).strip("\n")
            html = str(macros.weekly_email_html(groups))
        assert tuple(map(str, render_weekly_facts(groups, language))) == (text, html)
        bodies.append(html)
    assert any("http" in html and "<li" in html for html in bodies)  # sentences with their absolute links were compared
