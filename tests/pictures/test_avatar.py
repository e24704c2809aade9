"""Making avatars: the sizes the site shows, upright, square, and with no metadata left."""

import io

import pytest
from PIL import Image

from pictures import avatar
from pictures.check import PictureRejectedError
from tests.pictures import samples

pytestmark = pytest.mark.no_dynamodb

OWNER, JOB = "a" * 32, "b" * 32


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_no_metadata(image: Image.Image) -> None:
    """No EXIF (GPS, camera, orientation), XMP, comment or colour profile is in ``image``."""
    assert not image.getexif(), dict(image.getexif())
    assert not {"exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"} & set(image.info)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_each_size_is_a_square_webp(fmt):
    rendered = avatar.render_avatar(samples.picture(fmt, (640, 480)))

    assert sorted(rendered) == [64, 256]
    for size, data in rendered.items():
        image = _open(data)
        assert (image.format, image.size) == ("WEBP", (size, size))


def test_gps_camera_and_comment_are_gone_from_every_size():
    original = samples.jpeg_with_gps()
    source = Image.open(io.BytesIO(original))
    assert source.getexif().get_ifd(samples.GPS_IFD)  # the sample does carry GPS
    assert b"Secret Camera" in original

    for data in avatar.render_avatar(original).values():
        assert_no_metadata(_open(data))
        assert b"Secret Camera" not in data
        assert b"shot at home" not in data


def test_the_exif_orientation_is_applied_before_it_is_dropped():
    # Stored landscape with its dark half on the left; orientation 6 = turn 90° clockwise
    # to show it, which puts the dark half on top.
    rendered = avatar.render_avatar(samples.jpeg_with_gps((400, 200), orientation=6))

    image = _open(rendered[256]).convert("L")
    top, bottom = image.getpixel((128, 40)), image.getpixel((128, 215))
    assert top < 60 < bottom, (top, bottom)


def test_transparency_is_kept():
    data = samples.picture("PNG", (100, 100), color=(255, 0, 0, 0))

    image = _open(avatar.render_avatar(data)[64])

    assert image.mode == "RGBA"
    assert image.getpixel((10, 10))[3] == 0


def test_a_bad_picture_is_refused_before_anything_is_made():
    with pytest.raises(PictureRejectedError):
        avatar.render_avatar(samples.bomb_png())


def test_keys_name_the_owner_and_the_version():
    upload = f"media/avatar-uploads/{OWNER}/{JOB}.jpg"
    assert avatar.upload_key(owner_id=OWNER, job_id=JOB, extension="jpg") == upload
    assert avatar.size_key(owner_id=OWNER, version=JOB, size=64) == (
        f"media/avatars/{OWNER}/{JOB}/64.webp"
    )
    assert avatar.owner_prefixes(OWNER) == (
        f"media/avatars/{OWNER}/",
        f"media/avatar-uploads/{OWNER}/",
    )
    assert avatar.is_upload_key(upload, owner_id=OWNER, job_id=JOB)
    other = "c" * 32
    assert not avatar.is_upload_key(upload, owner_id=other, job_id=JOB)
    assert not avatar.is_upload_key(upload, owner_id=OWNER, job_id=other)
    assert not avatar.is_upload_key(f"exports/{OWNER}/{JOB}.zip", owner_id=OWNER, job_id=JOB)
    with pytest.raises(ValueError, match="size"):
        avatar.size_key(owner_id=OWNER, version=JOB, size=1000)
