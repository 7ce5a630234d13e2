"""SVG uploads: refuse any that could run script or reach out when opened.

An SVG is an XML program as much as a picture: opened in a browser (a download opened
from the desktop, a copy a designer pastes into a site) it can run ``<script>``, event
attributes (``onload=…``), ``javascript:`` links, and fetch other sites' resources.
Downloads are served as attachments in a sandbox already; this check means the agency
never receives such a file through the portal in the first place.

:class:`SvgCheck` is fed the file chunk by chunk while it streams into storage (expat,
incremental, constant memory: styles too are checked as they stream). UTF-8 and UTF-16
(with its byte order mark) are read. It refuses:

- anything that is not well-formed XML with an ``<svg>`` root in the SVG namespace;
- a DOCTYPE with an internal subset, and any entity declaration (entity expansion
  can hide markup and blow up memory);
- any element in the XHTML or MathML namespace, whatever its name;
- script-capable elements (``script``, ``iframe``, ``embed``, ``object``, XML Events
  ``handler``/``listener``) in any namespace, and ``<?xml-stylesheet?>``;
- ``foreignObject``, except Illustrator's placeholder for its private data (only
  ``<i:pgfRef>``/``<i:aipgfRef>`` in an Adobe namespace inside, and no text);
- event attributes (``on…``) and animations that set a reference or an event attribute;
- references outside the file: an ``href``/``xlink:href``/``src``/``action``/
  ``formaction``/``ping``/``xml:base`` that is not empty, a fragment (``#id``) or an
  embedded raster image (``data:image/png|jpeg|gif|webp``) — so no ``javascript:`` or
  HTML ``data:`` URL either;
- in styles (``<style>``, ``style=""``): ``@import``, ``expression()``, ``image()``,
  ``src()``, ``image-set()`` (vendor-prefixed too) and a ``url(…)`` that is not empty, a
  fragment or such an image; inside ``@font-face`` in a ``<style>``, an embedded font
  (``data:font/…``, ``data:application/font-…``, ``data:application/x-font-…``) too. CSS
  escapes are refused outright there (they hide all of this), and so is an element inside
  a ``<style>`` (browsers read only its own text, so one could split a ``url(``);
- in any other attribute holding a CSS function (a presentation attribute such as
  ``fill="url(#g)"``, ``cursor``, ``mask``, an animation's values): ``image-set()`` and
  such a ``url(…)``, after decoding CSS escapes.

Text that is not a style (``<title>``, ``<desc>``, ``aria-label``, ``data-name``…) is
not a URL: it may mention ``javascript:`` freely.
"""

from __future__ import annotations

import re
from xml.parsers import expat

_NS = " "  # expat's separator between a name's namespace URI and its local part
_SVG_NAMESPACE = "http://www.w3.org/2000/svg"
_XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"
# Elements in these namespaces are HTML (forms, iframes, scripts…) or MathML (links): never in a drawing.
_FORBIDDEN_NAMESPACES = frozenset({"http://www.w3.org/1999/xhtml", "http://www.w3.org/1998/math/mathml"})
_ADOBE_NAMESPACE = "http://ns.adobe.com/"
# What Illustrator's <foreignObject requiredExtensions="…AdobeIllustrator…"> holds: a reference to its private data.
_ADOBE_PLACEHOLDERS = frozenset({"pgfref", "aipgfref"})

_ACTIVE_ELEMENTS = frozenset({"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"})
_ANIMATIONS = frozenset({"set", "animate", "animatetransform", "animatemotion", "animatecolor"})
# Attributes (local names, any namespace) whose value is a URL the browser follows or fetches.
_REFERENCE_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "ping"})
_SAFE_DATA_IMAGE = re.compile(r"data:image/(png|jpe?g|gif|webp)[;,]")
_SAFE_DATA_FONT = re.compile(r"data:(font/|application/(x-)?font-)(?![a-z0-9.+-]*svg)[a-z0-9.+-]{1,40}[;,]")  # no SVG fonts: documents
_DANGEROUS_SCHEME = re.compile(r"(javascript|vbscript|livescript):|data:(text/html|application/xhtml|image/svg)")
# A URL parser drops tabs and newlines anywhere, and leading/trailing control characters and spaces.
_URL_TABS_AND_NEWLINES = re.compile(r"[\t\n\r]")
_URL_EDGES = "".join(map(chr, range(0x21)))
_URL_PREFIX = 80  # characters of a URL that decide whether it stays inside the file

