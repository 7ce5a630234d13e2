"""File names from browsers: cleaned for display, never used as paths (storage keys are generated)."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_LENGTH = 200  # characters of a display name


def clean_filename(raw: str | None) -> str:
    """Return a browser-supplied file name made safe to display: base name only, no control,
    format (bidi overrides, zero-width) or unassigned characters, at most 200 characters with
    the extension kept. Never used as a path: storage keys are generated.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        keep_extension = dot and 0 < len(ext) <= 10 and stem
        name = f"{stem[: MAX_NAME_LENGTH - len(ext) - 1].rstrip()}.{ext}" if keep_extension else name[:MAX_NAME_LENGTH]
    return name or "file"


def extension_of(name: str) -> str:
    """Return the lower-case extension of a cleaned name ("" when it has none)."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def ascii_filename(name: str) -> str:
    """Return an ASCII stand-in for ``name`` (for the plain ``filename=`` of Content-Disposition)."""
    ext = extension_of(name)
    stem = name[: -len(ext) - 1] if ext else name
    decomposed = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    safe = " ".join(re.sub(r"[^A-Za-z0-9._() -]+", "_", decomposed).split()).strip(" ._")
    if not re.search(r"[A-Za-z0-9]", safe):
        safe = "download"
    ext = re.sub(r"[^a-z0-9]+", "", ext)
    return f"{safe[: MAX_NAME_LENGTH - len(ext) - 1]}.{ext}" if ext else safe[:MAX_NAME_LENGTH]

