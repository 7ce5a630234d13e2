"""The storage interface every backend implements, and the errors it raises.

A backend keeps opaque objects under server-generated keys. Features never
choose a key and never see a path: they hand the backend a stream (or write
through an :class:`ObjectWriter`) and record the :class:`StoredFile` it returns.
"""

from __future__ import annotations

import hashlib
import queue
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import BinaryIO, Protocol, runtime_checkable

CHUNK_SIZE = 1024 * 1024  # 1 MiB: large enough for throughput, small enough to keep memory flat
BACKGROUND_AFTER = 4 * CHUNK_SIZE  # an object larger than this is hashed and written on a thread of its own
QUEUE_CHUNKS = 4  # chunks waiting for that thread at most: memory stays flat

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
    known without reading the object again. Past :data:`BACKGROUND_AFTER` bytes,
    hashing and writing move to a thread of their own, fed through a queue of at
    most :data:`QUEUE_CHUNKS` chunks (memory stays flat): both release the GIL, so a
    large upload is parsed, hashed and written at the same time instead of in turn.
    A failure there (the backend's own error) is raised by the next ``write()`` or by ``commit()``. Used as a
    context manager, the object is aborted (nothing left behind) unless ``commit()``
    was called::

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
        self._queue: queue.Queue[bytes | None] | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._dropping = False  # aborting: the thread throws the queued chunks away

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` to the object."""
        if self._done:
            raise StorageError("the object was already committed or aborted")
        if not data:
            return
        self._raise_failure()
        self.size += len(data)
        if self._queue is None and self.size <= BACKGROUND_AFTER:
            self._hash.update(data)
            self._write(data)
            return
        if self._queue is None:
            self._queue = queue.Queue(maxsize=QUEUE_CHUNKS)
            self._thread = threading.Thread(target=self._drain, args=(self._queue,), name="storage-writer", daemon=True)
            self._thread.start()
        # The queue keeps the chunk until the thread gets to it: a copy the caller cannot change.
        self._queue.put(data if isinstance(data, bytes) else bytes(data))

    def _drain(self, chunks: queue.Queue[bytes | None]) -> None:
        """Hash and write the queued chunks in order (the writer's thread), until told to stop."""
        while (data := chunks.get()) is not None:
            if self._failure is not None or self._dropping:
                continue  # keep taking chunks, so write() never waits on a queue nobody empties
            try:
                self._hash.update(data)
                self._write(data)
            except BaseException as error:  # noqa: BLE001 -- handed to the caller's thread, raised there
                self._failure = error

    def _stop_thread(self) -> None:
        """Let the thread finish what is queued, and wait for it."""
        if self._queue is not None and self._thread is not None:
            self._queue.put(None)
            self._thread.join()
        self._queue = self._thread = None

    def _raise_failure(self) -> None:
        """Raise, in the caller's thread, what the writer's thread failed with (as an inline write would have)."""
        if self._failure is not None:
            raise self._failure

    def commit(self) -> StoredFile:
        """Make the object durable under its key and return what was stored."""
        if self._done:
            raise StorageError("the object was already committed or aborted")
        try:
            self._stop_thread()
            self._raise_failure()
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
        self._dropping = True
        self._stop_thread()
        self._abort()

    @property
    def sha256(self) -> str:
        """Return the SHA-256 of what was written so far (once the writer's thread, if any, has hashed it)."""
        if self._queue is not None:
            self._stop_thread()  # a later write starts another
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
