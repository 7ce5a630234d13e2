"""Markdown typed by people becomes safe HTML: no script, no dangerous links, no raw HTML."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from portal.markdown import render_markdown

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "<svg onload=alert(1)>",
    "<iframe src=https://evil.example></iframe>",
    '[x](https://ok.example "a" onmouseover="alert(1)")',
]


class _Elements(HTMLParser):
    """Collect every element and its attributes, as a browser would build them."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Return the elements of an HTML fragment."""
    parser = _Elements()
    parser.feed(html)
    return parser.elements


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_are_neutralised(payload):
    """No element, event attribute or link that could run script survives (typed text stays visible as text)."""
    for tag, attrs in elements(str(render_markdown(payload))):
        assert tag in {"p", "a"}, (payload, tag)
        assert not [name for name in attrs if name.startswith("on") or name in {"src", "style"}], (payload, attrs)
        href = (attrs.get("href") or "").strip().lower()
        assert not href.startswith(("javascript:", "data:", "vbscript:")), (payload, href)


def test_markdown_still_formats_and_links_are_marked_nofollow():
    """Ordinary Markdown renders, and every link carries rel="nofollow noopener"."""
    html = str(render_markdown("**Launch** is *on track*.\n\n- one\n- two\n\n[Brief](https://example.com/brief)"))
    assert "<strong>Launch</strong>" in html and "<em>on track</em>" in html
    assert "<li>one</li>" in html
    assert '<a href="https://example.com/brief" rel="nofollow noopener">Brief</a>' in html


def test_raw_html_is_shown_as_text():
    """HTML typed into Markdown is escaped, so the reader sees what was typed."""
    assert str(render_markdown("<b>bold</b>")) == "<p>&lt;b&gt;bold&lt;/b&gt;</p>\n"


def test_empty_text_renders_nothing():
    """Nothing typed, nothing shown."""
    assert render_markdown("") == "" and render_markdown(None) == "" and render_markdown("   \n") == ""
