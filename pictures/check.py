"""What a picture upload may be, checked the same way on the site and in the worker.

:func:`check_picture` refuses, with a message for people (:class:`PictureRejectedError`):

- more than :data:`MAX_BYTES`, or nothing at all;
- anything Pillow does not recognise as one of :data:`FORMATS` (decided by the
  content, never by the file name or the browser's content type): a text file named
  ``.png``, a GIF, an SVG...;
- more than :data:`MAX_PIXELS` pixels, read from the header before any decoding
  (a decompression bomb: a few kilobytes that decode to gigabytes);
- a damaged or truncated file: ``verify()`` checks the structure, then a second
  ``open()`` and ``load()`` decodes every pixel (``verify()`` alone misses truncation).

The process-wide ``Image.MAX_IMAGE_PIXELS`` is left at Pillow's default (changing it,
or the warning filters, from a threaded web worker would race): the pixel limit here
is stricter and checked before decoding, and Pillow's own bomb error (sizes beyond
twice its limit, raised already by ``open()``) is caught as a bomb too.

Pillow is imported when a picture is checked, not with this module: a web worker that
never sees an upload does not hold it (docs/performance.md).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

MAX_BYTES = 5 * 1024 * 1024
# 25 megapixels (5000 x 5000): a phone photo fits; decoding costs at most ~100 MB (RGBA).
MAX_PIXELS = 25_000_000
# Pillow's names of the formats accepted; only their decoders are ever tried.
FORMATS = ("PNG", "JPEG", "WEBP")
CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}

EMPTY = "The file is empty."
TOO_LARGE = f"The picture is larger than {MAX_BYTES // (1024 * 1024)} MB. Upload a smaller one."
NOT_A_PICTURE = "This file is not a PNG, JPEG or WebP picture."
TOO_MANY_PIXELS = (
    f"The picture has too many pixels (at most {MAX_PIXELS // 1_000_000} megapixels). "
    "Upload a smaller one."
)
DAMAGED = "The picture is damaged or incomplete. Try saving it again, or upload another."


class PictureRejectedError(ValueError):
    """The upload is not a picture this site accepts; the message says why, for people."""


@dataclass(frozen=True)
class PictureInfo:
    """What the check found: Pillow's format name and the size in pixels."""

    format: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


def _check_pixels(size: tuple[int, int]) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise PictureRejectedError(DAMAGED)
    if width * height > MAX_PIXELS:
        raise PictureRejectedError(TOO_MANY_PIXELS)


def open_checked(data: bytes) -> Image.Image:
    """Open ``data`` with the accepted decoders only, its pixel count checked; not loaded.

    The caller closes it. Raises :class:`PictureRejectedError`.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    # Pillow's warning (between its limit and twice that) is an error where a filter says so.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PictureRejectedError(TOO_MANY_PIXELS) from exc
    except UnidentifiedImageError as exc:
        raise PictureRejectedError(NOT_A_PICTURE) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise PictureRejectedError(DAMAGED) from exc
    try:
        _check_pixels(image.size)
    except PictureRejectedError:
        image.close()
        raise
    return image


def check_picture(data: bytes) -> PictureInfo:
    """Return what ``data`` is if it is a picture this site accepts; raise otherwise."""
    if not data:
        raise PictureRejectedError(EMPTY)
    if len(data) > MAX_BYTES:
        raise PictureRejectedError(TOO_LARGE)
    with open_checked(data) as image:
        info = PictureInfo(format=image.format, width=image.width, height=image.height)
        try:
            image.verify()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise PictureRejectedError(DAMAGED) from exc
    # verify() leaves the image unusable and does not decode pixel data: decode it all.
    from PIL import Image

    with open_checked(data) as image:
        try:
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PictureRejectedError(TOO_MANY_PIXELS) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise PictureRejectedError(DAMAGED) from exc
    return info
