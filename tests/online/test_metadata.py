"""Metadata stripping: what could name the sender goes, the picture or document stays."""

from __future__ import annotations

import io
import struct

import pikepdf
import pytest
from PIL import Image

from ivr.outside.metadata import CannotClean, LibraryStripper, MetadataStripper
from tests.conftest import assert_implements
from tests.online.helpers import photo_with_gps


def test_the_stripper_implements_its_protocol() -> None:
    assert_implements(MetadataStripper, LibraryStripper)


def test_a_photo_loses_its_gps_position_camera_and_serial_and_keeps_its_pixels() -> None:
    cleaned = LibraryStripper().strip(photo_with_gps(), "image/jpeg")
    assert {"GPS position", "camera make", "camera model", "camera serial number"} <= set(
        cleaned.removed
    )
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert not image.getexif() and image.size == (64, 48)
        assert image.getpixel((10, 10))[0] > 150  # still the red picture
    assert b"PlantedCameraMake" not in cleaned.data and b"SERIAL-PLANTED" not in cleaned.data


def test_a_pdf_loses_its_author_and_xmp() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = "PLANTED-AUTHOR"
    pdf.docinfo["/Creator"] = "PLANTED-CREATOR"
    with pdf.open_metadata() as meta:
        meta["dc:creator"] = ["PLANTED-XMP-AUTHOR"]
    out = io.BytesIO()
    pdf.save(out)
    cleaned = LibraryStripper().strip(out.getvalue(), "application/pdf")
    assert {"document author", "XMP metadata"} <= set(cleaned.removed)
    assert b"PLANTED" not in cleaned.data
    assert len(pikepdf.open(io.BytesIO(cleaned.data)).pages) == 1


def test_a_wav_loses_its_information_chunk() -> None:
    out = io.BytesIO()
    import wave

    with wave.open(out, "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(8000)
        target.writeframes(b"\x01\x00" * 800)
    plain = out.getvalue()
    info = b"INFOIART" + struct.pack("<I", 14) + b"PLANTED-ARTIST"
    chunk = b"LIST" + struct.pack("<I", len(info)) + info
    tagged = plain[:4] + struct.pack("<I", len(plain) - 8 + len(chunk)) + plain[8:] + chunk
    cleaned = LibraryStripper().strip(tagged, "audio/wav")
    assert cleaned.removed == ["LIST information"]
    assert b"PLANTED-ARTIST" not in cleaned.data


def test_a_file_that_cannot_be_read_is_not_cleaned() -> None:
    with pytest.raises(CannotClean):
        LibraryStripper().strip(b"\xff\xd8\xff not really a jpeg", "image/jpeg")
