"""SVG uploads: refuse any that could run script or reach out when opened.

An SVG is an XML program as much as a picture: opened in a browser (a download opened
from the desktop, a copy a designer pastes into a site) it can run ``<script>``, event
attributes (``onload=…``), ``javascript:`` links, and fetch other sites' resources.
Downloads are served as attachments in a sandbox already; this check means the agency
never receives such a file through the portal in the first place.

:class:`SvgCheck` is fed the file chunk by chunk while it streams into storage (expat,
incremental, constant memory). It refuses:

- anything that is not well-formed XML with an ``<svg>`` root;
- a DOCTYPE with an internal subset, and any entity declaration (entity expansion
  can hide markup and blow up memory);
- script-capable elements (``script``, ``foreignObject``, ``iframe``, ``embed``,
  ``object``, XML Events ``handler``/``listener``) and ``<?xml-stylesheet?>``;
- event attributes (``on…``) and animations that set an ``href`` or an event attribute;
- any attribute value carrying a ``javascript:``/``vbscript:`` URL or an HTML ``data:`` URL;
- references outside the file: an ``href``/``src`` that is not a fragment (``#id``) or
  an embedded raster image (``data:image/png|jpeg|gif|webp``), and in styles, ``@import``
  or a ``url(…)`` that is not a fragment or such an image.
"""

from __future__ import annotations

import re
from xml.parsers import expat

_NS = " "  # expat's separator between a name's namespace URI and its local part

_ACTIVE_ELEMENTS = frozenset({"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"})
_ANIMATIONS = frozenset({"set", "animate", "animatetransform", "animatemotion"})
_REFERENCE_ATTRIBUTES = frozenset({"href", "src"})
_SAFE_DATA_IMAGE = re.compile(r"^data:image/(png|jpe?g|gif|webp)[;,]")
_DANGEROUS_SCHEME = re.compile(r"(javascript|vbscript|livescript):|data:(text/html|application/xhtml|image/svg)")
# Browsers ignore whitespace and control characters inside a URL's scheme ("java\tscript:").
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f]+")
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_CSS_ESCAPE = re.compile(r"\\")


class SvgRefused(Exception):
    """The SVG is malformed or carries active content or external references."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # for logs and tests; users get one translated message


def _local(name: str) -> str:
    """Return ``name``'s local part, lower-cased (``"http://www.w3.org/1999/xlink href"`` → ``"href"``)."""
    return name.rpartition(_NS)[2].lower()


def _url_is_internal(value: str) -> bool:
    """Tell whether a reference stays inside the file: a fragment, or an embedded raster image."""
    compact = _IGNORED_IN_URLS.sub("", value).lower()
    return compact.startswith("#") or bool(_SAFE_DATA_IMAGE.match(compact))


def _check_css(css: str) -> None:
    """Refuse styles that import or fetch anything outside the file (CSS escapes refused outright: they hide both)."""
    lowered = css.lower()
    if "@import" in lowered or "expression(" in lowered or _CSS_ESCAPE.search(css):
        raise SvgRefused("style imports or escapes")
    for match in _CSS_URL.finditer(css):
        if not _url_is_internal(match.group(2)):
            raise SvgRefused(f"style url({match.group(2)[:40]})")


class SvgCheck:
    """An incremental check of one SVG file; :meth:`feed` each chunk, then :meth:`close`."""

    def __init__(self) -> None:
        parser = expat.ParserCreate(namespace_separator=_NS)
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.ExternalEntityRefHandler = self._external_entity
        parser.ProcessingInstructionHandler = self._instruction
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        self._parser = parser
        self._depth = 0
        self._style_depth = 0
        self._style_text: list[str] = []

    def feed(self, data: bytes) -> None:
        """Check the next chunk; raises :class:`SvgRefused` as soon as something is wrong."""
        self._parse(data, final=False)

    def close(self) -> None:
        """Check the end of the file (an unclosed or empty document is refused)."""
        self._parse(b"", final=True)
        if self._depth != 0:
            raise SvgRefused("unclosed document")

    def _parse(self, data: bytes, *, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as error:
            raise SvgRefused(f"not well-formed XML: {error}") from None

    # --- expat handlers -------------------------------------------------------------

    def _doctype(self, name: str, system_id: str | None, public_id: str | None, has_internal_subset: int) -> None:
        if has_internal_subset:
            raise SvgRefused("DOCTYPE with an internal subset")

    def _entity(self, *args: object) -> None:
        raise SvgRefused("entity declaration")

    def _external_entity(self, *args: object) -> int:
        raise SvgRefused("external entity")

    def _instruction(self, target: str, data: str) -> None:
        if target.lower() == "xml-stylesheet":
            raise SvgRefused("xml-stylesheet")

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        element = _local(name)
        if self._depth == 0 and element != "svg":
            raise SvgRefused(f"root element {element}")
        self._depth += 1
        if element in _ACTIVE_ELEMENTS:
            raise SvgRefused(f"element {element}")
        if element == "style":
            self._style_depth = self._depth
        for attribute, value in attributes.items():
            self._check_attribute(element, _local(attribute), value)

    def _check_attribute(self, element: str, attribute: str, value: str) -> None:
        compact = _IGNORED_IN_URLS.sub("", value).lower()
        if attribute.startswith("on"):
            raise SvgRefused(f"event attribute {attribute}")
        if _DANGEROUS_SCHEME.search(compact):
            raise SvgRefused(f"dangerous URL in {attribute}")
        if attribute in _REFERENCE_ATTRIBUTES and not _url_is_internal(value):
            raise SvgRefused(f"external reference in {attribute}")
        if element in _ANIMATIONS and attribute == "attributename" and (compact.endswith("href") or compact.startswith("on")):
            raise SvgRefused(f"animation of {compact}")
        if attribute == "style" or "url(" in compact:
            _check_css(value)

    def _end(self, name: str) -> None:
        if self._style_depth and self._depth == self._style_depth:
            _check_css("".join(self._style_text))
            self._style_text.clear()
            self._style_depth = 0
        self._depth -= 1

    def _text(self, data: str) -> None:
        if self._style_depth:
            self._style_text.append(data)
