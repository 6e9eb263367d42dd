"""What a force receives carries none of the handler's editing marks: the timestamps a
handler inserts with Ctrl+J stay in the console, out of the PDF and the text."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from ivr.models.reports import Anonymity, Report
from ivr.reports.documents import as_pdf, as_text, without_marks
from tests.reports.test_documents import CATEGORIES, long_report

CLOCK = re.compile(r"\[\d{1,2}(:\d{2}){1,2}")

MARKED = (
    "[00:00] The caller says a sergeant [01:23] sells checks.\n"
    "[00:14]\n"
    "He meets the dealer at 10:30 [inaudible] on Fridays [1:02:03]"
)


def marked_report() -> Report:
    report = long_report()
    report.transcript = MARKED
    report.what = "[00:05] Selling police information"
    report.people = "A sergeant [00:41]"
    report.anonymity = Anonymity.CONTACT
    report.contact_transcript = "[02:10] Ring after six"
    return report


def test_timestamps_are_removed_and_the_words_left_as_they_were() -> None:
    assert without_marks(MARKED) == (
        "The caller says a sergeant sells checks.\n"
        "He meets the dealer at 10:30 [inaudible] on Fridays"
    )
    # Text without a mark is untouched, to the character
    plain = "Two  spaces, a time 10:30 and [sic] stay.\r\n"
    assert without_marks(plain) == plain


def test_the_text_document_has_no_timestamp_in_any_section() -> None:
    text = as_text(marked_report(), CATEGORIES)
    assert not CLOCK.search(text), CLOCK.search(text)
    assert "The caller says a sergeant sells checks." in text
    assert "at 10:30 [inaudible] on Fridays" in text
    assert "Selling police information" in text and "Ring after six" in text


def test_the_pdf_has_no_timestamp_in_any_section() -> None:
    pdf = PdfReader(io.BytesIO(as_pdf(marked_report(), CATEGORIES)))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert not CLOCK.search(text), CLOCK.search(text)
    assert "The caller says a sergeant sells checks." in text
    assert "Ring after six" in text


def test_the_console_keeps_the_marks() -> None:
    report = marked_report()
    as_text(report, CATEGORIES)
    assert report.transcript == MARKED
