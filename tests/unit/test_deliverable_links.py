"""Links of a deliverable version: one per line, http(s) only, label optional."""

from __future__ import annotations

import pytest

from portal.deliverables.links import MAX_LINKS, LinkInput, parse_links
from portal.errors import DomainError
from portal.models.deliverables import DeliverableLink


def test_labels_and_addresses_are_read_line_by_line():
    """The address is the http(s) word; the rest of the line, without separators, is the label."""
    text = "Staging site: https://staging.example.com/home?x=1\n\n  https://www.figma.com/file/AbC  \nFigma board – HTTPS://figma.com/b"
    assert parse_links(text) == [
        LinkInput("https://staging.example.com/home?x=1", "Staging site"),
        LinkInput("https://www.figma.com/file/AbC", ""),
        LinkInput("HTTPS://figma.com/b", "Figma board"),
    ]
    assert parse_links("") == [] and parse_links(None) == []


@pytest.mark.parametrize(
    "line",
    [
        "javascript:alert(document.cookie)",
        "Look at javascript://example.com/%0Aalert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "ftp://files.example.com/logo.ai",
        "www.example.com",
        "https://",
        "http:///path-only",
        "https://trusted.example@evil.example/login",
        "https://example.com:99999/",
        "https://a.example https://b.example",
        "https://exa\x00mple.com",
    ],
)
def test_anything_but_a_plain_web_address_is_refused(line):
    """Other schemes, missing hosts, credentials, bad ports, two addresses or control characters: refused on the links field."""
    with pytest.raises(DomainError) as refused:
        parse_links(f"https://fine.example.com\n{line}")
    assert refused.value.field == "links"
    assert "Line 2" in refused.value.args[0]


def test_too_many_links_are_refused():
    """At most MAX_LINKS lines."""
    with pytest.raises(DomainError):
        parse_links("\n".join(f"https://example.com/{i}" for i in range(MAX_LINKS + 1)))


def test_the_model_refuses_a_non_web_address_whoever_writes_it():
    """Even code that bypasses the service cannot store a javascript: link."""
    with pytest.raises(ValueError, match="not an http"):
        DeliverableLink(url="javascript:alert(1)")
    assert DeliverableLink(url="https://example.com/x").host == "example.com"
