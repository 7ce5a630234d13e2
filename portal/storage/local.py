"""Local disk storage: objects are files under one root folder (default ``instance/uploads``).

Writes go to a temporary file in ``<root>/.incoming/``, which is fsynced and then
renamed into place (a rename on one file system is atomic), and the folder entry is
fsynced too. A crash or a refused upload therefore never leaves a half-written
object under a real key; at worst a ``.part`` file in ``.incoming/``, which
:meth:`LocalStorage.remove_stale_parts` clears.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from portal.storage.base import CHUNK_SIZE, ObjectNotFound, ObjectWriter, StoredFile, check_key, copy_stream, new_key

INCOMING = ".incoming"


def _fsync_dir(path: Path) -> None:
    """Flush a folder's entries to disk, so a rename into it survives a power cut."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems that refuse it
        pass
    finally:
        os.close(fd)


class _LocalWriter(ObjectWriter):
    """Writes to ``.incoming/<random>.part``; commit fsyncs and renames it to the key's path."""

    def __init__(self, storage: LocalStorage, key: str) -> None:
        super().__init__(key)
        self._storage = storage
        incoming = storage.root / INCOMING
        incoming.mkdir(parents=True, exist_ok=True)
        self._temp = incoming / f"{secrets.token_hex(12)}.part"
        fd = os.open(self._temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        self._file = os.fdopen(fd, "wb", buffering=0)

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        while view:
            written = self._file.write(view)
            view = view[written:]

    def _commit(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        target = self._storage.path(self.key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._temp, target)
        _fsync_dir(target.parent)

    def _abort(self) -> None:
        try:
            self._file.close()
        finally:
            self._temp.unlink(missing_ok=True)


class LocalStorage:
    """Objects kept as files under ``root``; see the module docstring for durability."""

    def __init__(self, root: str | os.PathLike[str], chunk_size: int = CHUNK_SIZE) -> None:
        self.root = Path(root).resolve()
        self.chunk_size = chunk_size

    def __repr__(self) -> str:
        return f"<LocalStorage {self.root}>"

    def path(self, key: str) -> Path:
        """Return the file that holds ``key`` (the key is checked, so it stays under the root)."""
        path = (self.root / check_key(key)).resolve()
        if self.root not in path.parents:
            raise ValueError(f"invalid storage key {key!r}")
        return path

    def writer(self, prefix: str) -> ObjectWriter:
        """Start a new object under ``prefix`` (see :class:`~portal.storage.base.ObjectWriter`)."""
        return _LocalWriter(self, new_key(prefix))

    def save(self, stream: BinaryIO, prefix: str) -> StoredFile:
        """Copy ``stream`` into a new object, a chunk at a time."""
        return copy_stream(self, stream, prefix, self.chunk_size)

    def open(self, key: str) -> BinaryIO:
        """Return the object as a seekable binary file; the caller closes it."""
        try:
            return open(self.path(key), "rb")
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    def iter_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Open the object now and return an iterator over bytes ``start..end`` (inclusive)."""
        handle = self.open(key)
        return self._chunks(handle, start, end)

    def _chunks(self, handle: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
        with handle:
            handle.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                chunk = handle.read(self.chunk_size if remaining is None else min(self.chunk_size, remaining))
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def size(self, key: str) -> int:
        """Return the object's size in bytes."""
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    def delete(self, key: str) -> None:
        """Remove the object (and nothing else); a missing key is not an error."""
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under ``key``."""
        return self.path(key).is_file()

    def remove_stale_parts(self, older_than_seconds: float = 24 * 3600) -> int:
        """Delete temporary files a killed process left behind; return how many."""
        incoming = self.root / INCOMING
        if not incoming.is_dir():
            return 0
        cutoff = time.time() - older_than_seconds
        removed = 0
        for part in incoming.glob("*.part"):
            try:
                if part.stat().st_mtime < cutoff:
                    part.unlink()
                    removed += 1
            except FileNotFoundError:  # another process finished or removed it
                continue
        return removed
