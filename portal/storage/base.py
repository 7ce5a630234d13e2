"""The storage interface every backend implements, and the errors it raises.

A backend keeps opaque objects under server-generated keys. Features never
choose a key and never see a path: they hand the backend a stream (or write
through an :class:`ObjectWriter`) and record the :class:`StoredFile` it returns.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import BinaryIO, Protocol, runtime_checkable

CHUNK_SIZE = 1024 * 1024  # 1 MiB: large enough for throughput, small enough to keep memory flat

# Keys are generated here, never taken from a request; the pattern is checked again on
# every operation so a key that was tampered with cannot name a path outside the store.
_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}(/[a-z0-9][a-z0-9_-]{0,63}){1,6}$")
_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class StorageError(RuntimeError):
    """The backend could not store, read or delete an object."""


class ObjectNotFound(StorageError):
    """No object is stored under that key."""


@dataclass(frozen=True)
class StoredFile:
    """An object that was stored completely: its key, size in bytes and SHA-256 (hex)."""

    key: str
    size: int
    sha256: str


def new_key(prefix: str) -> str:
    """Return a fresh, unguessable key under ``prefix``: ``assets/2026/05/<32 hex>``."""
    if not _PREFIX_RE.match(prefix):
        raise ValueError(f"invalid storage prefix {prefix!r}")
    now = datetime.now(UTC)
    return f"{prefix}/{now:%Y}/{now:%m}/{secrets.token_hex(16)}"


def check_key(key: str) -> str:
    """Return ``key`` if it has the shape of a generated key, else raise ValueError."""
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise ValueError(f"invalid storage key {key!r}")
    return key


class ObjectWriter:
    """An object being written: ``write()`` chunks, then ``commit()`` or ``abort()``.

    Counts the bytes and hashes them as they pass, so the size and SHA-256 are
    known without reading the object again. Used as a context manager, the
    object is aborted (nothing left behind) unless ``commit()`` was called::

        with storage.writer("assets") as out:
            for chunk in chunks:
                out.write(chunk)
            stored = out.commit()

    Backends subclass it and implement ``_write``, ``_commit`` and ``_abort``.
    """

    def __init__(self, key: str) -> None:
        self.key = check_key(key)
        self.size = 0
        self._hash = hashlib.sha256()
        self._done = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` to the object."""
        if self._done:
            raise StorageError("the object was already committed or aborted")
        if not data:
            return
        self._hash.update(data)
        self.size += len(data)
        self._write(data)

    def commit(self) -> StoredFile:
        """Make the object durable under its key and return what was stored."""
        if self._done:
            raise StorageError("the object was already committed or aborted")
        try:
            self._commit()
        except BaseException:
            self.abort()
            raise
        self._done = True
        return StoredFile(key=self.key, size=self.size, sha256=self._hash.hexdigest())

    def abort(self) -> None:
        """Throw the object away; safe to call more than once."""
        if self._done:
            return
        self._done = True
        self._abort()

    @property
    def sha256(self) -> str:
        """Return the SHA-256 of what was written so far."""
        return self._hash.hexdigest()

    def __enter__(self) -> ObjectWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.abort()

    # Backends implement these.
    def _write(self, data: bytes | bytearray | memoryview) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def _commit(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def _abort(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


@runtime_checkable
class Storage(Protocol):
    """Where uploaded files live. Chosen by ``PORTAL_STORAGE``; see :func:`portal.storage.storage_for`.

    - ``writer(prefix)`` starts a new object under a generated key (see :class:`ObjectWriter`).
    - ``save(stream, prefix)`` copies a readable binary stream into a new object, in chunks.
    - ``open(key)`` returns a seekable binary file for reading (Pillow, checks); close it.
    - ``iter_range(key, start, end)`` opens the object at once (raising :class:`ObjectNotFound`
      before any byte is sent) and returns an iterator over bytes ``start..end`` inclusive.
    - ``size(key)`` returns the stored size in bytes.
    - ``delete(key)`` removes the object; deleting a missing key is not an error.
    - ``exists(key)`` tells whether an object is stored under ``key``.
    """

    def writer(self, prefix: str) -> ObjectWriter: ...

    def save(self, stream: BinaryIO, prefix: str) -> StoredFile: ...

    def open(self, key: str) -> BinaryIO: ...

    def iter_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]: ...

    def size(self, key: str) -> int: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


def copy_stream(storage: Storage, stream: BinaryIO, prefix: str, chunk_size: int = CHUNK_SIZE) -> StoredFile:
    """Copy ``stream`` into a new object of ``storage`` a chunk at a time (shared by the backends)."""
    with storage.writer(prefix) as out:
        while chunk := stream.read(chunk_size):
            out.write(chunk)
        return out.commit()
