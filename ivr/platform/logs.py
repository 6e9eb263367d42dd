"""Structured, privacy-first logging.

Events are ``name key=value ...`` lines. Every record is redacted when it is created,
as a second line of defence: the webhook boundary already drops caller fields, but if a phone
number or a Twilio reference ever slipped into a message it is masked before output.

No event names a report, a job or a stored object: a log line's time would pin it to
the minute of a call. The only correlation id is the access log's per-request one.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

# Seven or more digits, possibly with a leading + and separators: phone-shaped
# (but not a port and what follows it, as in "127.0.0.1:8000 (pid 4013)").
PHONE_SHAPED = re.compile(r"(?<![\w/:])\+?\d(?:[\s().-]{0,2}\d){6,}(?![\w/])")
# Call, recording and account SIDs: references we keep only briefly, never in logs.
TWILIO_SID = re.compile(r"\b(CA|RE|AC)[0-9a-fA-F]{32}\b")
# Twilio media URLs carry SIDs as path segments.
TWILIO_MEDIA_URL = re.compile(r"https?://\S*/Recordings/\S*")
# A report's reference: with a log line's time it would date the call. Stored objects'
# names (32 hex digits) are masked for the same reason.
REPORT_REFERENCE = re.compile(r"\bR-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
OBJECT_NAME = re.compile(r"\b[0-9a-f]{32}\b")


def redact(text: str) -> str:
    """Mask anything in ``text`` that could identify a caller or a call."""
    text = TWILIO_MEDIA_URL.sub("[media-url]", text)
    text = TWILIO_SID.sub(lambda m: f"{m.group(1)}[redacted]", text)
    text = REPORT_REFERENCE.sub("R-[redacted]", text)
    text = OBJECT_NAME.sub("[object]", text)
    return PHONE_SHAPED.sub("[redacted-number]", text)


def _redacting_factory(base: Any) -> Any:
    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = base(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string must not lose the event
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return record

    make_record._ivr_redacting = True  # type: ignore[attr-defined]
    return make_record


def install_redaction() -> None:
    """Redact every log record at creation, whichever handler later sees it."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "_ivr_redacting", False):
        logging.setLogRecordFactory(_redacting_factory(current))


def _format_value(value: Any) -> str:
    text = str(value)
    return f'"{text}"' if " " in text or not text else text


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log a structured event; ``fields`` must never include caller data."""
    if logger.isEnabledFor(level):
        pairs = "".join(f" {key}={_format_value(value)}" for key, value in fields.items())
        logger.log(level, "%s%s", name, pairs)


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    """Send redacted key-value logs to stderr and silence per-request access logs."""
    install_redaction()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_ivr_handler", False):
            root.removeHandler(existing)
    handler._ivr_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # The dev server's access log prints query strings; ours (ivr.access) prints paths only.
    # HTTP client libraries log request lines (media URLs, object names) when debugging,
    # and Pillow each tag of a sender's picture (camera serial, GPS position, offsets).
    for noisy in ("werkzeug", "urllib3", "botocore", "boto3", "s3transfer", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
