"""Avatars: where they lie in the media bucket, and how they are made from an upload.

Keys in the media bucket (under ``media/``, the web role's prefix; two prefixes per
person, both deleted with the account)::

    media/avatar-uploads/<owner>/<job id>.<png|jpg|webp>   the original, until the job ends
    media/avatars/<owner>/<job id>/<size>.webp             what the site shows (SIZES)

Originals have a prefix of their own so that a bucket lifecycle rule can expire any
left behind, and their old versions, within a day: they hold the metadata (GPS...)
the sizes do not (ecs/templates/data.yaml).

The job id names a version: a new upload never overwrites what pages show now, so the
site can let browsers keep an avatar for good (its URL changes with the next one).

:func:`render_avatar` applies the EXIF orientation, crops to the centre square and
scales to each size, then re-encodes from the pixel data alone: a new image with no
``info``, so no EXIF (GPS included), XMP, comment or colour profile reaches the output.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from .check import check_picture, open_checked

if TYPE_CHECKING:
    from PIL import Image

PREFIX = "media/avatars"
UPLOAD_PREFIX = "media/avatar-uploads"
# The sizes the site shows: 64 px in the header (32 CSS px on 2x screens), 256 on the profile.
SIZES = (64, 256)
FORMAT = "WEBP"
CONTENT_TYPE = "image/webp"
QUALITY = 85

_ID = r"[0-9a-f]{32}"
_UPLOAD_KEY = re.compile(rf"{UPLOAD_PREFIX}/(?P<owner>{_ID})/(?P<job>{_ID})\.(png|jpg|webp)")


def owner_prefixes(owner_id: str) -> tuple[str, str]:
    """Return the prefixes every avatar object of this person is stored under."""
    return f"{PREFIX}/{owner_id}/", f"{UPLOAD_PREFIX}/{owner_id}/"


def upload_key(*, owner_id: str, job_id: str, extension: str) -> str:
    """Return where the original of this avatar job is stored."""
    return f"{UPLOAD_PREFIX}/{owner_id}/{job_id}.{extension}"


def is_upload_key(key: str, *, owner_id: str, job_id: str) -> bool:
    """Return True if ``key`` is this owner's upload for this job (and nothing else)."""
    match = _UPLOAD_KEY.fullmatch(key)
    return bool(match) and match["owner"] == owner_id and match["job"] == job_id


def version_prefix(*, owner_id: str, version: str) -> str:
    """Return the prefix of one avatar version's sizes."""
    return f"{PREFIX}/{owner_id}/{version}/"


def size_key(*, owner_id: str, version: str, size: int) -> str:
    """Return where one size of one avatar version is stored."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}")
    return f"{version_prefix(owner_id=owner_id, version=version)}{size}.webp"


def _pixels_only(image: Image.Image) -> Image.Image:
    """Return a new image holding ``image``'s pixels and nothing else (no ``info``)."""
    from PIL import Image

    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGBA" if has_alpha else "RGB"
    converted = image.convert(mode)
    return Image.frombytes(mode, converted.size, converted.tobytes())


def render_avatar(data: bytes) -> dict[int, bytes]:
    """Return each of :data:`SIZES` as WebP bytes made from the picture ``data``.

    Checks ``data`` with :func:`pictures.check.check_picture` first (raises its
    :class:`~pictures.check.PictureRejectedError`).
    """
    from PIL import Image, ImageOps

    check_picture(data)
    with open_checked(data) as image:
        image.load()
        # Turn the pixels as the camera meant them before the orientation tag is dropped.
        upright = ImageOps.exif_transpose(image)
        clean = _pixels_only(upright)
    side = min(clean.size)
    square = ImageOps.fit(clean, (side, side), method=Image.Resampling.LANCZOS)
    rendered: dict[int, bytes] = {}
    for size in SIZES:
        scaled = square if side == size else square.resize((size, size), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        # A fresh image's info is empty: nothing but pixels is written.
        _pixels_only(scaled).save(out, FORMAT, quality=QUALITY, method=4)
        rendered[size] = out.getvalue()
    return rendered
