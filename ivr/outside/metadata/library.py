"""Clean an online report's attachments down to what a person sees or hears, in memory.

A photo can carry the sender's GPS position and the serial number of their phone; a PDF
its author, and inside it a photo with its own GPS position; a sound file its artist,
device and dates. Stripping the fields one knows of leaves the ones one does not, so
each file is rebuilt from its content alone, as Freedom of the Press Foundation's
Dangerzone does: a picture is redrawn from its pixels (``images``), a PDF drawn page by
page and bound anew (``documents``), a sound file re-encoded from its samples
(``sound``). What was left behind is reported by kind ("GPS position"), never by value.

Everything happens on bytes in memory: a decrypted file never touches a disk, not even
a private temp dir. A file larger than cleaning allows (a picture's pixels, a PDF's
pages or objects) is refused from its header, before it is decoded. The console runs
this in a child process with its own limits (``sandbox``, through ``child``).
"""

from __future__ import annotations

from typing import Protocol

from ivr.outside.metadata.documents import clean_pdf
from ivr.outside.metadata.images import IMAGES, clean_image
from ivr.outside.metadata.outcome import NEEDS_MORE_MEMORY, CannotClean, Cleaned
from ivr.outside.metadata.sound import AUDIO, clean_sound

# The kinds of file an online report may carry, by the media type recognised in them.
TYPES = {*IMAGES, "application/pdf", "text/plain", *AUDIO}


class MetadataStripper(Protocol):
    def strip(self, data: bytes, media_type: str) -> Cleaned:
        """Return ``data`` rebuilt without identifying metadata, and what was removed."""


class LibraryStripper:
    """Pillow (with pillow-heif), PDFium and pikepdf, PyAV and ``wave``, all in memory."""

    def strip(self, data: bytes, media_type: str) -> Cleaned:
        try:
            if media_type in IMAGES:
                return clean_image(data, media_type)
            if media_type == "application/pdf":
                return clean_pdf(data)
            if media_type in AUDIO:
                return clean_sound(data, media_type)
            if media_type == "text/plain":
                data.decode("utf-8")
                return Cleaned(data, [], media_type)
        except CannotClean:
            raise
        except MemoryError:
            raise CannotClean(NEEDS_MORE_MEMORY) from None
        except Exception as error:  # every library's own error: the file is unreadable
            raise CannotClean(f"the file could not be read ({type(error).__name__})") from None
        raise CannotClean(f"no cleaner for {media_type}")
