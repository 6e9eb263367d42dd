"""Turn an approved report into an intelligence report for a force, and send it.

The audio is never part of it. Contact details appear only when the caller chose to
leave them for the force, in a section of their own.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from fpdf import FPDF

from ivr.models import Anonymity, Report

# The categories and their labels come from the published call flow (``categories:``),
# so the ops team's wording is what handlers choose from and forces receive.
Categories = Mapping[str, str]


def sections(report: Report, categories: Categories) -> list[tuple[str, str]]:
    """The intelligence report, section by section."""
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


def as_text(report: Report, categories: Categories) -> str:
    lines = [
        "INTELLIGENCE REPORT - Anti-Corruption and Abuse Reporting Service (Crimestoppers)",
        "",
    ]
    for title, body in sections(report, categories):
        lines += [title.upper(), body.strip(), ""]
    lines.append(
        "Handle under your force's counter corruption procedures. No recording is attached."
    )
    return "\n".join(lines)


def _latin(text: str) -> str:
    # The PDF's core font is Latin-1: keep letters like w-circumflex as their base letter.
    return (
        "".join(ch if ord(ch) < 256 else unicodedata.normalize("NFKD", ch)[0] for ch in text)
        .encode("latin-1", "replace")
        .decode("latin-1")
    )


def as_pdf(report: Report, categories: Categories) -> bytes:
    pdf = FPDF()
    pdf.set_title(f"Intelligence report {report.reference}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(
        0,
        8,
        _latin("Intelligence report - Anti-Corruption and Abuse Reporting Service"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for title, body in sections(report, categories):
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 6, _latin(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, _latin(body.strip() or "-"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
