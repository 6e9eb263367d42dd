"""Strip identifying metadata from an online report's attachments, in memory.

A photo can carry the sender's GPS position and the serial number of their phone; a PDF
its author and the software that made it; an audio file its artist, device and dates.
The console strips these after decrypting an attachment and before any handler sees it.

Chosen over ``mat2`` (a subprocess that needs the file on disk): the libraries here
(Pillow for images, pikepdf for PDF, mutagen and the ``wave`` module for audio) work on
bytes in memory, so a decrypted file never touches a disk, not even a private temp dir.
What was removed is reported by kind ("GPS position"), never by value.
"""

from __future__ import annotations

import io
import logging
import struct
import wave
from dataclasses import dataclass
from typing import Protocol

# The kinds of file an online report may carry, by the media type recognised in them.
IMAGES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
AUDIO = {"audio/wav", "audio/mpeg", "audio/ogg", "audio/mp4"}
TYPES = {*IMAGES, "application/pdf", "text/plain", *AUDIO}

# EXIF tags worth naming to a handler; any other tag is counted under "other camera data".
EXIF_NAMES = {
    0x8825: "GPS position",
    0x010F: "camera make",
    0x0110: "camera model",
    0xA431: "camera serial number",
    0xA435: "lens serial number",
    0x0131: "software",
    0x013B: "artist",
    0x8298: "copyright",
    0x0132: "date and time",
    0x9003: "date and time taken",
    0x010E: "image description",
    0xA420: "unique image id",
    0x9C9B: "title",
    0x9C9D: "author",
    0x9286: "user comment",
    0x927C: "maker notes",
}


class CannotClean(ValueError):
    """The file could not be read, so it could not be cleaned: it is not shown."""


@dataclass(frozen=True)
class Cleaned:
    data: bytes
    removed: list[str]  # kinds of metadata removed, e.g. "GPS position"


class MetadataStripper(Protocol):
    def strip(self, data: bytes, media_type: str) -> Cleaned:
        """Return ``data`` without identifying metadata, and what was removed."""


class LibraryStripper:
    """Pillow, pikepdf, mutagen and ``wave``, all in memory."""

    def __init__(self) -> None:
        # Pillow logs every EXIF tag it reads or writes, values and all, at DEBUG: a GPS
        # position or a serial number must never reach a log.
        logging.getLogger("PIL").setLevel(logging.WARNING)

    def strip(self, data: bytes, media_type: str) -> Cleaned:
        try:
            if media_type in IMAGES:
                return _image(data, IMAGES[media_type])
            if media_type == "application/pdf":
                return _pdf(data)
            if media_type == "audio/wav":
                return _wav(data)
            if media_type in AUDIO:
                return _tagged_audio(data)
            if media_type == "text/plain":
                data.decode("utf-8")
                return Cleaned(data, [])
        except CannotClean:
            raise
        except Exception as error:  # every library's own error: the file is unreadable
            raise CannotClean(f"the file could not be read ({type(error).__name__})") from None
        raise CannotClean(f"no cleaner for {media_type}")


def _image(data: bytes, kind: str) -> Cleaned:
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as opened:
        opened.load()
        exif = opened.getexif()
        removed = []
        for tag in sorted({*exif, *exif.get_ifd(0x8769)}):
            name = EXIF_NAMES.get(tag, "other camera data")
            if name not in removed:
                removed.append(name)
        if "GPS position" in removed:
            removed.remove("GPS position")
        if exif.get_ifd(0x8825) or 0x8825 in exif:
            removed.insert(0, "GPS position")  # the most telling, named first
        for key, name in (
            ("xmp", "XMP metadata"),
            ("XML:com.adobe.xmp", "XMP metadata"),
            ("icc_profile", "colour profile"),
            ("comment", "comment"),
            ("photoshop", "Photoshop data"),
        ):
            if key in opened.info and name not in removed:
                removed.append(name)
        if getattr(opened, "text", None):
            removed.append("text notes")
        upright = ImageOps.exif_transpose(opened)  # keep the picture the way it was seen
        # A fresh image from the pixels alone: nothing of the original's headers survives.
        fresh = Image.frombytes(upright.mode, upright.size, upright.tobytes())
        palette = upright.getpalette()
        if palette and upright.mode == "P":
            fresh.putpalette(palette)
    out = io.BytesIO()
    if kind == "JPEG" and fresh.mode not in ("RGB", "L"):
        fresh = fresh.convert("RGB")
    fresh.save(out, format=kind, **({"quality": 95} if kind == "JPEG" else {}))
    return Cleaned(out.getvalue(), removed)


def _pdf(data: bytes) -> Cleaned:
    import pikepdf

    removed: list[str] = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for key in list(pdf.docinfo.keys()):
            removed.append(f"document {str(key).lstrip('/').lower()}")
        if "/Info" in pdf.trailer:
            del pdf.trailer["/Info"]
        if "/Metadata" in pdf.Root:
            del pdf.Root["/Metadata"]
            removed.append("XMP metadata")
        for page in pdf.pages:
            for key in ("/Metadata", "/PieceInfo"):
                if key in page.obj:
                    del page.obj[key]
                    if "page metadata" not in removed:
                        removed.append("page metadata")
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
    return Cleaned(out.getvalue(), removed)


def _wav(data: bytes) -> Cleaned:
    removed = []
    position = 12
    while position + 8 <= len(data):
        chunk_id, size = struct.unpack("<4sI", data[position : position + 8])
        if chunk_id not in (b"fmt ", b"data"):
            removed.append(f"{chunk_id.decode('latin-1').strip()} information")
        position += 8 + size + (size & 1)
    with wave.open(io.BytesIO(data)) as source:
        params = source.getparams()
        frames = source.readframes(params.nframes)
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setparams(params)
        target.writeframes(frames)
    return Cleaned(out.getvalue(), removed)


def _tagged_audio(data: bytes) -> Cleaned:
    import mutagen

    buffer = io.BytesIO(data)
    found = mutagen.File(buffer)
    if found is None:
        raise CannotClean("the audio file could not be read")
    removed = sorted({str(key).split(":")[0] for key in (found.tags or {})})
    if found.tags is not None:
        buffer.seek(0)
        found.delete(buffer)
    return Cleaned(buffer.getvalue(), [f"tag {name}" for name in removed])
