"""Links of a deliverable version: staff type one per line, and only plain http(s) addresses are kept."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from portal.errors import DomainError
from portal.models.deliverables import LINK_SCHEMES, DeliverableLink

URL_MAX = 2_000
LABEL_MAX = 200
MAX_LINKS = 20


@dataclass(frozen=True)
class LinkInput:
    """A link typed by staff: the address and an optional label."""

    url: str
    label: str = ""


def _is_web_address(token: str) -> bool:
    """Tell whether ``token`` is an absolute http(s) address with a host, no credentials and no control characters."""
    if len(token) > URL_MAX or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in token):
        return False
    try:
        parts = urlsplit(token)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in LINK_SCHEMES and bool(host) and "@" not in parts.netloc


def parse_links(text: str | None) -> list[LinkInput]:
    """Read one link per line ("Staging site https://staging.example.com"); refuse anything but http(s) addresses.

    The address is the word starting with ``http://`` or ``https://``; the rest of the
    line is its label. Addresses with a user name or password are refused (they are a
    classic way to disguise where a link goes).
    """
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > MAX_LINKS:
        raise DomainError(_l("Add at most %(count)s links to a version.", count=MAX_LINKS), field="links")
    links: list[LinkInput] = []
    for number, line in enumerate(lines, start=1):
        words = line.split()
        addresses = [word for word in words if word.lower().startswith(("http://", "https://"))]
        if len(addresses) != 1 or not _is_web_address(addresses[0]):
            if len(addresses) > 1:
                message = _l("Line %(line)s has more than one address. Put each link on its own line.", line=number)
            else:
                message = _l(
                    "Line %(line)s is not a web address. Links must start with http:// or https://, for example https://staging.example.com.",
                    line=number,
                )
            raise DomainError(message, field="links")
        label = " ".join(word for word in words if word is not addresses[0]).strip(" :|-–—")
        if len(label) > LABEL_MAX:
            raise DomainError(_l("Line %(line)s: keep the label under %(count)s characters.", line=number, count=LABEL_MAX), field="links")
        links.append(LinkInput(url=addresses[0], label=label))
    return links


def links_text(links: Iterable[DeliverableLink]) -> str:
    """Return saved links in the form's one-per-line format."""
    return "\n".join(f"{link.label} {link.url}".strip() for link in links)
