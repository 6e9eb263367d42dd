"""The document sent to a force: marked, referenced and numbered on every page, and tagged."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PageObject, PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from ivr.config import Config
from ivr.models.reports import Anonymity, Report, ReportSource, ReportStatus, Urgency
from ivr.reports.documents import as_pdf, as_text

CATEGORIES = {"information_for_reward": "Passing information for reward"}


def long_report() -> Report:
    return Report(
        reference="R-ABCD-2345",
        received_on=date(2026, 3, 2),
        source=ReportSource.MENU,
        status=ReportStatus.APPROVED,
        anonymity=Anonymity.ANONYMOUS,
        force="Heddlu Gogledd Cymru",
        handler_category="information_for_reward",
        urgency=Urgency.ROUTINE,
        people="A constable at the custody suite",
        what="Selling police information",
        when_text="Since March",
        where_text="Bangor",
        # Long enough for three pages, with a Welsh letter the old Latin-1 PDF lost
        transcript="Mae'r heddwas yn gwerthu gwybodaeth; ŵyr pawb. " * 260,
        contact_transcript="",
    )


def placed(page: PageObject, wanted: str) -> list[float]:
    """Where on the page (0 bottom, 1 top) each piece of text containing ``wanted`` is drawn."""
    height = float(page.mediabox.height)
    found: list[float] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if wanted in text:
            found.append((tm[5] * cm[3] + cm[5]) / height)

    page.extract_text(visitor_text=visit)
    return found


def test_every_page_carries_the_marking_top_and_bottom_its_number_and_the_reference() -> None:
    pdf = PdfReader(io.BytesIO(as_pdf(long_report(), CATEGORIES, "OFFICIAL-SENSITIVE")))
    assert len(pdf.pages) >= 3
    for number, page in enumerate(pdf.pages, start=1):
        text = page.extract_text()
        marks = sorted(placed(page, "OFFICIAL-SENSITIVE"))
        assert len(marks) == 2 and marks[0] < 0.1 and marks[1] > 0.9, (number, marks)
        assert "R-ABCD-2345" in text
        assert f"Page {number} of {len(pdf.pages)}" in text
    assert "ŵyr pawb" in pdf.pages[0].extract_text()


def structure(node: object) -> set[str]:
    """Every structure type (H1, P, ...) in the tagged PDF's structure tree."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            if "/S" in item:
                found.add(str(item["/S"]).lstrip("/"))
            if "/K" in item:
                stack.append(item["/K"])
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return found


def test_the_pdf_is_tagged_for_screen_readers() -> None:
    pdf = PdfReader(io.BytesIO(as_pdf(long_report(), CATEGORIES)))
    root = pdf.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert root["/Lang"] == "en-GB"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert pdf.metadata is not None and pdf.metadata.title == "Intelligence report R-ABCD-2345"
    # Headings are tagged as headings, so a reader can move section by section
    assert {"H1", "H2", "P"} <= structure(root["/StructTreeRoot"])


def test_the_marking_is_a_setting_and_the_text_version_carries_it_too() -> None:
    config = Config.from_env(
        {
            "IVR_TIER": "console",
            "IVR_CONSOLE_SECRET_KEY": "c" * 32,
            "IVR_PROTECTIVE_MARKING": "OFFICIAL",
        }
    )
    assert config.protective_marking == "OFFICIAL"
    assert (
        Config.from_env(
            {"IVR_TIER": "console", "IVR_CONSOLE_SECRET_KEY": "c" * 32}
        ).protective_marking
        == "OFFICIAL-SENSITIVE"
    )
    lines = as_text(long_report(), CATEGORIES, config.protective_marking).splitlines()
    assert lines[0] == lines[-1] == "OFFICIAL"
    pdf = PdfReader(io.BytesIO(as_pdf(long_report(), CATEGORIES, "OFFICIAL")))
    assert "SENSITIVE" not in pdf.pages[0].extract_text()
