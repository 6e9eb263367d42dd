"""Pictures redrawn from their pixels alone, turned the way they were seen.

A photo can carry the sender's GPS position, the serial number of their phone, a
thumbnail of what the picture showed before it was cropped, and the camera maker's own
notes. None of that is copied: a fresh image is made from the decoded pixels, with only
the orientation applied, and encoded anew. HEIC (an iPhone's default) and TIFF are
redrawn as JPEG and PNG, which a browser shows.
"""

from __future__ import annotations

import io
import logging
import struct
import warnings
from typing import Any

from ivr.outside.metadata.outcome import CannotClean, Cleaned, add

# The kinds of picture an online report may carry, by media type, with Pillow's names.
IMAGES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/tiff": "TIFF",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}
# What a kind no browser shows becomes: a photo stays a photo (JPEG); a TIFF is often a
# scan, kept lossless (PNG).
SHOWN_AS = {"HEIF": ("JPEG", "image/jpeg"), "TIFF": ("PNG", "image/png")}
PNG_MODES = {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"}

# The largest picture cleaned. A 50-megapixel phone photo (8160 x 6144, the most a phone
# camera saves unless set to a special mode) fits; decoded at up to 4 bytes a pixel, it and
# its fresh copy need about 400 MB, within the sandbox's memory. Anything larger is refused
# from its header, before a pixel is decoded.
MAX_PIXELS = 8192 * 6144

# EXIF and TIFF tags worth naming to a handler; others are "other camera data".
EXIF_NAMES = {
    0x8825: "GPS position",
    0x010F: "camera make",
    0x0110: "camera model",
    0xA431: "camera serial number",
    0xA435: "lens serial number",
    0xA430: "camera owner's name",
    0x0131: "software",
    0x013B: "artist",
    0x013C: "computer name",
    0x8298: "copyright",
    0x0132: "date and time",
    0x9003: "date and time taken",
    0x9004: "date and time digitised",
    0x010E: "image description",
    0xA420: "unique image id",
    0x9C9B: "title",
    0x9C9D: "author",
    0x9286: "user comment",
    0x927C: "maker notes",
    0x02BC: "XMP metadata",
    0x83BB: "IPTC captions",
    0x8649: "Photoshop data",
    0x8773: "colour profile",
}
# How a picture is laid out, not what it says about anyone: not worth naming.
STRUCTURE = {
    *range(0x0100, 0x0104), 0x0106, 0x0111, 0x0112, *range(0x0115, 0x0118), 0x011A,
    0x011B, 0x011C, 0x0128, 0x013D, 0x0140, *range(0x0142, 0x0146), 0x0152, 0x0153,
    0x0201, 0x0202, *range(0x0211, 0x0214), 0x8769, 0xA005,
}  # fmt: skip
INFO_NAMES = (
    ("xmp", "XMP metadata"),
    ("XML:com.adobe.xmp", "XMP metadata"),
    ("icc_profile", "colour profile"),
    ("comment", "comment"),
    ("photoshop", "Photoshop data"),
    ("thumbnails", "thumbnail"),
    ("depth_images", "depth map"),
    ("mp", "other pictures inside it"),
)


def too_many_pixels(data: bytes) -> bool:
    """Say whether a picture's header names more pixels than cleaning allows (reads no pixel)."""
    if data[4:8] == b"ftyp":
        return heif_pixels(data) > MAX_PIXELS
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # Pillow's own bomb warning would only say what this function answers.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # Only the decoders for the kinds the form takes: the edge faces the internet,
            # and each other plugin would be more code reading a stranger's bytes.
            kinds = [kind for kind in dict.fromkeys(IMAGES.values()) if kind != "HEIF"]
            with Image.open(io.BytesIO(data), formats=kinds) as opened:
                width, height = opened.size
    except Image.DecompressionBombError:
        return True
    except Exception:  # unreadable here: the console's cleaner decides, and says why
        return False
    return width * height > MAX_PIXELS


def heif_pixels(data: bytes) -> int:
    """The most pixels any image in a HEIF file claims, read from its boxes alone.

    The web process reads these few boxes itself rather than hand a stranger's file to
    libheif: the picture's size is in the image spatial extents ("ispe") properties.
    """
    largest, waiting = 0, [(0, len(data))]
    while waiting:
        start, end = waiting.pop()
        position = start
        while position + 8 <= end:
            size, kind = struct.unpack(">I4s", data[position : position + 8])
            header = 8
            if size == 1 and position + 16 <= end:
                size, header = struct.unpack(">Q", data[position + 8 : position + 16])[0], 16
            elif size == 0:
                size = end - position
            if size < header or position + size > end:
                break
            body = position + header
            if kind == b"meta":
                waiting.append((body + 4, position + size))  # a full box: version, flags
            elif kind in (b"iprp", b"ipco"):
                waiting.append((body, position + size))
            elif kind == b"ispe" and body + 12 <= end:
                width, height = struct.unpack(">II", data[body + 4 : body + 12])
                largest = max(largest, width * height)
            position += size
    return largest


def clean_image(data: bytes, media_type: str) -> Cleaned:
    """Redraw a picture from its pixels; say what it carried besides."""
    from PIL import Image, ImageOps

    # Pillow logs every EXIF tag it reads or writes, values and all, at DEBUG: a GPS
    # position or a serial number must never reach a log.
    logging.getLogger("PIL").setLevel(logging.WARNING)
    kind = IMAGES[media_type]
    if kind == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    with Image.open(io.BytesIO(data), formats=[kind]) as opened:
        width, height = opened.size  # from the header: nothing is decoded yet
        if width * height > MAX_PIXELS:
            raise CannotClean(
                f"the picture is {width:,} x {height:,} pixels ({width * height / 1e6:,.0f} "
                f"megapixels), more than the {MAX_PIXELS / 1e6:.0f} that can be cleaned safely"
            )
        opened.load()
        removed = _carried(opened)
        # Keep the picture the way it was seen; in place, so as not to hold a third copy.
        # (pillow-heif has turned a HEIC already and dropped its orientation tag.)
        ImageOps.exif_transpose(opened, in_place=True)
        fresh = _from_pixels(opened)
    target, shown_as = SHOWN_AS.get(kind, (kind, media_type))
    out = io.BytesIO()
    if target == "JPEG" and fresh.mode not in ("RGB", "L"):
        fresh = fresh.convert("RGB")
    if target == "PNG" and fresh.mode not in PNG_MODES:
        fresh = fresh.convert("RGBA" if "A" in fresh.getbands() else "RGB")
    fresh.save(out, format=target, **({"quality": 95} if target == "JPEG" else {}))
    return Cleaned(out.getvalue(), removed, shown_as)


def _from_pixels(opened: Any) -> Any:
    """A fresh image of the pixels alone: nothing of the original's headers survives."""
    from PIL import Image

    mode = opened.mode
    if mode not in PNG_MODES | {"CMYK", "YCbCr", "I", "F"}:
        opened, mode = opened.convert("RGB"), "RGB"  # a TIFF's rarer modes
    fresh = Image.new(mode, opened.size)
    fresh.paste(opened)
    palette = opened.getpalette()
    if palette and mode == "P":
        fresh.putpalette(palette)
    if mode in ("CMYK", "YCbCr", "I", "F"):
        fresh = fresh.convert("RGB" if mode in ("CMYK", "YCbCr") else "I;16")
    return fresh


def _carried(opened: Any) -> list[str]:
    """The kinds of detail a picture carries besides its pixels, the most telling first."""
    exif = opened.getexif()
    removed: list[str] = []
    if exif.get_ifd(0x8825) or 0x8825 in exif:
        removed.append("GPS position")
    for tag in sorted({*exif, *exif.get_ifd(0x8769)} - STRUCTURE):
        add(removed, EXIF_NAMES.get(tag, "other camera data"))
    if exif.get_ifd(-1):  # IFD1: the thumbnail a camera stores beside the photo
        add(removed, "thumbnail")
    for key, name in INFO_NAMES:
        if opened.info.get(key):
            add(removed, name)
    if getattr(opened, "text", None):
        add(removed, "text notes")
    return removed
