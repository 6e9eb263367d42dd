"""What exiftool, the reference reader of metadata, finds in a file: the findings that matter.

exiftool reads from a pipe here (``-``), so no file is written. A finding is a tag whose
name says it could point at a person, a place, a device or a moment; a tag in a group
that a fresh JPEG, PNG, PDF or sound file has no reason to hold (a maker's notes appear
as a group of the maker's name) is a finding too.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess

import pikepdf
import pytest

from tests.conftest import IN_CI

TELLING = re.compile(
    r"GPS|Serial|MakerNote|Owner|Author|Artist|Creator|Comment|Date|Time(?!Scale)|Thumbnail|"
    r"Preview|Make$|Model|Software|Encoder|Copyright|Title|Description|Location|Producer",
    re.IGNORECASE,
)
# Groups about exiftool itself and the pipe it read, and the groups of a fresh file's own
# structure (its kind, size, codec).
PLAIN_GROUPS = {"ExifTool", "System", "File", "Composite", "JFIF", "PNG", "PDF", "MPEG"}
PLAIN_GROUPS |= {"Opus", "Vorbis", "QuickTime", "Track1", "RIFF"}
# A date box an MP4 file must have, holding zero: no moment at all; so too the empty and
# the false. "SoundHandler" is the name FFmpeg gives every MP4 sound track, not a device's.
EMPTY = {"", "0000:00:00 00:00:00", "0 s", "0", "False", "SoundHandler"}


def require_exiftool() -> str:
    """The exiftool command; outside CI its absence skips, under CI=true it fails."""
    found = shutil.which("exiftool")
    if found:
        return found
    message = "exiftool is missing (Debian: libimage-exiftool-perl)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def findings(data: bytes) -> list[str]:
    """The telling tags exiftool finds in ``data``, as "Group:Tag"."""
    read = subprocess.run(
        [require_exiftool(), "-j", "-a", "-G1", "-"],
        input=data,
        capture_output=True,
        check=True,
        timeout=60,
    )
    (tags,) = json.loads(read.stdout)
    found = []
    for key, value in tags.items():
        group, _, name = key.rpartition(":")
        if group in ("", "ExifTool", "System", "File"):
            continue  # exiftool itself, and the pipe it read
        if str(value).strip() in EMPTY:
            continue
        if group not in PLAIN_GROUPS or TELLING.search(name):
            found.append(key)
    return found


def embedded_images(data: bytes) -> list[bytes]:
    """Every image inside a PDF, as the bytes it is stored as (a JPEG keeps its EXIF)."""
    images = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for found in pdf.objects:
            if isinstance(found, pikepdf.Stream) and found.get("/Subtype") == "/Image":
                images.append(found.read_raw_bytes())
    return images


def findings_in(data: bytes, media_type: str) -> list[str]:
    """The findings in a file and, for a PDF, in every image inside it."""
    found = findings(data)
    if media_type == "application/pdf":
        for number, image in enumerate(embedded_images(data), start=1):
            found += [f"image {number}: {key}" for key in findings(image)]
    return found
