"""Turn an approved report into an intelligence report for a force, and send it.

The audio is never part of it. Contact details appear only when the caller chose to
leave them for the force, in a section of their own. Every page of the PDF carries the
protective marking at its top and bottom, the reference, and "Page N of M"; the PDF is
tagged (PDF/UA-1: a structure tree, a language and a title) so screen readers read it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape

from weasyprint import HTML

from ivr.models.reports import Anonymity, Report

# The categories and their labels come from the published call flow (``categories:``),
# so the ops team's wording is what handlers choose from and forces receive.
Categories = Mapping[str, str]

# The Government Security Classifications marking for what the hotline sends a force.
DEFAULT_MARKING = "OFFICIAL-SENSITIVE"
SERVICE = "Anti-Corruption and Abuse Reporting Service (Crimestoppers)"


# The handler's editing marks, which stay in the console and never reach a force: the
# recording's time, as Ctrl+J inserts it ("[01:23] ", "[1:02:03] "; also with a fraction).
TIMESTAMP = re.compile(r"\[(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?\][ \t]?")
SPACES = re.compile(r"[ \t]{2,}")


def without_marks(text: str) -> str:
    """``text`` as a force reads it: the handler's timestamps removed, the words left as they
    were (no doubled spaces or trailing blanks where a mark was, no line left empty by it)."""
    if not TIMESTAMP.search(text):
        return text
    lines = []
    for line in text.replace("\r\n", "\n").split("\n"):
        cleaned = TIMESTAMP.sub("", line)
        if cleaned.strip() or not line.strip():
            lines.append(SPACES.sub(" ", cleaned).rstrip() if cleaned != line else line)
    return "\n".join(lines)


def sections(report: Report, categories: Categories) -> list[tuple[str, str]]:
    """The intelligence report, section by section, without the handler's editing marks."""
    return [(title, without_marks(body)) for title, body in _sections(report, categories)]


def _sections(report: Report, categories: Categories) -> list[tuple[str, str]]:
    parts = [
        ("Reference", report.reference),
        ("Received", report.received_on.isoformat()),
        ("Force concerned", report.force or "Unknown"),
        (
            "Category",
            categories.get(report.handler_category or "", report.handler_category or "Not given"),
        ),
        ("Urgency", report.urgency.value.replace("_", " ")),
        ("People involved", report.people or "Not given"),
        ("What happened", report.what),
        ("When", report.when_text or "Not given"),
        ("Where", report.where_text or "Not given"),
        ("Account (sanitised)", report.transcript),
    ]
    if report.anonymity is Anonymity.CONTACT and report.contact_transcript.strip():
        parts.append(
            (
                "Contact details the caller chose to leave for the investigation team",
                report.contact_transcript,
            )
        )
    else:
        parts.append(("Contact", "The caller chose to remain anonymous."))
    return parts


def as_text(report: Report, categories: Categories, marking: str = DEFAULT_MARKING) -> str:
    lines = [marking, "", f"INTELLIGENCE REPORT - {SERVICE}", ""]
    for title, body in sections(report, categories):
        lines += [title.upper(), body.strip(), ""]
    lines += [
        "Handle under your force's counter corruption procedures. No recording is attached.",
        "",
        marking,
    ]
    return "\n".join(lines)


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal (for the page's margin boxes)."""
    return (
        '"' + "".join(ch if ch.isalnum() or ch in " -_" else f"\\{ord(ch):x} " for ch in text) + '"'
    )


def _html(report: Report, categories: Categories, marking: str) -> str:
    mark, ref = _css_string(marking), _css_string(report.reference)
    style = f"""
    @page {{
        size: A4; margin: 28mm 20mm 26mm;
        @top-center {{ content: {mark}; font-weight: bold; font-size: 11pt; }}
        @top-right {{ content: {ref}; font-size: 9pt; }}
        @bottom-center {{ content: {mark}; font-weight: bold; font-size: 11pt; }}
        @bottom-right {{ content: "Page " counter(page) " of " counter(pages); font-size: 9pt; }}
    }}
    body {{ font-family: "DejaVu Sans", sans-serif; font-size: 10.5pt; line-height: 1.4; }}
    h1 {{ font-size: 15pt; margin: 0 0 .8em; }}
    h2 {{ font-size: 11pt; margin: 1.1em 0 .2em; }}
    p {{ margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }}
    """
    body = "".join(
        f"<section><h2>{escape(title)}</h2><p>{escape(text.strip() or '-')}</p></section>"
        for title, text in sections(report, categories)
    )
    return (
        '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">'
        f"<title>Intelligence report {escape(report.reference)}</title>"
        f"<style>{style}</style></head><body>"
        f"<h1>Intelligence report: {escape(SERVICE)}</h1>{body}"
        "<p>Handle under your force's counter corruption procedures. "
        "No recording is attached.</p></body></html>"
    )


def as_pdf(report: Report, categories: Categories, marking: str = DEFAULT_MARKING) -> bytes:
    """The report as a tagged PDF (PDF/UA-1), marked, referenced and numbered on every page."""
    # Without a target, write_pdf returns the document's bytes.
    return bytes(HTML(string=_html(report, categories, marking)).write_pdf(pdf_variant="pdf/ua-1"))
