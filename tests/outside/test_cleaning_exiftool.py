"""What exiftool reads in each cleaned file: nothing that could point at the sender.

Real photos (``tests/fixtures/exif-samples``: GPS positions, serial numbers, maker notes,
thumbnails, HEIC from an iPhone) and files made the way a sender's software makes them
(a PDF around a GPS-tagged photo with a signed note; sound in every kind the form takes,
with tags and dates) are cleaned as the console cleans them. exiftool, not our own
reading, then says what is left; for a PDF, in every image inside it too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ivr.online.form import sniff
from ivr.outside.metadata import LibraryStripper
from tests.outside.exiftool import findings_in
from tests.outside.made import MADE

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "exif-samples"
REAL = sorted(path for path in SAMPLES.iterdir() if path.suffix != ".md")


def _real(path: Path) -> Callable[[], bytes]:
    return path.read_bytes


CORPUS = {
    **{path.name: _real(path) for path in REAL},
    **{name: made for name, (made, _) in MADE.items()},
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_exiftool_finds_nothing_telling_in_a_cleaned_file(name: str) -> None:
    # Given a file in which exiftool finds what could point at its sender
    sent = CORPUS[name]()
    media_type = sniff(sent)
    assert media_type is not None, f"{name} is not a kind the form takes"
    assert findings_in(sent, media_type), f"{name} has nothing to clean: a useless sample"
    # When the console cleans it
    cleaned = LibraryStripper().strip(sent, media_type)
    # Then exiftool finds nothing telling in the copy, nor in any image inside it
    assert findings_in(cleaned.data, cleaned.media_type) == []
    assert cleaned.removed, "the handler is told what went"


def test_the_corpus_holds_every_kind_the_form_takes() -> None:
    kinds = {sniff(CORPUS[name]()) for name in CORPUS}
    assert {"image/jpeg", "image/tiff", "image/heic", "application/pdf"} <= kinds
    assert {"audio/ogg", "audio/mpeg", "audio/mp4", "audio/wav"} <= kinds
