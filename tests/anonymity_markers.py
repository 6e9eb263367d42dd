"""Planted markers, the files that carry them, and one search of every store for them.

The anonymity tests plant a value where a sender or caller might leave it (their words,
a photo's EXIF, a request header, a keyed PIN), then ask :func:`search` where it is. The
search returns each place it found one, so a test asserts the list is empty, and a test
that plants a leak on purpose asserts the search names it.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import select

from ivr.platform.db import Base, Database

# What a sender writes: expected only sealed in the store, and in the console's own text
# columns once a handler takes the report.
WHAT = "MARKER-WHAT-Kq7vZ took cash"
WHO = "MARKER-WHO-Rt3mX"
WHERE = "MARKER-WHERE-Jw8pL"
WHEN = "MARKER-WHEN-Hd2nB"
CONTACT = "MARKER-CONTACT-Ys5cF"
NOTE = "MARKER-NOTE-Pb9gT"  # the text of an attached .txt file
WORDS = [WHAT, WHO, WHERE, WHEN, CONTACT, NOTE]
# The columns a handler's taking of a report fills from the sealed parts
# (``ivr.reports.online.fill_from_answers``): the console reads and edits them.
CONSOLE_TEXT = {
    "reports": {"transcript", "people", "when_text", "where_text", "contact_transcript"}
}

# What the request says about the sender's machine: to be found nowhere at all.
ADDRESS_V4 = "203.0.113.77"  # TEST-NET-3; phone-shaped, so a log would mask it anyway
ADDRESS_V6 = "2001:db8::beef:cafe"  # documentation range, and not phone-shaped
FORWARDED_V4 = "198.51.100.23"
USER_AGENT = "MarkerBrowser/7.3 (MARKER-UA-Vn4sQ)"
REFERER = "https://marker-referer-Gx6w.example/leak?MARKER-REF-Zc1"
ORIGIN = "https://marker-origin-Fa2t.example"
REQUEST = [
    ADDRESS_V4,
    ADDRESS_V6,
    FORWARDED_V4,
    "MARKER-UA-Vn4sQ",
    "marker-referer-Gx6w",
    "MARKER-REF-Zc1",
    "marker-origin-Fa2t",
]
HEADERS = {
    "X-Forwarded-For": f"{FORWARDED_V4}, {ADDRESS_V4}",
    "X-Real-IP": ADDRESS_V4,
    "Forwarded": f'for="[{ADDRESS_V6}]";proto=https',
    "User-Agent": USER_AGENT,
    "Referer": REFERER,
    "Origin": ORIGIN,
}
ENVIRON = {"REMOTE_ADDR": ADDRESS_V6, "HTTP_USER_AGENT": USER_AGENT}

# What a file says about who made it: to be found nowhere, not even in a cleaned copy.
JPEG_MAKE = "MARKER-MAKE-Lu4e"
JPEG_MODEL = "MARKER-MODEL-Wo3r"
JPEG_ARTIST = "MARKER-ARTIST-Ni8k"
JPEG_SERIAL = "MARKER-SERIAL-Tz5y"
JPEG_COMMENT = "MARKER-COMMENT-Ba7h"
PNG_AUTHOR = "MARKER-PNGAUTHOR-Qe2d"
PDF_AUTHOR = "MARKER-PDFAUTHOR-Vc6m"
PDF_XMP = "MARKER-PDFXMP-Sf1j"
OGG_ARTIST = "MARKER-OGGARTIST-Hy9p"
FILE_NAME = "MARKER-FILENAME-Xk3q"  # an attached file's own name, which could be the sender's
METADATA = [
    FILE_NAME,
    JPEG_MAKE,
    JPEG_MODEL,
    JPEG_ARTIST,
    JPEG_SERIAL,
    JPEG_COMMENT,
    PNG_AUTHOR,
    PDF_AUTHOR,
    PDF_XMP,
]
# The GPS position planted, in degrees, minutes and seconds.
GPS = {1: "N", 2: (53.0, 47.0, 59.0), 3: "W", 4: (1.0, 32.0, 47.0)}


def jpeg() -> bytes:
    """A JPEG whose EXIF names a camera, its serial, an artist and a GPS position."""
    image = Image.new("RGB", (64, 48), (30, 120, 200))
    exif = image.getexif()
    exif[0x010F] = JPEG_MAKE
    exif[0x0110] = JPEG_MODEL
    exif[0x013B] = JPEG_ARTIST
    exif.get_ifd(0x8769)[0xA431] = JPEG_SERIAL
    exif.get_ifd(0x8825).update(GPS)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=JPEG_COMMENT)
    return out.getvalue()


def png() -> bytes:
    """A PNG whose text chunks name its author."""
    info = PngInfo()
    info.add_text("Author", PNG_AUTHOR)
    info.add_itxt("Description", f"taken by {PNG_AUTHOR}")
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def pdf() -> bytes:
    """A one-page PDF naming its author, in its document information and its XMP."""
    document = pikepdf.new()
    document.add_blank_page()
    document.docinfo["/Author"] = PDF_AUTHOR
    with document.open_metadata() as meta:
        meta["dc:creator"] = [PDF_XMP]
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def ogg() -> bytes:
    """A minimal Ogg Opus file whose comment names its artist (built with mutagen's pages)."""
    from mutagen.ogg import OggPage

    head = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", 312, 48000, 0, 0)
    vendor, comment = b"marker", f"ARTIST={OGG_ARTIST}".encode()
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 1)
    tags += struct.pack("<I", len(comment)) + comment
    pages = []
    for sequence, (packet, position) in enumerate([(head, 0), (tags, 0), (b"\xf8\xff\xfe", 960)]):
        page = OggPage()  # type: ignore[no-untyped-call]  # mutagen's pages are untyped
        page.serial, page.sequence, page.position = 7, sequence, position
        page.first, page.last = sequence == 0, sequence == 2
        page.packets = [packet]
        pages.append(page.write())  # type: ignore[no-untyped-call]
    return b"".join(pages)


