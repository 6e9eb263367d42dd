"""Strip identifying metadata from an online report's attachments, in memory.

``library`` does the stripping with Pillow, pikepdf, mutagen and ``wave``; ``sandbox``
runs it in a child process with its own memory and time limits, which is how the
console uses it, so that a file made to exhaust memory takes only the child down.
"""

from ivr.outside.metadata.library import (
    AUDIO,
    IMAGES,
    MAX_OBJECTS,
    MAX_PAGES,
    MAX_PIXELS,
    TYPES,
    CannotClean,
    Cleaned,
    LibraryStripper,
    MetadataStripper,
    too_many_pixels,
)
from ivr.outside.metadata.sandbox import SandboxedStripper

__all__ = [
    "AUDIO",
    "IMAGES",
    "MAX_OBJECTS",
    "MAX_PAGES",
    "MAX_PIXELS",
    "TYPES",
    "CannotClean",
    "Cleaned",
    "LibraryStripper",
    "MetadataStripper",
    "SandboxedStripper",
    "too_many_pixels",
]
