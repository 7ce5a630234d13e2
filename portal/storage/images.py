"""Images: the Pillow pixel limit, and thumbnails for previews.

Pillow only ever opens a stored upload with the one decoder its extension and magic
bytes already matched (``formats=[...]``), so a file can never reach a decoder that
shells out (EPS and Ghostscript) or one the upload did not claim to need. The size
is read from the header before any pixel is decoded, and an image over the limit is
refused rather than decoded.

Thumbnails are re-encoded by Pillow (JPEG, or PNG when the image has transparency),
so what the browser renders inline is always our own output, never the upload.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from portal.errors import DomainError
from portal.storage.base import Storage, StoredFile

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = (480, 480)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def max_pixels() -> int:
    """Return the largest image (width × height) accepted: Pillow's own decompression-bomb limit."""
    return int(Image.MAX_IMAGE_PIXELS or 89_478_485)


class ImageRejected(DomainError):
    """An upload that claims to be an image cannot be used as one."""

    status = 422


@dataclass(frozen=True)
class ImageInfo:
    """What was learnt from an image: its size and, if one was made, its thumbnail."""

    width: int
    height: int
    thumbnail: StoredFile | None = None


def inspect_image(
    storage: Storage,
    key: str,
    image_format: str,
    *,
    pixel_limit: int | None = None,
    thumbnail_prefix: str | None = None,
) -> ImageInfo:
    """Check a stored image against the pixel limit and, if asked, store a thumbnail.

    Raises :class:`ImageRejected` when the file cannot be read as ``image_format`` or is
    larger than ``pixel_limit`` (default :func:`max_pixels`). A thumbnail that cannot be
    made (an unusual but valid file) is logged and skipped, never an error.
    """
    limit = pixel_limit or max_pixels()
    with storage.open(key) as handle:
        try:
            image = Image.open(handle, formats=[image_format])
        except Image.DecompressionBombError:
            raise ImageRejected(_l("This image is too large: it has more pixels than we can process.")) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise ImageRejected(_l("This file could not be read as an image. Export it again and upload the new file.")) from None
        with image:
            width, height = image.size
            if width <= 0 or height <= 0:
                raise ImageRejected(_l("This file could not be read as an image. Export it again and upload the new file."))
            if width * height > limit:
                raise ImageRejected(
                    _l(
                        "This image is too large (%(width)s × %(height)s pixels). Upload one of at most %(megapixels)s megapixels.",
                        width=width,
                        height=height,
                        megapixels=limit // 1_000_000,
                    )
                )
            thumbnail = _thumbnail(storage, image, thumbnail_prefix) if thumbnail_prefix else None
    return ImageInfo(width=width, height=height, thumbnail=thumbnail)


def _thumbnail(storage: Storage, image: Image.Image, prefix: str) -> StoredFile | None:
    """Store a small re-encoded preview of ``image``; None if Pillow cannot decode it."""
    try:
        if image.format == "JPEG":
            image.draft("RGB", (THUMBNAIL_SIZE[0] * 2, THUMBNAIL_SIZE[1] * 2))  # decode at reduced scale: fast, little memory
        image.seek(0)
        frame = ImageOps.exif_transpose(image) or image
        frame.thumbnail(THUMBNAIL_SIZE)
        has_alpha = frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info)
        out = io.BytesIO()
        if has_alpha:
            frame.convert("RGBA").save(out, "PNG", optimize=True)
        else:
            frame.convert("RGB").save(out, "JPEG", quality=82, optimize=True)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        log.warning("no thumbnail for an uploaded %s image: %s", image.format, error)
        return None
    out.seek(0)
    return storage.save(out, prefix)


def thumbnail_content_type(head: bytes) -> str:
    """Return the content type of a thumbnail made by :func:`inspect_image` from its first bytes."""
    return "image/png" if head.startswith(PNG_SIGNATURE) else "image/jpeg"
