"""Cleaning: what could name the sender goes, the picture, page or sound stays."""

from __future__ import annotations

import io

import pikepdf
import pytest
from PIL import Image

from ivr.outside.metadata import CannotClean, LibraryStripper, MetadataStripper
from tests.conftest import assert_implements
from tests.online.helpers import photo_with_gps
from tests.outside.made import MADE, PLANTED, heic_with_gps, pdf_with_photo_and_note, wav_with_info


def test_the_stripper_implements_its_protocol() -> None:
    assert_implements(MetadataStripper, LibraryStripper)


def test_a_photo_loses_its_gps_position_camera_and_serial_and_keeps_its_pixels() -> None:
    cleaned = LibraryStripper().strip(photo_with_gps(), "image/jpeg")
    assert cleaned.removed[0] == "GPS position"  # the most telling, named first
    assert {"camera make", "camera model", "camera serial number"} <= set(cleaned.removed)
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert not image.getexif() and image.size == (64, 48)
        assert image.getpixel((10, 10))[0] > 150  # still the red picture
    assert b"PlantedCameraMake" not in cleaned.data and b"SERIAL-PLANTED" not in cleaned.data


def test_an_iphone_heic_photo_is_shown_as_a_jpeg_without_its_gps_position() -> None:
    cleaned = LibraryStripper().strip(heic_with_gps(), "image/heic")
    assert cleaned.media_type == "image/jpeg"  # a browser shows no HEIC
    assert cleaned.removed[0] == "GPS position"
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert image.format == "JPEG" and not image.getexif() and image.size == (64, 48)


def test_a_pdf_is_redrawn_so_its_photo_note_and_author_are_left_behind() -> None:
    cleaned = LibraryStripper().strip(pdf_with_photo_and_note(), "application/pdf")
    assert {"author", "XMP metadata", "embedded images", "annotations"} <= set(cleaned.removed)
    assert {"annotation authors", "annotation dates", "font names"} <= set(cleaned.removed)
    assert b"Whistleblower" not in cleaned.data and b"Acacia" not in cleaned.data
    with pikepdf.open(io.BytesIO(cleaned.data)) as pdf:
        (page,) = pdf.pages
        assert "/Annots" not in page.obj and "/Font" not in page.Resources
        assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root
        (drawing,) = page.Resources.XObject.values()  # the page itself, drawn: no photo
        assert drawing.Width == 1240  # A4 at 150 DPI
        with Image.open(io.BytesIO(drawing.read_raw_bytes())) as image:
            assert not image.getexif()
            # The photo is still seen where it was drawn on the page (red, at 72, 500 pt).
            red = image.getpixel((int(150 * 100 / 72), int(150 * (842 - 560) / 72)))
            assert red[0] > 150 and red[1] < 100


@pytest.mark.parametrize("name", ["ogg-opus", "ogg-vorbis", "mp3-id3", "m4a-dates", "wav-info"])
def test_sound_loses_its_tags_and_the_record_names_kinds_never_values(name: str) -> None:
    made, media_type = MADE[name]
    cleaned = LibraryStripper().strip(made(), media_type)
    assert cleaned.media_type == media_type
    assert {"artist", "comment"} <= set(cleaned.removed)
    for value in PLANTED.values():
        assert value.encode() not in cleaned.data
        assert not any(value in kind for kind in cleaned.removed)
    assert not any(":" in kind for kind in cleaned.removed)  # no "artist: Jane ..."
    assert len(cleaned.data) > 1000  # the sound is still there


def test_a_wav_keeps_its_samples_and_loses_its_information_chunk() -> None:
    cleaned = LibraryStripper().strip(wav_with_info(), "audio/wav")
    assert cleaned.removed == ["artist", "creation date", "comment"]
    assert b"Whistleblower" not in cleaned.data and b"LIST" not in cleaned.data


def test_a_file_that_cannot_be_read_is_not_cleaned() -> None:
    with pytest.raises(CannotClean):
        LibraryStripper().strip(b"\xff\xd8\xff not really a jpeg", "image/jpeg")
