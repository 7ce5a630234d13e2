"""The shared upload rules: documented allowlists, magic bytes, hostile names, download headers."""

from __future__ import annotations

import pytest

from portal.storage.downloads import content_disposition, safe_content_type
from portal.storage.filetypes import FILE_TYPES, KIND_LABELS, KINDS, extensions_for, sniff
from portal.storage.names import ascii_filename, clean_filename, extension_of

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
SAMPLES = {
    "png": PNG,
    "jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF",
    "gif": b"GIF89a\x01\x00",
    "webp": b"RIFF\x10\x00\x00\x00WEBPVP8 ",
    "tiff": b"II*\x00\x08\x00\x00\x00",
    "heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00",
    "svg": b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>',
    "eps": b"%!PS-Adobe-3.0 EPSF-3.0\n",
    "ai": b"%PDF-1.5\n%\xe2\xe3\xcf\xd3",
    "psd": b"8BPS\x00\x01",
    "pdf": b"%PDF-1.7\n",
    "docx": b"PK\x03\x04\x14\x00\x06\x00",
    "doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00",
    "txt": "Merhaba dünya, çalışma notları\n".encode(),
    "csv": b"name;amount\nAyse;12\n",
    "mp4": b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00",
    "mov": b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00",
    "webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81",
    "zip": b"PK\x03\x04\x0a\x00\x00\x00",
    "7z": b"7z\xbc\xaf\x27\x1c\x00\x04",
    "gz": b"\x1f\x8b\x08\x00",
    "tar": b"x" * 257 + b"ustar\x0000",
    "mp3": b"ID3\x03\x00\x00\x00",
    "woff2": b"wOF2\x00\x01\x00\x00",
}


@pytest.mark.parametrize("extension", sorted(SAMPLES))
def test_real_files_pass_the_magic_byte_check(extension):
    """A file whose first bytes match its extension is accepted."""
    assert sniff(extension, SAMPLES[extension])


@pytest.mark.parametrize(
    ("extension", "head"),
    [
        ("png", b"<!DOCTYPE html><html><script>alert(1)</script>"),  # the classic: HTML named .png
        ("jpg", PNG),  # a PNG is not a JPEG
        ("pdf", b"<html><body>invoice</body></html>"),
        ("pdf", b"<html><script>alert(1)</script>%PDF-1.7\n"),  # the header later on is not a PDF
        ("pdf", b"\n%PDF-1.7\n"),
        ("ai", b"<svg onload=alert(1)>%PDF-1.5\n"),
        ("svg", b"<html><svg></svg></html>"),
        ("txt", b"<!doctype html><title>x</title>"),
        ("csv", b"<script>fetch('/')</script>"),
        ("txt", b"MZ\x90\x00\x03\x00\x00\x00"),  # a Windows executable
        ("docx", b"\xd0\xcf\x11\xe0"),
        ("zip", b"Rar!\x1a\x07\x00"),
        ("mp4", b"<html>"),
        ("png", b""),
    ],
)
def test_content_that_does_not_match_the_extension_is_refused(extension, head):
    """Magic bytes decide, not the name: a .png that is really HTML is refused."""
    assert not sniff(extension, head)


def test_every_kind_is_a_documented_allowlist_of_known_types():
    """Each kind lists extensions with a content type and a check; "any" is every other kind and more."""
    assert set(KINDS) == {"images", "documents", "video", "archives", "any"} == set(KIND_LABELS)
    for kind, extensions in KINDS.items():
        assert extensions and all(ext in FILE_TYPES for ext in extensions), kind
    for kind in ("images", "documents", "video", "archives"):
        assert set(KINDS[kind]) <= set(KINDS["any"])
    assert extensions_for(["images"]) == frozenset(KINDS["images"])
    assert extensions_for(["nonsense"]) == frozenset()
    for dangerous in ("html", "htm", "js", "php", "exe", "sh", "bat", "svgz", "xhtml"):
        assert dangerous not in KINDS["any"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../x.png", "x.png"),
        ("..\\..\\windows\\system32\\x.png", "x.png"),
        ("/etc/passwd", "passwd"),
        ("a.php%00.jpg", "a.php%00.jpg"),
        ("a.php\x00.jpg", "a.php.jpg"),
        ("invoice\u202egnp.exe", "invoicegnp.exe"),  # the right-to-left override is gone: it reads as what it is
        ("logo\u200b\u2066.png", "logo.png"),
        ("  spaced   out  .png ", "spaced out .png"),
        ("..", "file"),
        ("", "file"),
        (".htaccess", "htaccess"),
        ("Ürün görseli – şubat.png", "Ürün görseli – şubat.png"),
    ],
)
def test_hostile_names_are_made_safe_to_display(raw, expected):
    """Names are only display metadata: paths, controls and bidi overrides are removed."""
    assert clean_filename(raw) == expected


def test_long_names_keep_their_extension():
    """A 300-character name is cut to 200 characters and keeps its extension."""
    name = clean_filename("a" * 296 + ".png")
    assert len(name) == 200 and name.endswith(".png")
    assert extension_of(name) == "png"


def test_extension_is_the_last_suffix_in_lower_case():
    """The extension that decides the checks is the real last one."""
    assert extension_of("a.php%00.jpg") == "jpg"
    assert extension_of("Photo.JPEG") == "jpeg"
    assert extension_of("archive.tar.gz") == "gz"
    assert extension_of("README") == ""
    assert extension_of("png") == ""


def test_content_disposition_has_an_ascii_fallback_and_a_utf8_name():
    """RFC 6266: attachment, a plain ASCII filename and filename* with the real name."""
    value = content_disposition('Ürün "logo"; v2.png')
    assert value.startswith('attachment; filename="')
    assert "filename*=UTF-8''%C3%9Cr%C3%BCn%20%22logo%22%3B%20v2.png" in value
    fallback = value.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and fallback.endswith(".png") and '"' not in fallback and ";" not in fallback
    assert "\r" not in content_disposition("a\r\nSet-Cookie: x=1.png") and "\n" not in content_disposition("a\r\nb.png")
    assert ascii_filename("日本語.pdf") == "download.pdf"


@pytest.mark.parametrize("kind", ["text/html", "image/svg+xml", "application/xhtml+xml", "text/javascript", "application/xml", "TEXT/HTML; charset=utf-8"])
def test_types_a_browser_would_render_are_sent_as_bytes(kind):
    """HTML, SVG, XML and script are never sent with a type the browser renders."""
    assert safe_content_type(kind) == "application/octet-stream"


def test_ordinary_types_are_kept():
    """Other recorded types are sent as recorded."""
    assert safe_content_type("image/png") == "image/png"
    assert safe_content_type("application/pdf") == "application/pdf"
