"""Turn an approved report into an intelligence report for a force, and send it.

The audio is never part of it. Contact details appear only when the caller chose to
leave them for the force, in a section of their own.
"""

from __future__ import annotations

import smtplib
import unicodedata
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from fpdf import FPDF

from ivr.models import Anonymity, Report
from ivr.private_files import private_folder, write_private

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


class MailSender(Protocol):
    def send(
        self, to: str, subject: str, body: str, attachments: list[tuple[str, str, bytes]]
    ) -> None:
        """Deliver one message; raise OSError if it could not be handed over."""


def _message(
    sender: str, to: str, subject: str, body: str, attachments: list[tuple[str, str, bytes]]
) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message.set_content(body)
    for filename, mime, data in attachments:
        main, sub = mime.split("/")
        message.add_attachment(data, maintype=main, subtype=sub, filename=filename)
    return message


class SmtpSender:
    """Hand messages to an SMTP server (``IVR_SMTP_URL=smtp://host:port``)."""

    def __init__(self, host: str, port: int, sender: str) -> None:
        self._host, self._port, self._sender = host, port, sender

    def send(
        self, to: str, subject: str, body: str, attachments: list[tuple[str, str, bytes]]
    ) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=20) as smtp:
            smtp.send_message(_message(self._sender, to, subject, body, attachments))


class OutboxSender:
    """Write messages as .eml files to a folder (the embedded default: ``var/outbox``)."""

    def __init__(self, folder: Path, sender: str) -> None:
        self._folder, self._sender = folder, sender

    def send(
        self, to: str, subject: str, body: str, attachments: list[tuple[str, str, bytes]]
    ) -> None:
        private_folder(self._folder)
        name = subject.split()[-1] + "-" + to.split("@")[0] + ".eml"
        write_private(
            self._folder / name, bytes(_message(self._sender, to, subject, body, attachments))
        )


def sender_for(smtp_url: str, outbox: Path, sender: str) -> MailSender:
    if not smtp_url:
        return OutboxSender(outbox, sender)
    parts = urlsplit(smtp_url)
    if parts.scheme != "smtp" or not parts.hostname:
        raise ValueError(f"IVR_SMTP_URL must look like smtp://host:port, not {smtp_url!r}")
    return SmtpSender(parts.hostname, parts.port or 25, sender)
