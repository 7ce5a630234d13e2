"""S3-compatible object storage through boto3 (AWS S3, MinIO, Cloudflare R2, Ceph…).

Configured by ``PORTAL_S3_BUCKET``, ``PORTAL_S3_ENDPOINT_URL`` (empty for AWS),
``PORTAL_S3_ACCESS_KEY_ID`` / ``PORTAL_S3_SECRET_ACCESS_KEY`` (empty: boto3's usual
credential chain, e.g. an instance role) and ``PORTAL_S3_REGION``.

Writes stream as a multipart upload in parts of :data:`PART_SIZE`, so memory holds
at most one part per upload whatever the file's size; a file smaller than one part is
sent with a single PUT. An object only appears under its key when the upload is
completed, and an aborted upload is discarded on the server, so a refused or
interrupted upload leaves nothing behind.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import suppress
from typing import Any, BinaryIO

from portal.storage.base import CHUNK_SIZE, ObjectNotFound, ObjectWriter, StorageError, StoredFile, check_key, copy_stream, new_key

PART_SIZE = 8 * 1024 * 1024  # S3 needs at least 5 MiB per part (except the last)


def _is_missing(error: Exception) -> bool:
    """Tell whether a botocore error means "no such object"."""
    response = getattr(error, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in {"404", "NoSuchKey", "NotFound"} or status == 404


class _S3Writer(ObjectWriter):
    """Buffers one part at a time and uploads it; commit completes the upload."""

    def __init__(self, storage: S3Storage, key: str) -> None:
        super().__init__(key)
        self._storage = storage
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        self._buffer += data
        while len(self._buffer) >= self._storage.part_size:
            self._send_part(bytes(self._buffer[: self._storage.part_size]))
            del self._buffer[: self._storage.part_size]

    def _send_part(self, body: bytes) -> None:
        client, bucket = self._storage.client, self._storage.bucket
        if self._upload_id is None:
            self._upload_id = client.create_multipart_upload(Bucket=bucket, Key=self.key)["UploadId"]
        number = len(self._parts) + 1
        reply = client.upload_part(Bucket=bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=body)
        self._parts.append({"PartNumber": number, "ETag": reply["ETag"]})

    def _commit(self) -> None:
        client, bucket = self._storage.client, self._storage.bucket
        if self._upload_id is None:
            client.put_object(Bucket=bucket, Key=self.key, Body=bytes(self._buffer))
        else:
            if self._buffer:
                self._send_part(bytes(self._buffer))
            client.complete_multipart_upload(
                Bucket=bucket, Key=self.key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
            )
        self._buffer = bytearray()

    def _abort(self) -> None:
        self._buffer = bytearray()
        if self._upload_id is not None:
            # Whatever the abort raises is ignored: the bucket's lifecycle rule removes abandoned parts.
            with suppress(Exception):
                self._storage.client.abort_multipart_upload(Bucket=self._storage.bucket, Key=self.key, UploadId=self._upload_id)


class _S3Reader(io.RawIOBase):
    """A seekable read-only file over an object, fetched with ranged GETs."""

    def __init__(self, storage: S3Storage, key: str, size: int) -> None:
        super().__init__()
        self._storage = storage
        self._key = key
        self._size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._position >= self._size or not len(view):
            return 0
        end = min(self._position + len(view), self._size) - 1
        body = self._storage.client.get_object(
            Bucket=self._storage.bucket, Key=self._key, Range=f"bytes={self._position}-{end}"
        )["Body"]
        data = body.read()
        body.close()
        view[: len(data)] = data
        self._position += len(data)
        return len(data)


class S3Storage:
    """Objects kept in one bucket of an S3-compatible service; see the module docstring."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region: str | None = None,
        part_size: int = PART_SIZE,
        chunk_size: int = CHUNK_SIZE,
        client: Any = None,
    ) -> None:
        import boto3
        from botocore.config import Config as BotoConfig

        self.bucket = bucket
        self.part_size = part_size
        self.chunk_size = chunk_size
        self.client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            region_name=region or None,
            config=BotoConfig(
                signature_version="s3v4",
                retries={"max_attempts": 5, "mode": "standard"},
                # Custom endpoints (MinIO, moto, R2) rarely resolve bucket subdomains.
                s3={"addressing_style": "path" if endpoint_url else "auto"},
            ),
        )

    def __repr__(self) -> str:
        return f"<S3Storage bucket={self.bucket}>"

    def _call(self, method: str, **kwargs: Any) -> Any:
        """Call the S3 client, turning "not found" into :class:`ObjectNotFound`."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except ClientError as error:
            if _is_missing(error):
                raise ObjectNotFound(kwargs.get("Key", "")) from None
            raise StorageError(f"S3 {method} failed: {error}") from error
        except BotoCoreError as error:
            raise StorageError(f"S3 {method} failed: {error}") from error

    def writer(self, prefix: str) -> ObjectWriter:
        """Start a new object under ``prefix`` (see :class:`~portal.storage.base.ObjectWriter`)."""
        return _S3Writer(self, new_key(prefix))

    def save(self, stream: BinaryIO, prefix: str) -> StoredFile:
        """Copy ``stream`` into a new object, a chunk at a time."""
        return copy_stream(self, stream, prefix, self.chunk_size)

    def open(self, key: str) -> BinaryIO:
        """Return the object as a seekable binary file (ranged GETs, buffered); the caller closes it."""
        size = self.size(key)
        return io.BufferedReader(_S3Reader(self, check_key(key), size), buffer_size=self.chunk_size)

    def iter_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Start the GET now (a missing object raises here) and return an iterator over its bytes."""
        extra = {"Range": f"bytes={start}-{'' if end is None else end}"} if start or end is not None else {}
        body = self._call("get_object", Key=check_key(key), **extra)["Body"]
        return self._chunks(body)

    def _chunks(self, body: Any) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(self.chunk_size)
        finally:
            body.close()

    def size(self, key: str) -> int:
        """Return the object's size in bytes."""
        return int(self._call("head_object", Key=check_key(key))["ContentLength"])

    def delete(self, key: str) -> None:
        """Remove the object; S3 treats a missing key as already deleted."""
        self._call("delete_object", Key=check_key(key))

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under ``key``."""
        try:
            self._call("head_object", Key=check_key(key))
        except ObjectNotFound:
            return False
        return True
