"""Play an encrypted recording to an authorised handler: decrypt on the fly, by range.

Chunks are fixed-size, so a byte range of the audio maps to the few chunks that hold
it: seeking in an hour-long recording decrypts 64 KiB, not the hour. Nothing decrypted
touches a disk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ivr.crypto import envelope
from ivr.crypto.envelope import HEADER, TAG_SIZE
from ivr.storage import ObjectStore

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


def open_range(
    store: ObjectStore, name: str, data_key: bytes, chunk_size: int, range_header: str | None
) -> Playable:
    object_size = store.size(name)
    size = envelope.plaintext_size(object_size, chunk_size)
    start, end, partial = parse_range(range_header, size)
    return Playable(
        size,
        start,
        end,
        partial,
        _chunks(store, name, data_key, chunk_size, object_size, start, end),
    )


def _chunks(
    store: ObjectStore,
    name: str,
    key: bytes,
    chunk_size: int,
    object_size: int,
    start: int,
    end: int,
) -> Iterator[bytes]:
    header = b"".join(store.read(name, 0, HEADER.size))
    sealed = chunk_size + TAG_SIZE
    last_index = (object_size - HEADER.size - 1) // sealed
    for index in range(start // chunk_size, end // chunk_size + 1):
        offset = HEADER.size + index * sealed
        piece = b"".join(store.read(name, offset, min(offset + sealed, object_size)))
        plain = envelope.decrypt_chunk(key, header, index, index == last_index, piece)
        low = max(start - index * chunk_size, 0)
        high = min(end - index * chunk_size + 1, len(plain))
        yield plain[low:high]
