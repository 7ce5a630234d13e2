"""Sample files and small helpers shared by the asset collection tests."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from PIL import Image

from portal.assets import service
from portal.models import AssetFile, AssetRequest, Project, User
from portal.storage import storage_for
from portal.storage.images import inspect_image
from portal.storage.uploads import ReceivedFile

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
PLAIN_SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


def png_bytes(width: int = 64, height: int = 48, colour: tuple[int, int, int] = (200, 30, 30), mode: str = "RGB") -> bytes:
    """Return a real PNG image."""
    out = io.BytesIO()
    Image.new(mode, (width, height), colour if mode == "RGB" else 0).save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(width: int = 80, height: int = 60) -> bytes:
    """Return a real JPEG image."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def upload(web, url: str, *files: tuple[bytes, str], json: bool = False, **fields: Any):
    """POST files to an upload URL as the page's form (or, with ``json``, its script) does."""
    data: dict[str, Any] = dict(fields)
    data["files"] = [(io.BytesIO(content), name) for content, name in files]
    headers = {"Accept": "application/json"} if json else {}
    return web.post(url, data, content_type="multipart/form-data", headers=headers)


def stored_objects(app: Flask) -> list[Path]:
    """Return every file under the local storage root, temporary ones included."""
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def store_file(actor: User, project: Project, asset_request: AssetRequest | None, content: bytes, name: str) -> AssetFile:
    """Store ``content`` and record it through the service, as an upload would (the caller commits)."""
    storage = storage_for(current_app)
    stored = storage.save(io.BytesIO(content), "assets")
    extension = name.rsplit(".", 1)[-1].lower()
    thumbnail = width = height = None
    if extension in {"png", "jpg", "jpeg"}:
        info = inspect_image(storage, stored.key, "PNG" if extension == "png" else "JPEG", thumbnail_prefix="assets")
        thumbnail, width, height = info.thumbnail, info.width, info.height
    content_type = {"png": "image/png", "jpg": "image/jpeg", "pdf": "application/pdf", "svg": "image/svg+xml"}.get(extension, "application/octet-stream")
    received = ReceivedFile(stored=stored, name=name, extension=extension, content_type=content_type, thumbnail=thumbnail, width=width, height=height)
    return service.add_files(actor, project, asset_request, [received])[0]
