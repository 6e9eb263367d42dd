"""Language as a skill: Take next offers a handler only reports in their languages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from ivr.models.staff import Role
from tests.functional.axe import assert_accessible
from tests.functional.pages_queue import ScannableQueuePage, a_report
from tests.functional.test_queue_and_review_browser import signed_in, the_report

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("console", [{"language_wait_alert_after": 1}], indirect=True)
def test_a_welsh_call_waits_for_a_welsh_speaker_and_supervisors_are_told(
    browser: Any, console: Any
) -> None:
    base, _, db, _, _, _ = console
    english = the_report(db)
    # Given a Welsh call ahead of an English one in the queue (the oldest first)
    welsh = a_report(db, language="cy-GB", queue_position=0)
    # And Alex, whose account lists English only, as every new account does
    alex = signed_in(browser, base, db, "Alex", Role.HANDLER)
    queue = ScannableQueuePage(alex, base)
    queue.open()
    expect(queue.cell(welsh, "Language")).to_have_text("Welsh")
    expect(queue.cell(welsh, "Action")).to_have_text("for a Welsh speaker")
    expect(queue.cell(welsh, "Action").get_by_role("button")).to_have_count(0)
    assert_accessible(alex, "the queue, with a report for a Welsh speaker")

    # When Alex presses Take next
    queue.take_next()
    # Then Alex gets the English call, not the older Welsh one
    expect(alex).to_have_url(re.compile(f"/console/reports/{english}$"))
    # And pressing it again offers nothing: the Welsh call is not Alex's to take
    queue.open()
    queue.take_next()
    expect(alex.locator(".flash")).to_contain_text("No report in English is waiting")
    # And the filter shows the Welsh calls alone
    queue.filter_language("cy-GB")
    expect(alex.locator("#queue tbody tr")).to_have_count(1)
    expect(queue.row(welsh)).to_be_visible()
    assert_accessible(alex, "the queue filtered to Welsh")

    # When a later report has been taken and the Welsh one still waits, Sam is told
    sam = signed_in(browser, base, db, "Sam", Role.SUPERVISOR)
    sam_queue = ScannableQueuePage(sam, base)
    sam_queue.open()
    attention = sam.locator("#urgent")
    expect(attention).to_be_visible()
    expect(attention).to_contain_text("Waiting for a speaker of its language")
    expect(attention).to_contain_text(f"{welsh} (Welsh")
    assert_accessible(sam, "the queue, with a Welsh report waiting for a speaker")

    # When an admin adds Welsh to Alex's languages on the Users page
    ada = signed_in(browser, base, db, "Ada", Role.ADMIN)
    row = ada.locator("tr[data-user=Alex]")
    row.get_by_label("Welsh").check()
    row.get_by_role("button", name="Save languages for Alex").click()
    expect(ada.locator(".flash")).to_contain_text("Alex now takes reports in English and Welsh")
    assert_accessible(ada, "users, with languages")
    # Then Take next gives Alex the Welsh call
    queue.open()
    queue.take_next()
    expect(alex).to_have_url(re.compile(f"/console/reports/{welsh}$"))


def test_a_supervisor_takes_the_next_report_in_any_language(browser: Any, console: Any) -> None:
    base, _, db, _, _, _ = console
    # Given the English call is taken and a Welsh one waits
    the_report(db)
    welsh = a_report(db, language="cy-GB")
    sam = signed_in(browser, base, db, "Sam", Role.SUPERVISOR)
    queue = ScannableQueuePage(sam, base)
    queue.open()
    queue.take_next()
    queue.open()
    # When Sam, who speaks English only, chooses "Take next in any language"
    sam.click("#take-next-any")
    # Then the Welsh call is Sam's
    expect(sam).to_have_url(re.compile(f"/console/reports/{welsh}$"))
