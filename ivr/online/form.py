"""Read and check the online form: every problem is a message beside its field.

Uploads are held in memory only, each capped as it streams in (``CappedBuffer``): no
part of a file is ever spooled to a temporary file, and a file over the limit is read
to its end and thrown away, so the rest of the form (what the sender typed) survives.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any, assert_never

from flask import Request

from ivr.online.guard import Limits
from ivr.online.texts import REQUIRED
from ivr.outside.metadata import IMAGES, too_many_pixels
from ivr.reports.online import Attachment, OnlineSubmission
from ivr.reports.questions import QUESTIONS, Kind

# The boxes a sender types in: the questions' own, then the contact details.
TEXT_FIELDS = (*(q.name for q in QUESTIONS if q.kind is Kind.TEXT), "contact")
ANONYMITY = ("anonymous", "contact")
# Each accepted kind by its first bytes (magic numbers), whatever the file's name says.
SIGNATURES = (
    ((b"\xff\xd8\xff",), "image/jpeg"),
    ((b"\x89PNG\r\n\x1a\n",), "image/png"),
    ((b"GIF87a", b"GIF89a"), "image/gif"),
    ((b"II*\x00", b"MM\x00*"), "image/tiff"),
    ((b"%PDF-",), "application/pdf"),
    ((b"ID3",), "audio/mpeg"),
    ((b"OggS",), "audio/ogg"),
)
RIFF_KINDS = {b"WEBP": "image/webp", b"WAVE": "audio/wav"}
# ISO media files by their major brand: HEIF by what its picture is coded as (HEVC, an
# iPhone's HEIC, or any), sound by the first three letters of its brand.
BRANDS = {
    **dict.fromkeys((b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"), "image/heic"),
    **dict.fromkeys((b"mif1", b"msf1"), "image/heif"),
    **dict.fromkeys((b"M4A", b"mp4", b"iso", b"MSN"), "audio/mp4"),
}
# Word-processor files, refused with advice rather than cleaned: drawing them as pages
# would need LibreOffice beside the console, a large program reading a stranger's file.
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, and Office's other old files
OFFICE_FOLDERS = ("word/", "xl/", "ppt/")


class CappedBuffer(io.BytesIO):
    """A file part kept in memory up to ``cap`` bytes; beyond it, only counted."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap
        self.overflow = False

    def write(self, data: Any) -> int:
        if self.overflow or self.tell() + len(data) > self.cap:
            self.overflow = True
            return len(data)
        return super().write(data)


class OnlineRequest(Request):
    """The app's request class: the online form's uploads stay in memory, capped."""

    upload_cap: int = 10 * 1024 * 1024

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> Any:
        if self.blueprint == "online":
            return CappedBuffer(self.upload_cap)
        return super()._get_file_stream(
            total_content_length, content_type, filename, content_length
        )


@dataclass
class Checked:
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)  # field -> message key + format
    submission: OnlineSubmission | None = None


def sniff(data: bytes) -> str | None:
    """Return the media type ``data`` really is (whatever its name says), or None."""
    head = data[:16]
    for prefixes, media_type in SIGNATURES:
        if head.startswith(prefixes):
            return media_type
    if head.startswith(b"RIFF") and head[8:12] in RIFF_KINDS:
        return RIFF_KINDS[head[8:12]]
    if head[4:8] == b"ftyp":
        return BRANDS.get(head[8:12]) or BRANDS.get(head[8:11])
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # an MPEG frame
        return "audio/mpeg"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if data and all(ch.isprintable() or ch in "\t\r\n" for ch in text):
        return "text/plain"
    return None


def word_processor(data: bytes) -> bool:
    """Say whether ``data`` is a Word, OpenDocument or RTF file (read from names alone)."""
    if data.startswith((OLE2, b"{\\rtf")):
        return True
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:  # a ZIP's list of names, from its central directory: nothing is decompressed
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False
    # OpenDocument's first entry names its kind; Office Open XML keeps folders by program.
    return "mimetype" in names or any(name.startswith(OFFICE_FOLDERS) for name in names)


