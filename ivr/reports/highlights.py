"""Where each possible caller detail sits in a report's fields, so that it can be highlighted."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ivr.models.reports import Report
from ivr.reports.sanitise import caller_details_in

# The fields a report's sanitisation checks read (those workflow.caller_details reads).
CHECKED_FIELDS = ("transcript", "people", "what", "when_text", "where_text")


@dataclass(frozen=True)
class Highlight:
    """A finding, and where it is: ``getattr(report, field)[start:end] == text``."""

    kind: str
    text: str
    field: str
    start: int
    end: int

    @property
    def label(self) -> str:
        return f"{self.kind}: {self.text}"


def highlights(report: Report) -> list[Highlight]:
    """Return each finding of the sanitisation checks with the field and place it is in.

    Each field is checked on its own, so a finding never joins the end of one field to
    the start of the next ("January 2026" and "Rose Street" are not an address).
    """
    return [
        Highlight(detail.kind, detail.text, name, detail.start, detail.end)
        for name in CHECKED_FIELDS
        for detail in caller_details_in(getattr(report, name) or "")
    ]


def segments(text: str, spans: list[Highlight]) -> list[tuple[str, Highlight | None]]:
    """Cut ``text`` into pieces, each either plain or one highlighted finding."""
    pieces: list[tuple[str, Highlight | None]] = []
    at = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.start < at:  # overlaps the one before: already shown
            continue
        if span.start > at:
            pieces.append((text[at : span.start], None))
        pieces.append((text[span.start : span.end], span))
        at = span.end
    if at < len(text):
        pieces.append((text[at:], None))
    return pieces


Piece = tuple[str, Highlight | None]


def paragraphs(text: str, spans: list[Highlight]) -> list[list[Piece]]:
    """Cut ``text`` into paragraphs (at blank lines), each a list of plain or highlighted pieces."""
    found: list[list[Piece]] = [[]]
    for raw, span in segments(text, spans):
        piece = raw.replace("\r\n", "\n")
        parts = re.split(r"\n[ \t]*\n\s*", piece) if span is None else [piece]
        for i, part in enumerate(parts):
            if i:
                found.append([])
            if part:
                found[-1].append((part, span))
    return [p for p in found if p]