def dump_rows(db: Database) -> Iterator[tuple[str, str, object]]:
    """Every value of every row of every table, as (table, column, value)."""
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for column, value in row._mapping.items():
                    yield table.name, str(column), value


def _holds(value: object, trace: str) -> bool:
    if isinstance(value, bytes | bytearray | memoryview):
        return trace.encode() in bytes(value)
    return value is not None and trace in str(value)


@dataclass
class FileWrites:
    """The files this process opens for writing while recording, and what removed ones held.

    An audit hook (``sys.addaudithook``, which cannot be removed, so it is installed once
    and does nothing while no recorder is active) sees every ``open`` and ``os.remove``:
    a temporary file deleted before the search is read just before it goes.
    """

    paths: set[Path] = field(default_factory=set)
    removed: dict[Path, bytes] = field(default_factory=dict)
    _busy: threading.local = field(default_factory=threading.local)

    def contents(self) -> Iterator[tuple[Path, bytes]]:
        for path in sorted(self.paths - set(self.removed)):
            if path.is_file():
                yield path, path.read_bytes()
        yield from self.removed.items()

    def _seen(self, event: str, args: tuple[object, ...]) -> None:
        if getattr(self._busy, "on", False) or not args:
            return
        target = args[0]
        if not isinstance(target, str | bytes | os.PathLike):
            return  # a file descriptor: opened (and so recorded) by its path before
        path = Path(os.fsdecode(target)).absolute()
        if "__pycache__" in path.parts:
            return  # the interpreter's own bytecode
        if event == "open" and _writes(args):
            self.paths.add(path)
        elif event == "os.remove" and path in self.paths and path.is_file():
            self._busy.on = True
            try:
                self.removed[path] = path.read_bytes()
            finally:
                self._busy.on = False


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_recording: list[FileWrites] = []
_hooked: list[bool] = []  # the hook, once installed, stays for the process


def _writes(args: tuple[object, ...]) -> bool:
    mode, flags = (*args[1:3], None, None)[:2]
    if isinstance(mode, str) and any(letter in mode for letter in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def _hook(event: str, args: tuple[object, ...]) -> None:
    if _recording and event in ("open", "os.remove"):
        _recording[-1]._seen(event, args)


@contextmanager
def writes_recorded() -> Iterator[FileWrites]:
    """Record the files written (and removed) until the block ends."""
    if not _hooked:
        sys.addaudithook(_hook)
        _hooked.append(True)
    writes = FileWrites()
    _recording.append(writes)
    try:
        yield writes
    finally:
        _recording.remove(writes)


@dataclass(frozen=True)
class Stores:
    """Everything a test searches: the database, the logs, the metrics, files and outputs."""

    db: Database
    logged: str
    metrics: str
    folders: tuple[Path, ...] = ()
    written: FileWrites | None = None
    # Other outputs searched whole, by name: a console page, a served attachment.
    outputs: Mapping[str, bytes] = field(default_factory=dict)


def search(
    traces: Iterable[str],
    stores: Stores,
    *,
    allowed_columns: Mapping[str, set[str]] | None = None,
    skip_files: Iterable[Path] = (),
) -> list[str]:
    """Every place a trace was found, as "where: trace"; empty when none was.

    ``allowed_columns`` names the table columns where the traces may be (the console's
    own text); ``skip_files`` files not searched as bytes (the SQLite file, whose rows are
    searched column by column instead).
    """
    traces = list(traces)
    allowed = allowed_columns or {}
    found: list[str] = []
    for table, column, value in dump_rows(stores.db):
        if column in allowed.get(table, set()):
            continue
        found += [f"database {table}.{column}: {t}" for t in traces if _holds(value, t)]
    found += [f"log: {t}" for t in traces if t in stores.logged]
    found += [f"metrics: {t}" for t in traces if t in stores.metrics]
    skipped = {path.absolute() for path in skip_files}
    for path, content in _files(stores):
        # The SQLite file and its journals ("ivr.sqlite3-wal"), searched as rows instead.
        if not any(path.parent == s.parent and path.name.startswith(s.name) for s in skipped):
            found += [f"file {path}: {t}" for t in traces if t.encode() in content]
    for name, content in stores.outputs.items():
        found += [f"{name}: {t}" for t in traces if t.encode() in content]
    return sorted(set(found))


def _files(stores: Stores) -> Iterator[tuple[Path, bytes]]:
    seen: set[Path] = set()
    for folder in stores.folders:
        for path in folder.rglob("*"):
            if path.is_file():
                seen.add(path.absolute())
                yield path.absolute(), path.read_bytes()
    if stores.written is not None:
        for path, content in stores.written.contents():
            if path not in seen or path in stores.written.removed:
                yield path, content