def check(
    request: Request, language: str, categories: set[str], forces: set[str], limits: Limits
) -> Checked:
    """Check the sent form; return its values (to show again) and errors or a submission."""
    form = request.form
    values, errors = _answers(form, categories, forces, limits)
    # A PIN is never shown back: after any error it is typed again.
    pin, pin_again = form.get("pin", "").strip(), form.get("pin_again", "").strip()
    pin_error = _pin_error(pin, pin_again)
    if pin_error:
        errors["pin"] = pin_error
    sent = [item for item in request.files.getlist("files") if item.filename or _size(item) > 0]
    attachments, files_error = _attachments(sent, limits)
    if files_error:
        errors["files"] = files_error
    if errors:
        if sent and "files" not in errors:
            errors["files"] = "err_files_again"
        return Checked(values, errors)
    answers = {question.name: values[question.name] for question in QUESTIONS}
    return Checked(
        values,
        submission=OnlineSubmission(
            language=language,
            category=values["category"],
            answers=answers,
            # Contact details only when the sender chose to leave them. Details typed
            # while "anonymous" is chosen never get here: the form asks first (below).
            contact=values["contact"] if values["anonymity"] == "contact" else "",
            attachments=attachments,
            pin=pin or None,
        ),
    )


def _answers(
    form: Any, categories: set[str], forces: set[str], limits: Limits
) -> tuple[dict[str, str], dict[str, str]]:
    """Read the answers as sent (to show again) and the errors beside their fields."""
    values = {name: form.get(name, "").replace("\r\n", "\n") for name in TEXT_FIELDS}
    values["category"] = form.get("category", "")
    chosen = form.get("anonymity", "")
    values["anonymity"] = chosen if chosen in ANONYMITY else "anonymous"
    errors: dict[str, str] = {}
    if values["category"] not in categories:
        errors["category"] = "err_category"
    for question in QUESTIONS:
        chosen = form.get(question.name, "")
        match question.kind:
            case Kind.TEXT:
                pass  # read with the contact details, above
            case Kind.CHOICE:
                allowed = {choice.value for choice in question.choices}
                values[question.name] = chosen if chosen in allowed else ""
            case Kind.FORCE:
                values[question.name] = chosen if chosen in forces else ""  # "not sure"
            case _:
                assert_never(question.kind)
        if question.required and not values[question.name].strip():
            errors[question.name] = REQUIRED
    for name in TEXT_FIELDS:
        if len(values[name]) > limits.max_text and name not in errors:
            errors[name] = "err_too_long"
    if values["anonymity"] == "contact" and not values["contact"].strip():
        errors["contact"] = "err_contact"
    if values["anonymity"] == "anonymous" and values["contact"].strip():
        # Details written while "stay anonymous" is chosen (possible without JavaScript,
        # which hides the box): ask which was meant, rather than drop or keep them. The
        # words are shown back in the form, never stored, never logged.
        errors["anonymity"] = "err_contact_anonymous"
    return values, errors


def _pin_error(pin: str, pin_again: str) -> str | None:
    """The message key for a PIN that cannot be used, or None (no PIN is fine)."""
    if not (pin or pin_again):
        return None
    # ASCII only: a PIN is keyed on a phone too, and has no other digits.
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 6):
        return "err_pin"
    return "err_pin_again" if pin != pin_again else None


def _attachments(sent: list[Any], limits: Limits) -> tuple[list[Attachment], str | None]:
    """The files as attachments, or the message key for the first one refused."""
    if len(sent) > limits.max_files:
        return [], "err_count"
    attachments: list[Attachment] = []
    for number, item in enumerate(sent, start=1):
        stream = item.stream
        if isinstance(stream, CappedBuffer) and stream.overflow:
            return [], f"err_size:{number}"
        data = stream.getvalue() if isinstance(stream, io.BytesIO) else stream.read()
        # Before sniffing: an RTF file is text, and would pass as plain text, author and all.
        if word_processor(data):
            return [], f"err_document:{number}"
        media_type = sniff(data)
        if media_type is None:
            return [], f"err_type:{number}"
        # Refused here, from the header, so the sender can send a smaller copy at once.
        if media_type in IMAGES and too_many_pixels(data):
            return [], f"err_pixels:{number}"
        attachments.append(Attachment(data, media_type))
    return attachments, None


def _size(item: Any) -> int:
    stream = item.stream
    return len(stream.getvalue()) if isinstance(stream, io.BytesIO) else 0
