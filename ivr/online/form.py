"""Read and check the online form: every problem is a message beside its field.

Uploads are held in memory only, each capped as it streams in (``CappedBuffer``): no
part of a file is ever spooled to a temporary file, and a file over the limit is read
to its end and thrown away, so the rest of the form (what the sender typed) survives.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from flask import Request

from ivr.casework.online import ANSWERS, Attachment, OnlineSubmission
from ivr.metadata import IMAGES, too_many_pixels
from ivr.online.guard import Limits

TEXT_FIELDS = ("what", "who", "when", "where", "contact")
CHOICES = {
    "duty": ("on", "off", "not_sure"),
    "setting": ("in_person", "online", "both", "not_sure"),
    "anonymity": ("anonymous", "contact"),
}


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
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head[4:8] == b"ftyp" and head[8:11] in (b"M4A", b"mp4", b"iso", b"MSN"):
        return "audio/mp4"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if data and all(ch.isprintable() or ch in "\t\r\n" for ch in text):
        return "text/plain"
    return None


def check(
    request: Request, language: str, categories: set[str], forces: set[str], limits: Limits
) -> Checked:
    """Check the sent form; return its values (to show again) and errors or a submission."""
    form = request.form
    values = {name: form.get(name, "").replace("\r\n", "\n") for name in TEXT_FIELDS}
    values["category"] = form.get("category", "")
    values["force"] = form.get("force", "")
    for name, allowed in CHOICES.items():
        chosen = form.get(name, "")
        values[name] = chosen if chosen in allowed else ""
    values["anonymity"] = values["anonymity"] or "anonymous"
    errors: dict[str, str] = {}
    if values["category"] not in categories:
        errors["category"] = "err_category"
    if not values["what"].strip():
        errors["what"] = "err_what"
    for name in TEXT_FIELDS:
        if len(values[name]) > limits.max_text and name not in errors:
            errors[name] = "err_too_long"
    if values["force"] not in forces:
        values["force"] = ""  # "not sure"
    if values["anonymity"] == "contact" and not values["contact"].strip():
        errors["contact"] = "err_contact"
    # A PIN is never shown back: after any error it is typed again.
    pin, pin_again = form.get("pin", "").strip(), form.get("pin_again", "").strip()
    if pin or pin_again:
        if not (pin.isdigit() and 4 <= len(pin) <= 6):
            errors["pin"] = "err_pin"
        elif pin != pin_again:
            errors["pin"] = "err_pin_again"
    attachments: list[Attachment] = []
    sent = [item for item in request.files.getlist("files") if item.filename or _size(item) > 0]
    if len(sent) > limits.max_files:
        errors["files"] = "err_count"
    else:
        for number, item in enumerate(sent, start=1):
            stream = item.stream
            if isinstance(stream, CappedBuffer) and stream.overflow:
                errors["files"] = f"err_size:{number}"
                break
            data = stream.getvalue() if isinstance(stream, io.BytesIO) else stream.read()
            media_type = sniff(data)
            if media_type is None:
                errors["files"] = f"err_type:{number}"
                break
            # Refused here, from the header, so the sender can send a smaller copy at once.
            if media_type in IMAGES and too_many_pixels(data):
                errors["files"] = f"err_pixels:{number}"
                break
            attachments.append(Attachment(data, media_type))
    if errors:
        if sent and "files" not in errors:
            errors["files"] = "err_files_again"
        return Checked(values, errors)
    answers = {name: values[name] for name in ANSWERS if name in values}
    answers["force"] = values["force"]
    return Checked(
        values,
        submission=OnlineSubmission(
            language=language,
            category=values["category"],
            answers=answers,
            # Contact details only when the sender chose to leave them: anything typed
            # in the box before choosing "anonymous" is dropped, never stored.
            contact=values["contact"] if values["anonymity"] == "contact" else "",
            attachments=attachments,
            pin=pin or None,
        ),
    )


def _size(item: Any) -> int:
    stream = item.stream
    return len(stream.getvalue()) if isinstance(stream, io.BytesIO) else 0