# CSS: the tokens the style check acts on (case-insensitive, as CSS is).
_CSS_TOKEN = re.compile(r"url\(|(image-set|image|src|expression)\(|@import|@font-face|[{}]", re.IGNORECASE)
_CSS_LONGEST_TOKEN = len("expression(")
_CSS_ONLY_IN_STYLES = frozenset({"image(", "src(", "expression(", "@import"})  # refused in styles; mere words in other attributes
_CSS_WHITESPACE = re.compile(r"[ \t\n\r\f]+")
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(.)|$)", re.DOTALL)


class SvgRefused(Exception):
    """The SVG is malformed or carries active content or external references."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # for logs and tests; users get one translated message


def _split(name: str) -> tuple[str, str]:
    """Return ``name``'s namespace and local part (``"http://www.w3.org/1999/xlink href"`` → that URI and ``"href"``)."""
    namespace, _, local = name.rpartition(_NS)
    return namespace, local


def _url_is_internal(value: str, *, fonts: bool = False) -> bool:
    """Tell whether a reference stays inside the file: nothing, a fragment, an embedded raster image (or, with ``fonts``, font)."""
    url = _URL_TABS_AND_NEWLINES.sub("", value.strip(_URL_EDGES)[:_URL_PREFIX]).lower()
    return not url or url.startswith("#") or bool(_SAFE_DATA_IMAGE.match(url)) or (fonts and bool(_SAFE_DATA_FONT.match(url)))


def _refuse_reference(where: str, value: str) -> SvgRefused:
    """Return the refusal of a reference outside the file, naming a dangerous scheme as such."""
    compact = "".join(value[:_URL_PREFIX].split()).lower()
    kind = "dangerous URL" if _DANGEROUS_SCHEME.match(compact) else "external reference"
    return SvgRefused(f"{kind} in {where}: {value[:40]!r}")


