"""File storage shared by every feature that keeps files (asset collection, deliverables).

Pieces, each documented in its module:

- :mod:`portal.storage.base` — the :class:`Storage` protocol, :class:`StoredFile`,
  :class:`ObjectWriter` and the errors; keys are generated, never chosen by a user.
- :mod:`portal.storage.local` and :mod:`portal.storage.s3` — the two backends.
- :mod:`portal.storage.uploads` — receiving uploads: streams a multipart request
  body straight into storage, checking size, extension, magic bytes and images.
- :mod:`portal.storage.downloads` — sending stored files: streamed, with HTTP Range
  and the safe headers (attachment, ``filename*``, nosniff, sandbox).
- :mod:`portal.storage.images` — thumbnails and the Pillow pixel limit.

Use :func:`storage_for` to get the application's backend.
"""

from __future__ import annotations

from flask import Flask

from portal.storage.base import ObjectNotFound, ObjectWriter, Storage, StorageError, StoredFile
from portal.storage.local import LocalStorage
from portal.storage.s3 import S3Storage

__all__ = [
    "LocalStorage",
    "ObjectNotFound",
    "ObjectWriter",
    "S3Storage",
    "Storage",
    "StorageError",
    "StoredFile",
    "storage_for",
]

_EXTENSION_KEY = "portal.storage"


def storage_for(app: Flask) -> Storage:
    """Return the app's storage backend (``PORTAL_STORAGE=local|s3``), built once per app."""
    storage = app.extensions.get(_EXTENSION_KEY)
    if storage is None:
        cfg = app.config
        if cfg["STORAGE"] == "s3":
            storage = S3Storage(
                cfg["S3_BUCKET"],
                endpoint_url=cfg.get("S3_ENDPOINT_URL"),
                access_key_id=cfg.get("S3_ACCESS_KEY_ID"),
                secret_access_key=cfg.get("S3_SECRET_ACCESS_KEY"),
                region=cfg.get("S3_REGION"),
            )
        else:
            storage = LocalStorage(cfg["UPLOAD_DIR"])
        app.extensions[_EXTENSION_KEY] = storage
    return storage
