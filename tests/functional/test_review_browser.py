"""A supervisor's review and dissemination in the browser: the text before the decision,
Approve and Return apart, a risk to life as a banner; the document sent to the force
without the handler's timestamps; a download after the email is a copy, not a resending."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from ivr.models.audit import AuditEvent
from ivr.models.reports import Dissemination, Force
from ivr.models.staff import Role
from ivr.platform.db import Database
from ivr.staff.accounts import add_user
from tests.functional.axe import assert_accessible
from tests.functional.pages_queue import ReviewPage
from tests.functional.pages_report import Handler, box
from tests.functional.test_queue_and_review_browser import (
    signed_in,
    the_report,
    written_and_submitted,
)

pytestmark = pytest.mark.slow
DESK = {"width": 1366, "height": 900}


def background(page: Page, selector: str) -> str:
    return str(page.locator(selector).evaluate("e => getComputedStyle(e).backgroundColor"))


def test_the_reviewer_reads_the_text_first_and_decides_with_two_distinct_buttons(
    browser: Any, console: Any
) -> None:
    """Given a submitted report that risks a life, when a supervisor opens it, then a banner
    at the top says so, the transcript and details come before the decision, and Approve
    (primary) and Return (a warning) look different."""
    base, _, db, *_ = console
    reference = the_report(db)
    supervisor = signed_in(browser, base, db, "Sam", Role.SUPERVISOR)
    supervisor.set_viewport_size(DESK)
    signed_in(browser, base, db, "Alex", Role.HANDLER).close()
    written_and_submitted(db, reference, "Alex", urgency="risk_to_life")

    # When the supervisor opens it
    ReviewPage(supervisor, base).open(reference)

    # Then the risk to life is a banner at the top of the first screen
    banner = supervisor.locator("#risk-banner")
    expect(banner).to_contain_text("Risk to life or of serious harm")
    assert box(supervisor, "#risk-banner")["bottom"] < box(supervisor, "#status-strip")["top"] + 1
    assert box(supervisor, "#risk-banner")["bottom"] < DESK["height"] / 3
    # And the text comes first, the thread and the decision after it
    text, details = box(supervisor, "#transcript-text"), box(supervisor, "#report-fields")
    decision = box(supervisor, "#review")
    assert text["bottom"] <= decision["top"] and details["bottom"] <= decision["top"]
    # And Approve and Return look different: the primary action, and a warning
    assert background(supervisor, "#approve") != background(supervisor, "#return")
    expect(supervisor.locator("#approve")).to_have_css("color", "rgb(255, 255, 255)")
    expect(supervisor.locator("#return")).to_have_css("color", "rgb(176, 0, 32)")
    assert box(supervisor, "#approve")["right"] - box(supervisor, "#approve")["left"] < 600
    # And the strip leads to the decision from the top
    supervisor.get_by_role("link", name="Your decision: approve or return").click()
    expect(supervisor).to_have_url(re.compile("#review$"))
    expect(supervisor.locator("#status")).to_have_text("submitted for review")
    assert_accessible(supervisor, "the review, with a risk to life")


def events(db: Database, reference: str) -> list[tuple[str, str]]:
    with db.transaction() as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.report_reference == reference)
            .where(AuditEvent.action.in_(("disseminate", "download")))
            .order_by(AuditEvent.id)
        )
        return [(action, detail) for action, detail in rows]


def test_the_force_gets_no_timestamps_and_a_download_after_the_email_is_a_copy(
    browser: Any, console: Any, tmp_path: Path
) -> None:
    """Given a handler who inserted timestamps with Ctrl+J while transcribing, and a
    supervisor who approved and emailed the report, when the supervisor downloads its PDF,
    then no confirmation is asked, it is audited as a copy (not a second dissemination), and
    neither the email nor the PDF holds a timestamp, which the console still shows."""
    base, _, db, mailbox, *_ = console
    reference = the_report(db)
    with db.transaction() as session:
        link = add_user(session, "Alex", Role.HANDLER, "admin-test").token
        session.get(Force, "West Yorkshire Police").ccu_email = "ccu@wyp.police.example"  # type: ignore[union-attr]
    handler = Handler(browser.new_context(viewport=DESK), base, "Alex", link)
    handler.take_next()
    page = handler.page
    # Given the handler marks the recording's time as they type
    handler.transcript.click()
    page.keyboard.press("Control+j")
    page.keyboard.type("A constable sells police checks. ")
    page.keyboard.press("Control+j")
    page.keyboard.type("He meets the dealer on Fridays.")
    expect(handler.transcript).to_have_value(
        "[00:00] A constable sells police checks. [00:00] He meets the dealer on Fridays."
    )
    page.select_option("#force", "West Yorkshire Police")
    page.select_option("#handler-category", index=1)
    page.fill("#what", "Selling police information")
    handler.saved()
    for check in page.locator("#submit-form input[name=check]").all():
        check.check()
    page.click("#submit")
    expect(page.locator(".flash")).to_contain_text("was sent for review")

    # And a supervisor approves it and emails it to the force
    supervisor = signed_in(browser, base, db, "Sam", Role.SUPERVISOR)
    review = ReviewPage(supervisor, base)
    review.open(reference)
    review.approve()
    review.email_force()
    assert len(mailbox.messages) == 1
    expect(supervisor.locator("#already-sent li")).to_have_count(1)

    # When they download the PDF, ticking nothing
    expect(supervisor.locator("#download-pdf")).to_have_text("Download a copy (PDF)")
    expect(supervisor.locator("#copy-note")).to_contain_text("audited as a download")
    assert_accessible(supervisor, "a disseminated report, offering copies")
    with supervisor.expect_download() as download:
        supervisor.click("#download-pdf")
    saved = tmp_path / "copy.pdf"
    download.value.save_as(saved)

    # Then it is a copy: audited as a download, no second dissemination
    assert events(db, reference) == [
        ("disseminate", "email to West Yorkshire Police"),
        ("download", "downloaded a copy as a PDF (already disseminated to West Yorkshire Police)"),
    ]
    with db.transaction() as session:
        assert len(session.scalars(select(Dissemination)).all()) == 1
    supervisor.reload()
    expect(supervisor.locator("#already-sent li")).to_have_count(1)
    expect(supervisor.locator("#already-sent")).not_to_contain_text("PDF download")
    # And the email and the PDF hold the words without the timestamps, which the console shows
    assert "[00:00]" not in mailbox.messages[0].as_string()
    pdf = PdfReader(io.BytesIO(saved.read_bytes()))
    text = " ".join(p.extract_text() for p in pdf.pages)
    assert "A constable sells police checks. He meets the dealer on Fridays." in text
    assert "[00:00]" not in text
    expect(supervisor.locator("#transcript-text")).to_contain_text("[00:00] A constable")

    # And sending the email again still asks first
    supervisor.click("#send-email")
    expect(supervisor.locator("#send-again")).to_be_focused()
    assert len(mailbox.messages) == 1
