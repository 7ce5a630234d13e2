"""SVG uploads: plain drawings pass, anything that could run script or fetch another site is refused."""

from __future__ import annotations

import pytest

from portal.storage.filetypes import sniff
from portal.storage.svg import SvgCheck, SvgRefused

HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
OPEN = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="120" height="40">'
PNG_DATA = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
AI = "http://ns.adobe.com/AdobeIllustrator/10.0/"
XHTML = "http://www.w3.org/1999/xhtml"
MATHML = "http://www.w3.org/1998/Math/MathML"
# Illustrator's "Preserve Illustrator Editing Capabilities": a placeholder for its private data, skipped by browsers.
ILLUSTRATOR_SWITCH = (
    f'<switch><foreignObject requiredExtensions="{AI}" x="0" y="0" width="1" height="1">\n'
    '\t<i:pgfRef xlink:href="#adobe_illustrator_pgf">\n\t</i:pgfRef>\n</foreignObject>'
    '<g i:extraneous="self"><rect width="10" height="10"/></g></switch>'
)
ILLUSTRATOR_OPEN = OPEN.replace(">", f' xmlns:i="{AI}" xmlns:x="http://ns.adobe.com/Extensibility/1.0/">', 1)


def check(svg: str | bytes, *, chunk: int | None = None) -> None:
    """Feed ``svg`` to the check, in chunks of ``chunk`` bytes when given (as an upload streams)."""
    data = svg.encode() if isinstance(svg, str) else svg
    checker = SvgCheck()
    step = chunk or len(data) or 1
    for start in range(0, len(data), step):
        checker.feed(data[start : start + step])
    checker.close()


CLEAN = [
    HEADER + OPEN + '<rect width="10" height="10" fill="#c00"/></svg>',
    # Illustrator's export: a public DOCTYPE, comments, gradients referenced by fragment, embedded text.
    HEADER
    + "<!-- Generator: Adobe Illustrator 27.0 -->\n"
    + '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
    + OPEN
    + '<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient>'
    + "<style>.a{fill:url(#g);font-family:Inter}</style></defs>"
    + '<path class="a" d="M0 0h10v10z" style="fill: url(\'#g\')"/><use xlink:href="#g"/><text x="1" y="9">Ünlü &amp; Co</text>'
    + f'<image href="{PNG_DATA}" width="1" height="1"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><a href="#top"><circle r="4"/></a><animate attributeName="opacity" values="0;1" dur="1s"/></svg>',
    # Figma's export: references by fragment in presentation attributes, transforms, layer names.
    '<svg width="24" height="24" viewBox="0 0 24 24" fill="none" xmlns="http://www.w3.org/2000/svg">'
    '<g clip-path="url(#clip0_1_2)" filter="url( #f )" data-name="Image(2)"><path d="M0 0h4v4z" fill="url(\'#paint0\')" stroke="URL(#s)"'
    ' marker-end="url(#m)" mask="url(#mk)" transform="rotate(45 12 12) translate(1,2)" cursor="url(#c), auto"/></g>'
    '<defs><clipPath id="clip0_1_2"><rect width="24" height="24" fill="white"/></clipPath></defs></svg>',
    # Text is not a URL: it may mention javascript: and data:text/html (point 5).
    OPEN
    + "<title>javascript: the guide</title><desc>Avoid data:text/html and vbscript: links</desc>"
    + '<g aria-label="javascript: the guide" data-name="javascript:void(0)" data-label="Regular expression(s) and image(2)"'
    + ' class="data:text/html"><text>javascript:alert(1)</text></g></svg>',
    # Empty references reference nothing (point 6).
    OPEN + '<a href=""><use xlink:href=""/><use href="  "/></a><image href="" width="1" height="1"/></svg>',
    # Embedded fonts in @font-face (point 4), next to ordinary rules.
    OPEN
    + '<defs><style>@font-face{font-family:"Inter";src:url(data:font/woff2;base64,d09GMgABAAAAAA) format("woff2"),'
    + " url('data:application/font-woff;charset=utf-8;base64,d09GRgABAAAAAA') format('woff'),"
    + ' url( "data:application/x-font-ttf;base64,AAEAAAALAIAAAwAw" ) format("truetype")}'
    + "\n@FONT-FACE {font-family:B; src: URL(data:font/otf;base64,"
    + "T1RUTwAJAIAAAwAQ" * 2000
    + ")}"
    + " text{font-family:Inter,B;fill:url(#g)}</style></defs><text>Ünlü</text></svg>",
    # Illustrator's placeholder for its private data inside <switch> (point 7), and the data itself.
    HEADER + ILLUSTRATOR_OPEN + ILLUSTRATOR_SWITCH + '<i:pgf id="adobe_illustrator_pgf"><![CDATA[eJzsvWmTHMlxIPp9f0V+GTPA7AGMjIy8Jt]]></i:pgf></svg>',
    OPEN.replace(">", f' xmlns:i="{AI}">', 1)
    + f'<foreignObject requiredExtensions="{AI}" width="1" height="1"><i:aipgfRef xlink:href="#adobe_illustrator_pgf"/></foreignObject></svg>',
    # Inkscape's export: its own namespaces and attributes, xml:space and an internal xml:base.
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"'
    ' xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd" xml:space="preserve" xml:base="">'
    '<sodipodi:namedview id="base" pagecolor="#ffffff" inkscape:zoom="1"/>'
    '<g inkscape:groupmode="layer" inkscape:label="Layer 1"><rect width="1" height="1" style="fill:#000;stroke:none"/></g></svg>',
]


