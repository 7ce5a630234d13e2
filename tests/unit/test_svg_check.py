"""SVG uploads: plain drawings pass, anything that could run script or fetch another site is refused."""

from __future__ import annotations

import pytest

from portal.storage.svg import SvgCheck, SvgRefused

HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
OPEN = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="120" height="40">'
PNG_DATA = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="


def check(svg: str, *, chunk: int | None = None) -> None:
    """Feed ``svg`` to the check, in chunks of ``chunk`` bytes when given (as an upload streams)."""
    data = svg.encode()
    checker = SvgCheck()
    step = chunk or len(data) or 1
    for start in range(0, len(data), step):
        checker.feed(data[start : start + step])
    checker.close()


CLEAN = [
    HEADER + OPEN + '<rect width="10" height="10" fill="#c00"/></svg>',
    # Illustrator's export: a public DOCTYPE, comments, gradients referenced by fragment, embedded text.
    HEADER
    + '<!-- Generator: Adobe Illustrator 27.0 -->\n'
    + '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
    + OPEN
    + '<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient>'
    + "<style>.a{fill:url(#g);font-family:Inter}</style></defs>"
    + '<path class="a" d="M0 0h10v10z" style="fill: url(\'#g\')"/><use xlink:href="#g"/><text x="1" y="9">Ünlü &amp; Co</text>'
    + f'<image href="{PNG_DATA}" width="1" height="1"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><a href="#top"><circle r="4"/></a>'
    '<animate attributeName="opacity" values="0;1" dur="1s"/></svg>',
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
    "not closed": OPEN + "<rect/>",
    "not XML": OPEN + "<rect></svg>",
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("chunk", [None, 5])
def test_active_content_and_outside_references_are_refused(name, chunk):
    """Script, event handlers, javascript: URLs, external references and entity tricks refuse the file, however it is split."""
    with pytest.raises(SvgRefused):
        check(HOSTILE[name], chunk=chunk)
