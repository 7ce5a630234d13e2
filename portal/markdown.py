"""Markdown typed by people, rendered to safe HTML: one helper for every feature.

markdown-it-py turns the text into HTML with raw HTML disabled (a ``<script>`` typed
in a note is shown as text), then nh3 keeps only an allowlist of tags and attributes,
drops every link whose scheme is not http, https or mailto (``javascript:``,
``data:``, ``vbscript:``…), and marks links ``rel="nofollow noopener"``.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# Tags Markdown produces (images excluded: they would load remote content or carry data: URLs).
ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}
# Removed with everything inside them (nh3 would otherwise keep their text).
DROPPED_WITH_CONTENT = {"script", "style"}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)


def render_markdown(text: str | None) -> Markup:
    """Return ``text`` (Markdown typed by a person) as sanitised HTML, safe to put in a page or email."""
    if not text or not text.strip():
        return Markup("")
    return _render(text)


@lru_cache(maxsize=256)
def _render(text: str) -> Markup:
    """Render and sanitise (cached: the same text is shown in many places, emails in several languages)."""
    html = _markdown.render(text)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="nofollow noopener",
        strip_comments=True,
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above (allowlisted tags, attributes and schemes)
