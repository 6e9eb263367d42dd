"""Clean an online report's attachments down to what a person sees or hears, in memory.

``library`` chooses the cleaner (``images``, ``documents``, ``sound``); ``sandbox`` runs
it in a child process (``child``) with its own memory and time limits, which is how the
console uses it, so that a file made to exhaust memory takes only the child down.
"""

from ivr.outside.metadata.documents import MAX_OBJECTS, MAX_PAGES
from ivr.outside.metadata.images import IMAGES, MAX_PIXELS, too_many_pixels
from ivr.outside.metadata.library import TYPES, LibraryStripper, MetadataStripper
from ivr.outside.metadata.outcome import CannotClean, Cleaned
from ivr.outside.metadata.sandbox import SandboxedStripper
from ivr.outside.metadata.sound import AUDIO

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
