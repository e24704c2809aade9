"""Pictures made at test time with Pillow: good ones, and each kind of bad one."""

import io
import struct
import zlib

from PIL import Image

from pictures.check import MAX_BYTES

# EXIF tags: Orientation, GPSInfo; GPS: latitude ref, latitude, longitude ref, longitude.
ORIENTATION = 0x0112
GPS_IFD = 0x8825


def picture(fmt: str = "PNG", size: tuple[int, int] = (300, 200), color="teal", **save) -> bytes:
    """Return a picture of ``size`` in ``fmt`` (a Pillow format name)."""
    mode = "RGBA" if fmt in ("PNG", "WEBP") else "RGB"
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_gps(size: tuple[int, int] = (300, 200), orientation: int = 1) -> bytes:
    """Return a JPEG whose EXIF holds GPS coordinates, a camera model and an orientation."""
    image = Image.new("RGB", size, "orange")
    # The left half dark: after rotation the dark half says which way the picture turned.
    image.paste((20, 20, 20), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x0110] = "Secret Camera 3000"
    exif[GPS_IFD] = {1: "N", 2: (52.0, 22.0, 1.0), 3: "E", 4: (4.0, 53.0, 2.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"shot at home")
    return out.getvalue()


def text_named_png() -> bytes:
    return b"This is a text file, not a picture, whatever its name says.\n" * 20


def truncated_png() -> bytes:
    """Return a PNG cut off in its pixel data (its header says more is coming)."""
    out = io.BytesIO()
    noise = Image.effect_noise((400, 400), 80).convert("RGB")
    noise.save(out, "PNG")
    data = out.getvalue()
    return data[: len(data) * 2 // 3]


def truncated_jpeg() -> bytes:
    """Return a JPEG cut off in its scan data: ``verify()`` passes it, ``load()`` does not."""
    out = io.BytesIO()
    Image.effect_noise((400, 400), 80).convert("RGB").save(out, "JPEG", quality=90)
    data = out.getvalue()
    return data[: len(data) // 2]


def bomb_png(width: int = 30_000, height: int = 30_000) -> bytes:
    """Return a small PNG that declares ``width`` x ``height`` pixels (a decompression bomb).

    Its IHDR is written by hand and its one IDAT holds a few compressed rows: the
    file is tiny, and only the declared size gives it away.
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" * (width + 1) * 4)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def gif() -> bytes:
    return picture("GIF", color="red")


def oversized(extra: int = 1) -> bytes:
    """Return a PNG-looking file ``extra`` bytes over the size limit."""
    head = picture("PNG", (10, 10))
    return head + b"\x00" * (MAX_BYTES + extra - len(head))
