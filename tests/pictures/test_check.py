"""What a picture upload may be: pictures.check, the rules the site and the worker share."""

import io

import pytest
from PIL import Image

from pictures import check
from pictures.check import PictureRejectedError, check_picture
from tests.pictures import samples

pytestmark = pytest.mark.no_dynamodb


@pytest.mark.parametrize(("fmt", "extension"), [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_png_jpeg_and_webp_pass_with_what_they_are(fmt, extension):
    info = check_picture(samples.picture(fmt, (320, 240)))

    assert (info.format, info.width, info.height, info.extension) == (fmt, 320, 240, extension)
    assert info.content_type == f"image/{fmt.lower()}"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", check.EMPTY),
        (samples.oversized(), check.TOO_LARGE),
        (samples.text_named_png(), check.NOT_A_PICTURE),
        (samples.gif(), check.NOT_A_PICTURE),
        (samples.picture("BMP"), check.NOT_A_PICTURE),
        (samples.picture("TIFF"), check.NOT_A_PICTURE),
        (samples.truncated_png(), check.DAMAGED),
        (samples.truncated_jpeg(), check.DAMAGED),
        (samples.bomb_png(), check.TOO_MANY_PIXELS),
        # Over our limit but under Pillow's own (89 megapixels): only our check catches it.
        (samples.bomb_png(6000, 6000), check.TOO_MANY_PIXELS),
    ],
    ids=[
        "empty",
        "oversized",
        "text",
        "gif",
        "bmp",
        "tiff",
        "truncated-png",
        "truncated-jpeg",
        "bomb",
        "36-megapixels",
    ],
)
def test_what_is_refused_and_why(data, message):
    with pytest.raises(PictureRejectedError) as refused:
        check_picture(data)

    assert str(refused.value) == message


def test_a_picture_at_the_pixel_limit_passes():
    # 5000 x 5000 is exactly the limit; a greyscale PNG of it compresses to almost nothing.
    out = io.BytesIO()
    Image.new("L", (5000, 5000)).save(out, "PNG")

    assert check_picture(out.getvalue()).width == 5000


def test_a_png_damaged_after_its_pixels_is_damaged():
    # Decoding stops after the pixels; verify() checks every chunk up to IEND.
    data = samples.picture("PNG", (50, 50))
    cut_before_its_end = data[:-12]  # no IEND chunk

    with pytest.raises(PictureRejectedError, match="damaged"):
        check_picture(cut_before_its_end)
