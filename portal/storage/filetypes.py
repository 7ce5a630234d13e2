"""What each accepted extension promises, and how its first bytes prove it.

:data:`FILE_TYPES` maps every extension the portal accepts to its content type (ours,
never the browser's), a magic-byte check (:func:`sniff`: a ``.png`` that is really HTML
is refused) and, for raster images, the Pillow format that decodes and thumbnails it.
:data:`KINDS` groups the extensions into the allowlists a request or an upload endpoint
accepts; :data:`KIND_LABELS` names them for users.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


def _starts(*signatures: bytes) -> Callable[[bytes], bool]:
    """Return a check that the file starts with one of ``signatures``."""
    return lambda head: head.startswith(signatures)


def _riff(form: bytes) -> Callable[[bytes], bool]:
    """Return a check for a RIFF container of the given form type (WebP, AVI, WAV)."""
    return lambda head: head[:4] == b"RIFF" and head[8:12] == form


def _iso_media(head: bytes) -> bool:
    """MP4/QuickTime family: a box type at offset 4 (``ftyp`` first, or QuickTime's older atoms)."""
    return head[4:8] in {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def _heif(head: bytes) -> bool:
    """HEIF/HEIC/AVIF: an ISO media file whose ``ftyp`` brand is one of the image brands."""
    return head[4:8] == b"ftyp" and head[8:12] in {b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis", b"avif"}


def _pdf(head: bytes) -> bool:
    """A PDF: the ``%PDF-`` header at the very start.

    Readers tolerate junk before the header, which is exactly how an HTML or script file
    with ``%PDF-`` further down would pass as a PDF: we accept only what starts with it.
    """
    return head.startswith(b"%PDF-")


def _mp3(head: bytes) -> bool:
    """An MP3: an ID3 tag, or an MPEG audio frame sync."""
    return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<?php")
_ALLOWED_CONTROL = {0x09, 0x0A, 0x0C, 0x0D, 0x1A, 0x1B}


def _strip_bom(head: bytes) -> bytes:
    """Return ``head`` without a UTF-8 byte order mark."""
    return head[len(codecs.BOM_UTF8) :] if head.startswith(codecs.BOM_UTF8) else head


def _text(head: bytes) -> bool:
    """Plain text in any 8-bit or UTF encoding, and not an HTML page or a script in disguise."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if any(byte < 0x20 and byte not in _ALLOWED_CONTROL for byte in head):
        return False
    return not _strip_bom(head).lstrip().lower().startswith(_HTML_MARKERS)


def _svg(head: bytes) -> bool:
    """An SVG document (XML text with an ``<svg`` element near the start), in UTF-8 or in UTF-16 with its byte order mark.

    UTF-16 is decoded here as the SVG check's parser reads it (expat follows the BOM); without
    a BOM, its NUL bytes refuse it, as they do any other encoding (UTF-32…).
    """
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            units = head[len(bom) : len(head) - (len(head) - len(bom)) % 2]  # the head may end inside a character
            head = units.decode(encoding, "replace").encode()
            break
    if any(byte < 0x20 and byte not in _ALLOWED_CONTROL for byte in head):
        return False
    text = _strip_bom(head).lstrip().lower()
    return text.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")) and b"<svg" in text


def _tar(head: bytes) -> bool:
    """A POSIX tar archive: ``ustar`` at offset 257."""
    return head[257:262] == b"ustar"


@dataclass(frozen=True)
class FileType:
    """What an extension promises: its content type, how to recognise it, and Pillow's format if an image."""

    content_type: str
    sniff: Callable[[bytes], bool]
    image_format: str | None = None  # raster images Pillow checks and thumbnails


_ZIP = _starts(b"PK\x03\x04")
_OLE = _starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
_EBML = _starts(b"\x1a\x45\xdf\xa3")
_MPEG_PS = _starts(b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")
_POSTSCRIPT = _starts(b"%!PS", b"\xc5\xd0\xd3\xc6")
_OOXML = "application/vnd.openxmlformats-officedocument."

FILE_TYPES: dict[str, FileType] = {
    # Images and design files.
    "jpg": FileType("image/jpeg", _starts(b"\xff\xd8\xff"), "JPEG"),
    "jpeg": FileType("image/jpeg", _starts(b"\xff\xd8\xff"), "JPEG"),
    "png": FileType("image/png", _starts(b"\x89PNG\r\n\x1a\n"), "PNG"),
    "gif": FileType("image/gif", _starts(b"GIF87a", b"GIF89a"), "GIF"),
    "webp": FileType("image/webp", _riff(b"WEBP"), "WEBP"),
    "tif": FileType("image/tiff", _starts(b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"), "TIFF"),
    "tiff": FileType("image/tiff", _starts(b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"), "TIFF"),
    "bmp": FileType("image/bmp", _starts(b"BM"), "BMP"),
    "heic": FileType("image/heic", _heif),
    "heif": FileType("image/heif", _heif),
    "svg": FileType("image/svg+xml", _svg),
    "eps": FileType("application/postscript", _POSTSCRIPT),
    "ai": FileType("application/postscript", lambda head: _pdf(head) or _POSTSCRIPT(head)),
    "psd": FileType("image/vnd.adobe.photoshop", _starts(b"8BPS")),
    # Documents.
    "pdf": FileType("application/pdf", _pdf),
    "doc": FileType("application/msword", _OLE),
    "docx": FileType(_OOXML + "wordprocessingml.document", _ZIP),
    "xls": FileType("application/vnd.ms-excel", _OLE),
    "xlsx": FileType(_OOXML + "spreadsheetml.sheet", _ZIP),
    "ppt": FileType("application/vnd.ms-powerpoint", _OLE),
    "pptx": FileType(_OOXML + "presentationml.presentation", _ZIP),
    "odt": FileType("application/vnd.oasis.opendocument.text", _ZIP),
    "ods": FileType("application/vnd.oasis.opendocument.spreadsheet", _ZIP),
    "odp": FileType("application/vnd.oasis.opendocument.presentation", _ZIP),
    "rtf": FileType("application/rtf", _starts(b"{\\rtf")),
    "txt": FileType("text/plain", _text),
    "csv": FileType("text/csv", _text),
    "md": FileType("text/markdown", _text),
    # Video.
    "mp4": FileType("video/mp4", _iso_media),
    "m4v": FileType("video/x-m4v", _iso_media),
    "mov": FileType("video/quicktime", _iso_media),
    "webm": FileType("video/webm", _EBML),
    "mkv": FileType("video/x-matroska", _EBML),
    "avi": FileType("video/x-msvideo", _riff(b"AVI ")),
    "mpg": FileType("video/mpeg", _MPEG_PS),
    "mpeg": FileType("video/mpeg", _MPEG_PS),
    # Archives.
    "zip": FileType("application/zip", _ZIP),
    "7z": FileType("application/x-7z-compressed", _starts(b"7z\xbc\xaf\x27\x1c")),
    "rar": FileType("application/vnd.rar", _starts(b"Rar!\x1a\x07")),
    "tar": FileType("application/x-tar", _tar),
    "gz": FileType("application/gzip", _starts(b"\x1f\x8b")),
    "tgz": FileType("application/gzip", _starts(b"\x1f\x8b")),
    # Audio and fonts (accepted by "any").
    "mp3": FileType("audio/mpeg", _mp3),
    "wav": FileType("audio/wav", _riff(b"WAVE")),
    "m4a": FileType("audio/mp4", _iso_media),
    "ogg": FileType("audio/ogg", _starts(b"OggS")),
    "flac": FileType("audio/flac", _starts(b"fLaC")),
    "ttf": FileType("font/ttf", _starts(b"\x00\x01\x00\x00", b"true")),
    "otf": FileType("font/otf", _starts(b"OTTO")),
    "woff": FileType("font/woff", _starts(b"wOFF")),
    "woff2": FileType("font/woff2", _starts(b"wOF2")),
}

# The kinds a request can accept, each an allowlist of extensions of FILE_TYPES with a
# label (documented for users in the request form, which lists them; a unit test keeps
# the three tables in step).
KINDS: dict[str, tuple[str, ...]] = {
    "images": ("jpg", "jpeg", "png", "gif", "webp", "tif", "tiff", "bmp", "heic", "heif", "svg", "eps", "ai", "psd"),
    "documents": ("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf", "txt", "csv", "md"),
    "video": ("mp4", "m4v", "mov", "webm", "mkv", "avi", "mpg", "mpeg"),
    "archives": ("zip", "7z", "rar", "tar", "gz", "tgz"),
}
# "any" is every kind above plus audio and fonts: still an allowlist (no HTML, scripts or executables).
KINDS["any"] = tuple(
    dict.fromkeys([*(ext for exts in KINDS.values() for ext in exts), "mp3", "wav", "m4a", "ogg", "flac", "ttf", "otf", "woff", "woff2"])
)

KIND_LABELS = {
    "images": _l("Images and design files"),
    "documents": _l("Documents"),
    "video": _l("Video"),
    "archives": _l("Archives"),
    "any": _l("Any file type"),
}


def extensions_for(kinds: Iterable[str]) -> frozenset[str]:
    """Return the allowed extensions of the given kinds (unknown kinds add nothing)."""
    return frozenset(ext for kind in kinds for ext in KINDS.get(kind, ()))


def sniff(extension: str, head: bytes) -> bool:
    """Tell whether ``head`` (the file's first bytes) looks like a file of ``extension``."""
    file_type = FILE_TYPES.get(extension)
    return bool(file_type and head and file_type.sniff(head))

