"""Play an encrypted recording to an authorised handler: decrypt on the fly, by range.

The vault (``ivr.crypto.vault``) decrypts only the chunks that hold the range asked for,
so seeking in an hour-long recording decrypts 64 KiB, not the hour. Nothing decrypted
touches a disk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ivr.crypto import vault

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(ValueError):
    pass


@dataclass(frozen=True)
class Playable:
    size: int  # of the decrypted audio
    start: int
    end: int  # inclusive
    partial: bool
    body: Iterator[bytes]


def parse_range(header: str | None, size: int) -> tuple[int, int, bool]:
    """Return (start, end inclusive, partial) for a Range header; single ranges only."""
    if not header:
        return 0, size - 1, False
    match = RANGE.match(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        raise RangeNotSatisfiable(header)
    first, last = match.group(1), match.group(2)
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    else:  # a suffix: the last N bytes
        start, end = max(0, size - int(last)), size - 1
    if start >= size or start > end:
        raise RangeNotSatisfiable(header)
    return start, end, True


def open_range(opened: vault.Opened, range_header: str | None) -> Playable:
    """Return the part of an opened recording that ``range_header`` asks for."""
    size = opened.size
    start, end, partial = parse_range(range_header, size)
    return Playable(size, start, end, partial, opened.read(start, end + 1))
