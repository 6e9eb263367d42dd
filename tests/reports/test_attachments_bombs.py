"""Files made to exhaust the console's memory are refused with a reason, and only a child pays.

Each bomb is built here, small on the wire and huge once decoded: a PNG whose header
claims 13,000 x 13,000 pixels, a PDF whose page tree names one page two million times,
a PDF of more objects than cleaning allows. The console's own process must stay small.
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.models.online import OnlineObject, OnlinePart
from ivr.models.staff import Role
from ivr.outside.metadata import MAX_OBJECTS, CannotClean, SandboxedStripper
from ivr.reports import online
from ivr.services import EXTENSION_KEY, Services
from tests.console.conftest import AsRole, post
from tests.online.helpers import photo_with_gps

# Far more than any of these takes in the parent, far less than cleaning a bomb there would.
PARENT_GROWTH = 100 * 1024 * 1024


def png(width: int, height: int, colour_type: int = 0) -> bytes:
    """An 8-bit PNG of one colour, compressed row by row: a few hundred KB at most."""
    channels = {0: 1, 2: 3}[colour_type]
    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + width * channels)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def pdf(objects: list[bytes]) -> bytes:
    """A PDF of ``objects`` (object 1 is the catalogue), with its cross-reference table."""
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def one_page_named(times: int) -> bytes:
    kids = b"3 0 R " * times
    return pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Count %d /Kids [ %s] >>" % (times, kids),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        ]
    )


def peak_memory() -> int:
    """This process's peak resident memory so far, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/self/status")


def children() -> set[int]:
    """The processes this one has started and not yet reaped."""
    found: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            found |= {int(pid) for pid in (task / "children").read_text().split()}
        except FileNotFoundError:
            continue  # a thread that ended while we looked: it had no child of ours
    return found


def refusal(data: bytes, media_type: str, stripper: SandboxedStripper | None = None) -> str:
    """Clean ``data`` in the sandbox and return why it was refused, checking the parent."""
    before, running = peak_memory(), children()
    with pytest.raises(CannotClean) as refused:
        (stripper or SandboxedStripper()).strip(data, media_type)
    assert peak_memory() - before < PARENT_GROWTH
    assert children() <= running  # the child is gone, whatever became of it
    return str(refused.value)


def test_a_picture_of_huge_dimensions_is_refused_from_its_header() -> None:
    bomb = png(13_000, 13_000)
    assert len(bomb) < 1024 * 1024  # under the form's limit by far; 169 MB once decoded
    reason = refusal(bomb, "image/png")
    assert "13,000 x 13,000 pixels (169 megapixels), more than the 50" in reason


def test_a_pdf_naming_one_page_two_million_times_is_refused_before_its_pages_are_read() -> None:
    bomb = one_page_named(2_000_000)
    assert len(bomb) < 16 * 1024 * 1024
    assert "more than 500 pages" in refusal(bomb, "application/pdf")


def test_a_pdf_of_more_pages_than_allowed_is_refused() -> None:
    pages = [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * 501
    kids = b" ".join(b"%d 0 R" % number for number in range(3, 3 + len(pages)))
    bomb = pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Count %d /Kids [ %s ] >>" % (len(pages), kids),
            *pages,
        ]
    )
    assert "more than 500 pages" in refusal(bomb, "application/pdf")


def test_a_pdf_of_more_objects_than_allowed_is_refused() -> None:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count 1 /Kids [ 3 0 R ] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    bomb = pdf(objects + [b"<< >>"] * MAX_OBJECTS)
    assert f"more than the {MAX_OBJECTS:,}" in refusal(bomb, "application/pdf")


def test_a_child_past_its_memory_limit_fails_there_and_the_file_is_refused() -> None:
    # 49 megapixels passes the header check; decoded twice it needs far more than 256 MB
    picture = png(7_000, 7_000, colour_type=2)
    reason = refusal(picture, "image/png", SandboxedStripper(memory_bytes=256 * 1024 * 1024))
    assert "more memory than is allowed" in reason


def test_a_child_past_its_time_limit_is_killed_and_the_file_is_refused() -> None:
    # No interpreter starts within a microsecond: the limit always passes first.
    reason = refusal(photo_with_gps(), "image/jpeg", SandboxedStripper(seconds=1e-6))
    assert "took longer than" in reason


def test_an_ordinary_photo_is_cleaned_in_the_sandbox_without_a_temporary_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a temporary file was made")

    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    cleaned = SandboxedStripper().strip(photo_with_gps(), "image/jpeg")
    assert cleaned.removed[0] == "GPS position"
    assert b"SERIAL-PLANTED" not in cleaned.data


def test_the_handler_is_told_why_a_picture_is_not_shown(ingest_app: Flask, as_role: AsRole) -> None:
    # Given an online report with a picture bomb and an ordinary photo
    built: Services = ingest_app.extensions[EXTENSION_KEY]
    submission = online.OnlineSubmission(
        language="en-GB",
        category=None,
        answers={"what": "PC Example took cash"},
        attachments=[
            online.Attachment(png(13_000, 13_000), "image/png"),
            online.Attachment(photo_with_gps(), "image/jpeg"),
        ],
    )
    online.receive(built.db, built.store, built.key_wrapper, submission)
    # When a handler takes it and opens it
    handler = as_role(Role.HANDLER)
    reference = post(handler, "/console/take-next").headers["Location"].rsplit("/", 1)[1]
    page = handler.get(f"/console/reports/{reference}").get_data(as_text=True)
    # Then the bomb is withheld with its reason, and the photo is shown cleaned
    assert "so it is not shown. It is kept, encrypted. Why: the picture is 13,000 x 13,000" in page
    assert "Removed before showing: GPS position" in page
    with built.db.transaction() as session:
        parts = session.scalars(
            select(OnlineObject)
            .where(OnlineObject.part == OnlinePart.ATTACHMENT)
            .order_by(OnlineObject.position)
        ).all()
        assert [part.cleaned for part in parts] == [False, True]
