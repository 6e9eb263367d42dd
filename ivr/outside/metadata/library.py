"""Strip identifying metadata from an online report's attachments, in memory.

A photo can carry the sender's GPS position and the serial number of their phone; a PDF
its author and the software that made it; an audio file its artist, device and dates.
The console strips these after decrypting an attachment and before any handler sees it.

Chosen over ``mat2`` (a subprocess that needs the file on disk): the libraries here
(Pillow for images, pikepdf for PDF, mutagen and the ``wave`` module for audio) work on
bytes in memory, so a decrypted file never touches a disk, not even a private temp dir.
What was removed is reported by kind ("GPS position"), never by value.

A file larger than cleaning allows (a picture's pixels, a PDF's pages or objects) is
refused from its header, before it is decoded. This module is also what the sandbox
(``ivr.outside.metadata.sandbox``) runs as a child process, so it imports nothing of ``ivr``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import resource
import struct
import sys
import warnings
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

# The kinds of file an online report may carry, by the media type recognised in them.
IMAGES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
AUDIO = {"audio/wav", "audio/mpeg", "audio/ogg", "audio/mp4"}
TYPES = {*IMAGES, "application/pdf", "text/plain", *AUDIO}

# The largest picture cleaned. A 50-megapixel phone photo (8160 x 6144, the most a phone
# camera saves unless set to a special mode) fits; decoded at up to 4 bytes a pixel, it and
# its fresh copy need about 400 MB, within the sandbox's memory. Anything larger is refused
# from its header, before a pixel is decoded.
MAX_PIXELS = 8192 * 6144
# A statement or a scanned bundle has tens of pages and a handful of objects a page; these
# bounds are far above that and far below what would exhaust the sandbox's memory.
MAX_PAGES = 500
MAX_OBJECTS = 100_000
NEEDS_MORE_MEMORY = "cleaning it needed more memory than is allowed"

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
        except MemoryError:
            raise CannotClean(NEEDS_MORE_MEMORY) from None
        except Exception as error:  # every library's own error: the file is unreadable
            raise CannotClean(f"the file could not be read ({type(error).__name__})") from None
        raise CannotClean(f"no cleaner for {media_type}")


def too_many_pixels(data: bytes) -> bool:
    """Say whether a picture's header names more pixels than cleaning allows (reads no pixel)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # Pillow's own bomb warning would only say what this function answers.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # Only the decoders for the kinds the form takes: the edge faces the internet,
            # and each other plugin would be more code reading a stranger's bytes.
            with Image.open(io.BytesIO(data), formats=list(IMAGES.values())) as opened:
                width, height = opened.size
    except Image.DecompressionBombError:
        return True
    except Exception:  # unreadable here: the console's cleaner decides, and says why
        return False
    return width * height > MAX_PIXELS


def _image(data: bytes, kind: str) -> Cleaned:
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as opened:
        width, height = opened.size  # from the header: nothing is decoded yet
        if width * height > MAX_PIXELS:
            raise CannotClean(
                f"the picture is {width:,} x {height:,} pixels ({width * height / 1e6:,.0f} "
                f"megapixels), more than the {MAX_PIXELS / 1e6:.0f} that can be cleaned safely"
            )
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
        # Keep the picture the way it was seen; in place, so as not to hold a third copy.
        ImageOps.exif_transpose(opened, in_place=True)
        # A fresh image from the pixels alone: nothing of the original's headers survives.
        fresh = Image.new(opened.mode, opened.size)
        fresh.paste(opened)
        palette = opened.getpalette()
        if palette and opened.mode == "P":
            fresh.putpalette(palette)
    out = io.BytesIO()
    if kind == "JPEG" and fresh.mode not in ("RGB", "L"):
        fresh = fresh.convert("RGB")
    fresh.save(out, format=kind, **({"quality": 95} if kind == "JPEG" else {}))
    return Cleaned(out.getvalue(), removed)


def _pdf(data: bytes) -> Cleaned:
    import pikepdf

    removed: list[str] = []
    # Pushing inherited attributes down walks every page at opening, before any bound is
    # checked: a page tree naming one page two million times took gigabytes there.
    with pikepdf.open(io.BytesIO(data), inherit_page_attributes=False) as pdf:
        _within_bounds(pdf)
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


def _within_bounds(pdf: Any) -> None:
    """Refuse a PDF with more objects or pages than cleaning allows, before reading them."""
    objects = len(pdf.get_xref_table())
    if objects > MAX_OBJECTS:
        raise CannotClean(
            f"the PDF has {objects:,} objects, more than the {MAX_OBJECTS:,} "
            "that can be cleaned safely"
        )
    too_many = f"the PDF has more than {MAX_PAGES} pages, the most that can be cleaned safely"
    pages, seen, waiting = 0, set(), [pdf.Root.Pages]
    while waiting:
        node = waiting.pop()
        if "/Kids" not in node:
            pages += 1
            if pages > MAX_PAGES:
                raise CannotClean(too_many)
            continue
        if node.is_indirect:
            if node.objgen in seen:  # a page tree shares no node: this one loops or repeats
                raise CannotClean("the PDF's list of pages goes round in a circle")
            seen.add(node.objgen)
        if len(node.Kids) > MAX_PAGES:
            raise CannotClean(too_many)
        waiting.extend(node.Kids)


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


def _clean_one_from_stdin() -> None:
    """Clean the file on stdin within the limits in argv; write the outcome to stdout."""
    media_type, memory, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
    # No core dump (it would hold the decrypted file) and no file written at all.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    with contextlib.suppress(OSError):  # if the task runs short, the kernel kills this first
        Path("/proc/self/oom_score_adj").write_text("1000")
    data = sys.stdin.buffer.read()
    try:
        cleaned = LibraryStripper().strip(data, media_type)
    except CannotClean as error:
        header: dict[str, object] = {"refused": str(error)}
        body = b""
    else:
        header, body = {"removed": cleaned.removed}, cleaned.data
    encoded = json.dumps(header).encode()
    out = sys.stdout.buffer
    out.write(len(encoded).to_bytes(4, "big"))
    out.write(encoded)
    out.write(body)
    out.flush()


if __name__ == "__main__":
    _clean_one_from_stdin()
