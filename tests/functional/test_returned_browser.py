"""A returned report goes back to the handler who wrote it, and says why."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from ivr.models.staff import Role
from tests.functional.axe import assert_accessible
from tests.functional.pages_queue import ReviewPage, ScannableQueuePage, a_report
from tests.functional.test_queue_and_review_browser import (
    signed_in,
    the_report,
    written_and_submitted,
)

pytestmark = pytest.mark.slow


def test_a_returned_report_is_first_in_its_authors_reports_and_nobody_elses(
    browser: Any, console: Any
) -> None:
    base, _, db, _, _, _ = console
    reference = the_report(db)
    # Given Alex holds a report of their own and has submitted another for review
    alex = signed_in(browser, base, db, "Alex", Role.HANDLER)
    written_and_submitted(db, reference, "Alex")
    own = a_report(db)
    alex_queue = ScannableQueuePage(alex, base)
    alex_queue.open()
    alex_queue.take(own)

    # When Sam, a supervisor, returns the submitted one, saying what needs changing
    sam = signed_in(browser, base, db, "Sam", Role.SUPERVISOR)
    review = ReviewPage(sam, base)
    review.open(reference)
    review.return_to_handler("Remove the street name from the transcript")

    # Then Alex's navigation counts it, on any page
    alex_queue.open()
    expect(alex.locator("#nav-my-reports")).to_contain_text("1 returned")
    assert_accessible(alex, "the queue, with a returned report counted")
    # And it is first in Alex's reports, held by Alex, marked returned with Sam's words
    alex_queue.open_my_reports()
    first = alex.locator("#queue tbody tr").first
    expect(first).to_have_attribute("data-reference", reference)
    expect(alex_queue.cell(reference, "Status")).to_contain_text("returned (Alex)")
    expect(alex_queue.cell(reference, "Status")).to_contain_text("Remove the street name")
    expect(alex_queue.row(own)).to_be_visible()
    assert_accessible(alex, "my reports, with a returned report first")

    # And Blake, another handler, neither sees it to take nor gets it from Take next
    blake = signed_in(browser, base, db, "Blake", Role.HANDLER)
    blake_queue = ScannableQueuePage(blake, base)
    blake_queue.open()
    expect(blake_queue.row(reference)).to_have_count(0)
    blake_queue.take_next()
    expect(blake.locator(".flash")).to_contain_text("No report in English is waiting")

    # And Sam sees who has it, with no Take button, and can still reassign it
    sam_queue = ScannableQueuePage(sam, base)
    sam_queue.open()
    expect(sam_queue.cell(reference, "Status")).to_contain_text("returned (Alex)")
    expect(sam_queue.cell(reference, "Action").get_by_role("button")).to_have_count(0)
    review.open(reference)
    sam.select_option("select[name=to]", label="Blake")
    sam.get_by_role("button", name="Release or reassign").click()
    blake_queue.open_my_reports()
    expect(blake_queue.row(reference)).to_be_visible()
