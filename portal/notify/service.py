"""Queue emails in the outbox, rendered in each recipient's language."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from markupsafe import Markup
from sqlalchemy import select

from portal.extensions import db
from portal.models import EmailStatus, OutboxEmail, User
from portal.timeutil import utcnow


def _one_line(text: str, limit: int) -> str:
    """Collapse whitespace (no CR/LF can reach a header) and cut to ``limit``."""
    return " ".join(text.split())[:limit]


def render_email(template: str, language: str, **context: Any) -> tuple[str, str, str]:
    """Render an email template's subject, text and HTML in ``language``."""
    env = current_app.jinja_env
    with force_locale(language):
        tmpl = env.get_template(template)
        ctx = tmpl.new_context({**env.globals, **context, "language": language})
        # Subject and text are plain text: undo the HTML escaping of the .html template.
        subject = _one_line(html.unescape("".join(tmpl.blocks["subject"](ctx))), 250)
        text = html.unescape("".join(tmpl.blocks["text"](ctx))).strip() + "\n"
        # The block was rendered by Jinja with autoescape on (an .html template): already escaped.
        html_part = Markup("".join(tmpl.blocks["html"](ctx)))  # noqa: S704
        html_body = render_template("emails/_layout.html", subject=subject, content=html_part, language=language)
    return subject, text, html_body


def queue_email(
    recipient: User,
    *,
    kind: str,
    key: str,
    template: str,
    to_address: str | None = None,
    **context: Any,
) -> OutboxEmail | None:
    """Add one email for ``recipient`` unless ``key`` was queued before; the caller commits.

    ``key`` is the idempotency key: the same key never produces a second email.
    Returns the queued email, or None when one with that key already exists.
    """
    if db.session.scalar(select(OutboxEmail.id).where(OutboxEmail.idempotency_key == key)) is not None:
        return None
    email = OutboxEmail(**email_values(recipient, kind=kind, key=key, template=template, to_address=to_address, **context))
    db.session.add(email)
    return email


def email_values(
    recipient: User,
    *,
    kind: str,
    key: str,
    template: str,
    to_address: str | None = None,
    **context: Any,
) -> dict[str, Any]:
    """Return the columns of the email ``queue_email`` would queue, rendered in the recipient's language (for bulk inserts)."""
    language = recipient.language or current_app.config["DEFAULT_LANGUAGE"]
    subject, text, html = render_email(template, language, recipient=recipient, **context)
    return {
        "idempotency_key": key,
        "user_id": recipient.id,
        "to_address": to_address or recipient.email,
        "to_name": _one_line(recipient.name, 120),
        "subject": subject,
        "text_body": text,
        "html_body": html,
        "language": language,
        "kind": kind,
        "status": EmailStatus.QUEUED,
        "next_attempt_at": utcnow(),
    }


def queued_keys(keys: Iterable[str]) -> set[str]:
    """Return which of ``keys`` were queued already (one query): the idempotency check of ``queue_email``, for many at once."""
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    return set(db.session.scalars(select(OutboxEmail.idempotency_key).where(OutboxEmail.idempotency_key.in_(wanted))))


def queue_each(recipients: Iterable[User], *, kind: str, key: str, template: str, **context: Any) -> None:
    """Queue the same email for each of ``recipients`` (each once: ``{key}:{user id}`` is its idempotency key); the caller commits."""
    seen: set[int] = set()
    for recipient in recipients:
        if recipient.id not in seen:
            seen.add(recipient.id)
            queue_email(recipient, kind=kind, key=f"{key}:{recipient.id}", template=template, **context)
