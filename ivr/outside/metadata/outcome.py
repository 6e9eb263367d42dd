"""What cleaning a file gives back: a fresh copy and the kinds of detail it left behind."""

from __future__ import annotations

from dataclasses import dataclass

NEEDS_MORE_MEMORY = "cleaning it needed more memory than is allowed"


class CannotClean(ValueError):
    """The file could not be read, so it could not be cleaned: it is not shown."""


@dataclass(frozen=True)
class Cleaned:
    data: bytes
    # Kinds of detail removed ("GPS position", "author"), never a value: this list is
    # stored beside the report and shown on its page.
    removed: list[str]
    # What the fresh copy is, which may differ from what was sent: a browser shows no
    # HEIC or TIFF, so those become JPEG and PNG.
    media_type: str


def add(removed: list[str], kind: str) -> None:
    """Name ``kind`` once, in the order first found."""
    if kind not in removed:
        removed.append(kind)
