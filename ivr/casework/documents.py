"""Turn an approved report into an intelligence report for a force, and send it.

The audio is never part of it. Contact details appear only when the caller chose to
leave them for the force, in a section of their own.
"""

from __future__ import annotations

import unicodedata

from fpdf import FPDF

from ivr.models import Anonymity, Report

CATEGORIES = {
    "information_for_reward": "Information or influence given for money or favours",
    "personal_advantage": "Using their position for personal advantage",
    "sexual_purpose": "Crossing professional boundaries or abuse of position for a sexual purpose",
    "relationship_abuse": "Abusing or controlling a partner or someone they have a relationship with",
    "discrimination": "Racist, homophobic, misogynistic or disablist behaviour",
    "other": "Something else",
}


def sections(report: Report) -> list[tuple[str, str]]:
    """The intelligence report, section by section."""
    parts = [
        ("Reference", report.reference),
        ("Received", report.received_on.isoformat()),
        ("Force concerned", report.force or "Unknown"),
        (
            "Category",
            CATEGORIES.get(report.handler_category or "", report.handler_category or "Not given"),
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


def as_text(report: Report) -> str:
    lines = [
        "INTELLIGENCE REPORT - Anti-Corruption and Abuse Reporting Service (Crimestoppers)",
        "",
    ]
    for title, body in sections(report):
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


def as_pdf(report: Report) -> bytes:
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
    for title, body in sections(report):
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 6, _latin(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, _latin(body.strip() or "-"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
