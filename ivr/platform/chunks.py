"""Regroup a stream of byte strings into pieces of one size."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def rechunk(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Yield ``size``-byte pieces, then the remainder: always, even when it is empty."""
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    yield bytes(buffer)
