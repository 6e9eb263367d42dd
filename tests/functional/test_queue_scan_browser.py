"""A queue people can scan: whole words, the channel, age in days, who has it, Review."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from ivr.models.reports import ReportSource, Urgency
from ivr.models.staff import Role
from ivr.platform.db import utcnow
from ivr.reports import workflow
from tests.functional.axe import assert_accessible, assert_no_sideways_scroll
from tests.functional.pages_queue import ScannableQueuePage, a_report, user_named
from tests.functional.test_queue_and_review_browser import (
    signed_in,
    the_report,
    written_and_submitted,
)

pytestmark = pytest.mark.slow
WIDE = {"width": 1366, "height": 900}
NARROW = {"width": 800, "height": 900}


def test_a_supervisor_scans_the_queue_at_1366_and_800_px(browser: Any, console: Any) -> None:
    base, _, db, _, _, _ = console
    # Given a morning's queue: the call the fixture made, a report sent online, a Welsh
    # call from three days ago with contact details and a risk to life, a call Alex is
    # working on, and one Alex has submitted for review
    phone = the_report(db)
    online = a_report(
        db, source=ReportSource.ONLINE, has_audio=False, duration_seconds=None, silent=True
    )
    old = a_report(
        db,
        language="cy-GB",
        received_on=utcnow().date() - timedelta(days=3),
        contact_left=True,
        urgency=Urgency.RISK_TO_LIFE,
    )
    held, submitted = a_report(db), a_report(db)
    sam = signed_in(browser, base, db, "Sam", Role.SUPERVISOR)
    signed_in(browser, base, db, "Alex", Role.HANDLER)
    workflow.take(db, user_named(db, "Alex"), held)
    written_and_submitted(db, submitted, "Alex")

    for size, name in ((WIDE, "1366 px"), (NARROW, "800 px")):
        # When Sam opens the queue in a window of that width
        sam.set_viewport_size(size)
        queue = ScannableQueuePage(sam, base)
        queue.open()
        # Then no header or value is broken inside a word
        assert queue.broken_words() == [], name
        assert_no_sideways_scroll(sam, f"the queue at {name}")
        assert_accessible(sam, f"the supervisor's queue at {name}")
        # And the online report says so: no length, no "no audio", no "silent"
        expect(queue.cell(online, "Channel")).to_have_text("online")
        expect(queue.cell(online, "Length")).to_have_text("written")
        expect(queue.row(online)).not_to_contain_text("0:00")
        expect(queue.cell(online, "Flags")).not_to_contain_text("no audio")
        expect(queue.cell(online, "Flags")).not_to_contain_text("silent")
        expect(queue.cell(phone, "Channel")).to_have_text("phone")
        # And age is in whole days, status says who works on it
        expect(queue.cell(old, "Age")).to_have_text("3 days")
        expect(queue.cell(phone, "Age")).to_have_text("today")
        expect(queue.cell(held, "Status")).to_have_text("in progress (Alex)")
        expect(queue.cell(submitted, "Status")).to_have_text("submitted for review")

    # When Sam chooses Review on the submitted row
    queue.cell(submitted, "Action").get_by_role("link", name=f"Review {submitted}").click()
    # Then its page opens at the review
    expect(sam).to_have_url(re.compile(f"/console/reports/{submitted}#review$"))
    expect(sam.locator("#review")).to_be_visible()