@pytest.mark.parametrize("svg", CLEAN)
@pytest.mark.parametrize("chunk", [None, 7])
def test_plain_drawings_pass(svg, chunk):
    """Shapes, gradients, styles with internal url(#…), embedded PNGs and public DOCTYPEs are ordinary SVG."""
    check(svg, chunk=chunk)


HOSTILE = {
    "script": OPEN + "<script>alert(document.cookie)</script></svg>",
    "namespaced script": '<s:svg xmlns:s="http://www.w3.org/2000/svg"><s:script>alert(1)</s:script></s:svg>',
    "CDATA script": OPEN + "<script><![CDATA[fetch('/')]]></script></svg>",
    "event attribute": OPEN + '<rect width="1" height="1" onclick="alert(1)"/></svg>',
    "onload on the root": '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "upper-case event": OPEN + '<rect ONMOUSEOVER="alert(1)"/></svg>',
    "javascript link": OPEN + '<a href="javascript:alert(1)"><text>x</text></a></svg>',
    "xlink javascript": OPEN + '<a xlink:href="java&#x09;script:alert(1)"><text>x</text></a></svg>',
    "animated href": OPEN + '<a><set attributeName="href" to="javascript:alert(1)"/><text>x</text></a></svg>',
    "animation sets an event": OPEN + '<animate attributeName="onbegin" values="x"/></svg>',
    "foreignObject": OPEN + '<foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml" src="https://evil.example"/></foreignObject></svg>',
    "external image": OPEN + '<image href="https://tracker.example/pixel.png" width="1" height="1"/></svg>',
    "protocol-relative use": OPEN + '<use xlink:href="//evil.example/sprite.svg#icon"/></svg>',
    "relative file": OPEN + '<use href="other.svg#icon"/></svg>',
    "svg inside data": OPEN + '<image href="data:image/svg+xml;base64,PHN2Zz4=" width="1" height="1"/></svg>',
    "html data URL": OPEN + '<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"><text>x</text></a></svg>',
    "style import": OPEN + "<style>@import url(https://evil.example/x.css);</style></svg>",
    "style url": OPEN + "<style>rect{fill:url(https://evil.example/f.svg#p)}</style></svg>",
    "style escape": OPEN + "<style>rect{background:u\\72l(https://evil.example)}</style></svg>",
    "inline style url": OPEN + '<rect style="background-image:url(//evil.example/x.png)"/></svg>',
    "xml-stylesheet": '<?xml-stylesheet href="https://evil.example/x.css"?>' + OPEN + "</svg>",
    "entity declaration": '<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">]>' + OPEN + "<text>&a;</text></svg>",
    "billion laughs": '<!DOCTYPE svg [<!ENTITY a "x"><!ENTITY b "&a;&a;&a;&a;">]>' + OPEN + "<text>&b;</text></svg>",
    "external entity": '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + OPEN + "<text>&x;</text></svg>",
    "html root": "<html><svg></svg></html>",
    # 1. The root is <svg> in the SVG namespace; nothing anywhere is XHTML or MathML.
    "svg root without its namespace": "<svg><rect/></svg>",
    "svg root in another namespace": '<svg xmlns="http://example.com/not-svg"><rect/></svg>',
    "upper-case svg root": '<SVG xmlns="http://www.w3.org/2000/svg"/>',
    "prefixed XHTML script": OPEN + f'<html:script xmlns:html="{XHTML}">alert(1)</html:script></svg>',
    "XHTML element of any name": OPEN + f'<g><h:span xmlns:h="{XHTML}">x</h:span></g></svg>',
    "XHTML by default namespace": OPEN + f'<g xmlns="{XHTML}"><form/></g></svg>',
    "XHTML namespace spelled in capitals": OPEN + '<h:img xmlns:h="HTTP://WWW.W3.ORG/1999/XHTML"/></svg>',
    "MathML": OPEN + f'<math xmlns="{MATHML}"><mi>x</mi></math></svg>',
    "prefixed MathML": OPEN + f'<m:maction xmlns:m="{MATHML}" actiontype="statusline"><m:mi>x</m:mi></m:maction></svg>',
    # 2. Every attribute that makes the browser go somewhere is a reference.
    "form action": OPEN + '<x:form xmlns:x="urn:x" action="https://evil.example/collect"/></svg>',
    "formaction": OPEN + '<x:button xmlns:x="urn:x" formaction="javascript:alert(1)"/></svg>',
    "ping": OPEN + '<a href="#a" ping="https://tracker.example/p"><text>x</text></a></svg>',
    "ping list": OPEN + '<a href="#a" ping="#a https://tracker.example/p"><text>x</text></a></svg>',
    "xml:base elsewhere": OPEN + '<g xml:base="https://evil.example/sprite.svg"><use href="#icon"/></g></svg>',
    "xml namespace under another prefix": OPEN.replace(">", ' xmlns:b="http://www.w3.org/XML/1998/namespace" b:base="https://evil.example/">', 1) + "</svg>",
    "xml:base javascript": '<svg xmlns="http://www.w3.org/2000/svg" xml:base="javascript:alert(1)//"><a href="#x"><text>x</text></a></svg>',
    "animated xml:base": OPEN + '<g><set attributeName="xml:base" to="https://evil.example/"/><use href="#i"/></g></svg>',
    "animated src": OPEN + '<set attributeName="src" to="https://evil.example/"/></svg>',
    "DEL before a fragment": OPEN + '<use href="&#x7f;#icon"/></svg>',
    "padding before javascript": OPEN + '<a href="' + " " * 200 + 'javascript:alert(1)"><text>x</text></a></svg>',
    # 3. image-set() loads images like url().
    "style image-set": OPEN + "<rect style=\"background-image:image-set('https://evil.example/a.png' 1x)\"/></svg>",
    "webkit image-set": OPEN + '<style>svg{background:-webkit-image-set("https://evil.example/a.png" 1x)}</style></svg>',
    "moz image-set": OPEN + "<style>svg{background:-moz-IMAGE-SET('//evil.example/a.png' 1x)}</style></svg>",
    "image-set with an inner url": OPEN + "<style>svg{background:image-set(url(#a) 1x)}</style></svg>",
    "image-set in a presentation attribute": OPEN + "<rect mask=\"image-set('https://evil.example/m.png' 1x)\"/></svg>",
    "image()": OPEN + "<style>svg{background:image('https://evil.example/a.png')}</style></svg>",
    # 4. Embedded fonts only: nothing else rides along.
    "font-face html": OPEN + "<style>@font-face{font-family:F;src:url(data:text/html,%3Cscript%3Ealert(1)%3C/script%3E)}</style></svg>",
    "font-face remote": OPEN + "<style>@font-face{font-family:F;src:url(https://evil.example/f.woff2)}</style></svg>",
    "font-face font then remote": OPEN
    + "<style>@font-face{font-family:F;src:url(data:font/woff2;base64,d09G) format('woff2'),url('https://evil.example/f.woff')}</style></svg>",
    "font-face svg font": OPEN + "<style>@font-face{font-family:F;src:url(data:image/svg+xml;base64,PHN2Zz4=)}</style></svg>",
    "font outside font-face": OPEN + "<style>@font-face{font-family:F}rect{fill:url(data:font/woff2;base64,d09G)}</style></svg>",
    "font in a style attribute": OPEN + '<rect style="fill:url(data:font/woff2;base64,d09G)"/></svg>',
    "font-face SVG font": OPEN + "<style>@font-face{font-family:F;src:url(data:font/svg+xml;base64,PHN2Zz4=)}</style></svg>",
    "font in an href": OPEN + '<image href="data:font/woff2;base64,d09G" width="1" height="1"/></svg>',
    # 5. URL-bearing presentation attributes.
    "javascript in fill": OPEN + '<rect fill="url(javascript:alert(1))"/></svg>',
    "remote filter": OPEN + '<rect filter="url(https://evil.example/f.svg#f)"/></svg>',
    "remote clip-path": OPEN + "<rect clip-path=\"url('//evil.example/c.svg#c')\"/></svg>",
    "remote marker": OPEN + '<path d="M0 0" marker-start="url(&quot;https://evil.example/m.svg#m&quot;)"/></svg>',
    "remote cursor": OPEN + '<rect cursor="url(https://evil.example/c.cur), auto"/></svg>',
    "animated fill": OPEN + '<rect><set attributeName="fill" to="url(https://evil.example/p.svg#p)"/></rect></svg>',
    "escaped url in a presentation attribute": OPEN + '<rect cursor="u\\72 l(https://evil.example/c.cur), auto"/></svg>',
    "escaped url in fill": OPEN + '<rect fill="\\75\\72\\6c(https://evil.example/p.svg#p)"/></svg>',
    # Styles as browsers read them: unclosed url(, quotes that do not hide anything, only a style's own text.
    "unclosed url in a style attribute": OPEN + '<rect style="background-image:url(https://evil.example/x.png"/></svg>',
    "unclosed quoted url in a style attribute": OPEN + '<rect style="cursor:url(\'https://evil.example/c.cur"/></svg>',
    "unclosed url in a style": OPEN + "<style>svg{cursor:url(https://evil.example/c.cur</style></svg>",
    "quoted url hiding the next": OPEN + "<style>svg{fill:url('#a'x);cursor:url(https://evil.example/c.cur),auto;content:'')}</style></svg>",
    "url inside a url": OPEN + "<style>svg{fill:url(#a url(https://evil.example/c.cur))}</style></svg>",
    "url after padding": OPEN + "<style>svg{cursor:url(" + " \n" * 500 + "https://evil.example/c.cur)}</style></svg>",
    "url after a long style": OPEN + "<style>svg{fill:url(#g)}" + "/* padding */" * 2000 + "svg{cursor:url(https://evil.example/c.cur)}</style></svg>",
    "url split by an element": OPEN + "<style>svg{cursor:u<x>zz</x>rl(https://evil.example/c.cur),auto}</style></svg>",
    "url split by a comment": OPEN + "<style>svg{cursor:u<!-- -->rl(https://evil.example/c.cur),auto}</style></svg>",
    "url split by CDATA": OPEN + "<style>svg{cursor:u<![CDATA[rl(https://evil.example/c.cur)]]>,auto}</style></svg>",
    # 7. foreignObject holds Illustrator's placeholder, nothing else.
    "foreignObject with no-namespace HTML": OPEN + '<foreignObject><div xmlns="">x</div></foreignObject></svg>',
    "foreignObject with SVG": OPEN + "<foreignObject><svg><rect/></svg></foreignObject></svg>",
    "foreignObject with other Adobe elements": ILLUSTRATOR_OPEN
    + f'<foreignObject requiredExtensions="{AI}"><meta xmlns="{AI}" http-equiv="refresh" content="0;url=https://evil.example/"/></foreignObject></svg>',
    "foreignObject with text": ILLUSTRATOR_OPEN
    + f'<foreignObject requiredExtensions="{AI}"><![CDATA[ > <img src=x onerror=alert(1)> ]]></foreignObject></svg>',
    "foreignObject placeholder with XHTML": ILLUSTRATOR_OPEN
    + f'<foreignObject requiredExtensions="{AI}"><i:pgfRef xlink:href="#p"><iframe xmlns="{XHTML}"/></i:pgfRef></foreignObject></svg>',
    "placeholder with an outside reference": ILLUSTRATOR_OPEN
    + f'<foreignObject requiredExtensions="{AI}"><i:pgfRef xlink:href="https://evil.example/p"/></foreignObject></svg>',
    "placeholder with an event": ILLUSTRATOR_OPEN + f'<foreignObject requiredExtensions="{AI}"><i:pgfRef onclick="alert(1)"/></foreignObject></svg>',
    "foreignObject in another namespace": OPEN + '<x:foreignObject xmlns:x="urn:x"/></svg>',
    # 8. UTF-16 is read as UTF-16: script in it is found.
    "UTF-16 script": (HEADER.replace("UTF-8", "UTF-16") + OPEN + "<script>alert(1)</script></svg>").encode("utf-16"),
    "UTF-16 declared as UTF-8": (HEADER + OPEN + "<rect/></svg>").encode("utf-16"),
    "not closed": OPEN + "<rect/>",
    "not XML": OPEN + "<rect></svg>",
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("chunk", [None, 5, 1])
def test_active_content_and_outside_references_are_refused(name, chunk):
    """Script, event handlers, javascript: URLs, external references and entity tricks refuse the file, however it is split."""
    with pytest.raises(SvgRefused):
        check(HOSTILE[name], chunk=chunk)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("svg root without its namespace", "root element"),
        ("XHTML element of any name", "element span in http://www.w3.org/1999/xhtml"),
        ("prefixed MathML", "in http://www.w3.org/1998/Math/MathML"),
        ("ping list", "external reference in ping"),
        ("xml:base javascript", "dangerous URL in base"),
        ("webkit image-set", "style image-set("),
        ("font-face font then remote", "external reference in style url()"),
        ("escaped url in a presentation attribute", "external reference in style url()"),
        ("unclosed url in a style", "external reference in style url()"),
        ("url split by an element", "element inside style"),
        ("foreignObject with text", "text inside foreignObject"),
        ("foreignObject with other Adobe elements", "element meta inside foreignObject"),
    ],
)
def test_refusals_name_their_reason(name, reason):
    """The logged reason names what was found (the user sees one translated message)."""
    with pytest.raises(SvgRefused) as refused:
        check(HOSTILE[name])
    assert reason in refused.value.reason


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("chunk", [None, 5, 7])
def test_utf16_with_its_byte_order_mark_is_read(encoding, chunk):
    """UTF-16 with a BOM (as some Windows tools save): the magic-byte check and the parser both read it as such."""
    text = HEADER.replace("UTF-8", "UTF-16") + OPEN + "<text>Ünlü &amp; Co — 漢字 😀</text></svg>"
    data = "\ufeff".encode(encoding) + text.encode(encoding)
    assert sniff("svg", data) and sniff("svg", data[:101])  # a head cut inside a character too
    check(data, chunk=chunk)


@pytest.mark.parametrize(
    "data",
    [
        "<html><svg></svg></html>".encode("utf-16"),
        "\ufeff<svg>\x00</svg>".encode("utf-16-le"),
        ('<?xml version="1.0" encoding="UTF-32"?>' + OPEN + "</svg>").encode("utf-32"),
        (OPEN + "</svg>").encode("utf-16-le"),  # no byte order mark
    ],
    ids=["html", "NUL", "UTF-32", "no BOM"],
)
def test_other_wide_encodings_are_not_svg(data):
    """HTML in UTF-16, NULs, UTF-32 and UTF-16 without a BOM fail the magic-byte check."""
    assert not sniff("svg", data)
