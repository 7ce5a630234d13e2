"""File storage shared by every feature that keeps files (asset collection, deliverables, updates).

Pieces, each documented in its module:

- :mod:`portal.storage.base` — the :class:`Storage` protocol, :class:`StoredFile`,
  :class:`ObjectWriter` and the errors; keys are generated, never chosen by a user.
- :mod:`portal.storage.local` and :mod:`portal.storage.s3` — the two backends.
- :mod:`portal.storage.filetypes` — the accepted extensions, their content types and
  magic-byte checks, and the kinds (allowlists) a request can ask for.
- :mod:`portal.storage.names` — browser file names cleaned for display (never paths).
- :mod:`portal.storage.uploads` — receiving uploads: streams a multipart request
  body straight into storage, checking size, extension, magic bytes and images.
- :mod:`portal.storage.upload_flow` — the one upload flow a view runs around it: checks
  before the body, limits, one transaction recording the files, the answers.
- :mod:`portal.storage.downloads` — sending stored files: streamed, with HTTP Range
  and the safe headers (attachment, ``filename*``, nosniff, sandbox).
- :mod:`portal.storage.images` — thumbnails and the Pillow pixel limit.

Use :func:`storage_for` to get the application's backend, and :func:`delete_quietly` to
delete objects whose rows are gone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import Flask, current_app

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
    "delete_quietly",
    "storage_for",
]

log = logging.getLogger(__name__)

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


def delete_quietly(keys: Iterable[str], storage: Storage | None = None) -> None:
    """Delete stored objects whose rows are gone (best effort: a leftover is logged, never an error).

    ``storage`` defaults to the current app's backend.
    """
    backend = storage if storage is not None else storage_for(current_app)
    for key in keys:
        try:
            backend.delete(key)
        except Exception:
            log.exception("could not delete stored object %s", key)  # and keep deleting the others