def _css_unescape(css: str) -> str:
    """Decode CSS escapes (``u\\72 l(`` → ``url(``): presentation attributes are parsed as CSS."""

    def character(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        escaped = match.group(2)
        return "\ufffd" if escaped is None else escaped

    return _CSS_ESCAPE.sub(character, css)


class _CssCheck:
    """A streaming check of CSS text (a ``<style>`` as expat delivers it, or one attribute value); constant memory.

    Every ``url(`` is checked on its own, wherever it is (inside a string or another
    ``url(`` too): only the first characters of its value decide it, so a long embedded
    image or font is never held, and no quoting trick hides one ``url(`` inside another.
    An unclosed ``url(`` at the end counts, as browsers load it.
    """

    def __init__(self, *, decoded: bool = False, fonts: bool = False) -> None:
        self._decoded = decoded  # escapes already decoded (an attribute value): a backslash is then a plain character
        self._fonts = fonts  # embedded fonts allowed inside @font-face (a <style> element)
        self._text = ""  # the part not checked yet: at most a url( being decided, or a token's first characters
        self._space = False  # the last character received was whitespace (runs are collapsed to one space)
        self._font_face = 0  # 0 outside @font-face, -1 between "@font-face" and its "{", else the brace depth inside

    def feed(self, css: str) -> None:
        """Check the next piece of CSS."""
        if not self._decoded and "\\" in css:
            raise SvgRefused("style escapes")
        css = _CSS_WHITESPACE.sub(" ", css)
        if self._space and css.startswith(" "):
            css = css[1:]
        if css:
            self._space = css.endswith(" ")
            self._text += css
            self._scan(final=False)

    def close(self) -> None:
        """Check the end of the CSS (an unclosed ``url(`` is decided on what it holds)."""
        self._scan(final=True)
        self._text = ""

    def _scan(self, *, final: bool) -> None:
        text = self._text
        resume = max(len(text) - _CSS_LONGEST_TOKEN + 1, 0)  # a token may begin in the last characters
        for match in _CSS_TOKEN.finditer(text):
            word = match.group().lower()
            if word == "url(":
                if not self._url(text, match.end(), final=final):
                    resume = match.start()  # undecided: wait for more of the value
                    break
            elif self._decoded and word in _CSS_ONLY_IN_STYLES:
                pass  # an attribute's text ("image(2)" in a layer name) is no style sheet
            elif word == "@font-face":
                self._font_face = -1
            elif word == "{":
                self._font_face = 1 if self._font_face == -1 else self._font_face + (self._font_face > 0)
            elif word == "}":
                self._font_face = max(self._font_face - 1, 0)
            else:
                raise SvgRefused(f"style {word}")
            resume = max(resume, match.end())
        self._text = text[resume:]

    def _url(self, text: str, start: int, *, final: bool) -> bool:
        """Check the value of the ``url(`` ending at ``start``; return False if more text is needed to decide."""
        position = start + (text[start : start + 1] == " ")
        quote = text[position : position + 1]
        if quote in ("'", '"'):
            position += 1
            end = text.find(quote, position, position + _URL_PREFIX)
        else:
            closing = [index for index in (text.find(")", position, position + _URL_PREFIX), text.find(" ", position, position + _URL_PREFIX)) if index >= 0]
            end = min(closing, default=-1)
        if end < 0 and not final and len(text) < position + _URL_PREFIX:
            return False
        value = text[position : end if end >= 0 else position + _URL_PREFIX]
        if not _url_is_internal(value, fonts=self._fonts and self._font_face > 0):
            raise _refuse_reference("style url()", value)
        return True


def _check_css(css: str, *, decoded: bool = False) -> None:
    """Check one piece of CSS whole (a ``style`` attribute, or another attribute holding a CSS function)."""
    check = _CssCheck(decoded=decoded)
    check.feed(css)
    check.close()


class SvgCheck:
    """An incremental check of one SVG file; :meth:`feed` each chunk, then :meth:`close`."""

    def __init__(self) -> None:
        parser = expat.ParserCreate(namespace_separator=_NS)
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.buffer_text = True  # fewer, larger pieces of text (at most buffer_size characters each)
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.ExternalEntityRefHandler = self._external_entity
        parser.ProcessingInstructionHandler = self._instruction
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        self._parser = parser
        self._depth = 0
        self._style: _CssCheck | None = None  # the <style> element being read
        self._foreign_depth = 0  # the depth of Illustrator's <foreignObject> being read, else 0

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
        namespace, local = _split(name)
        element = local.lower()
        if self._depth == 0 and (namespace, local) != (_SVG_NAMESPACE, "svg"):
            raise SvgRefused(f"root element {name!r}")  # an <svg> without the SVG namespace is not drawn as SVG either
        self._depth += 1
        if namespace.strip().lower().rstrip("/") in _FORBIDDEN_NAMESPACES:
            raise SvgRefused(f"element {element} in {namespace}")
        if self._style is not None:
            raise SvgRefused("element inside style")  # browsers read a style's own text only: no hiding in children
        if self._foreign_depth:
            if not (namespace.startswith(_ADOBE_NAMESPACE) and element in _ADOBE_PLACEHOLDERS):
                raise SvgRefused(f"element {element} inside foreignObject")
        elif element == "foreignobject" and namespace == _SVG_NAMESPACE:
            self._foreign_depth = self._depth  # Illustrator's placeholder: its content is checked above
        elif element in _ACTIVE_ELEMENTS:
            raise SvgRefused(f"element {element}")
        for attribute, value in attributes.items():
            self._check_attribute(element, attribute, value)
        if element == "style":
            self._style = _CssCheck(fonts=True)

    def _check_attribute(self, element: str, name: str, value: str) -> None:
        namespace, local = _split(name)
        attribute = local.lower()
        if attribute.startswith("on"):
            raise SvgRefused(f"event attribute {attribute}")
        if attribute in _REFERENCE_ATTRIBUTES or (namespace, attribute) == (_XML_NAMESPACE, "base"):
            for url in value.split() if attribute == "ping" else (value,):  # ping holds a list of URLs
                if not _url_is_internal(url):
                    raise _refuse_reference(attribute, url)
        if element in _ANIMATIONS and attribute == "attributename":
            target = "".join(value.split()).lower().rpartition(":")[2]
            if target.endswith("href") or target.startswith("on") or target in _REFERENCE_ATTRIBUTES or target == "base":
                raise SvgRefused(f"animation of {target}")
        if attribute == "style":
            _check_css(value)
        elif "(" in value:  # a CSS function, as in a presentation attribute (fill="url(#g)", cursor, filter, mask…)
            _check_css(_css_unescape(value) if "\\" in value else value, decoded=True)

    def _end(self, name: str) -> None:
        if self._style is not None:  # nothing nests in a style: this is its end
            self._style.close()
            self._style = None
        if self._foreign_depth == self._depth:
            self._foreign_depth = 0
        self._depth -= 1

    def _text(self, data: str) -> None:
        if self._style is not None:
            self._style.feed(data)
        elif self._foreign_depth and data.strip(" \t\r\n"):
            raise SvgRefused("text inside foreignObject")  # pasted into HTML it would be parsed as HTML
