"""Links to portal pages that work outside requests: in emails, weekly facts, jobs and the CLI."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def portal_url(endpoint: str, **values: Any) -> str:
    """Return an absolute link to ``endpoint`` for emails, always on ``PORTAL_BASE_URL``.

    Built from configuration, never from the request's Host header, so a forged
    Host cannot turn a password-reset email into a link to someone else's site;
    and it works outside requests (scheduler jobs, CLI).
    """
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, url_scheme=base.scheme or "https", script_name=base.path or "/")
    return adapter.build(endpoint, values, force_external=True)


def portal_path(endpoint: str, **values: Any) -> str:
    """Return the path of ``endpoint`` (for a weekly fact's link, stored and made absolute in emails)."""
    return current_app.url_map.bind("localhost").build(endpoint, values)
