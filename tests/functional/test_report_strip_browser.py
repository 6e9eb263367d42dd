"""The handler's status strip: what the report is doing, whether the work is saved, and what
blocks submitting stay in view while they type; a refused submit brings them to its reasons,
each beside its field; an online report's words and files sit beside the transcript."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ivr.models.reports import Report, ReportSource
from ivr.models.staff import Role, User
from ivr.reports import workflow
from ivr.staff.accounts import add_user
from tests.functional.axe import assert_accessible
from tests.functional.pages_report import (
    Handler,
    box,
    in_view_below_strip,
    strip_blockers,
    tab_into,
)
from tests.online.helpers import photo_with_gps, send

pytestmark = pytest.mark.slow
DESK = {"width": 1366, "height": 900}
NARROW = {"width": 800, "height": 800}


def a_handler(browser: Any, console: Any, viewport: dict[str, int] = DESK) -> Handler:
    base, _, db, *_ = console
    with db.transaction() as session:
        link = add_user(session, "Alex", Role.HANDLER, "admin-test").token
    handler = Handler(browser.new_context(viewport=viewport), base, "Alex", link)
    handler.take_next()
    return handler


@pytest.mark.parametrize("viewport", [DESK, NARROW], ids=["1366x900", "800x800"])
def test_the_status_and_the_save_state_stay_in_view_while_the_handler_types(
    browser: Any, console: Any, viewport: dict[str, int]
) -> None:
    """Given a handler who has just taken a report, in a 1366x900 or an 800 px window,
    when they type a long transcript, then the strip at the top of the window says the
    report is in progress with them, and "Unsaved changes" then "Saved", all the while."""
    handler = a_handler(browser, console, viewport)
    page = handler.page
    # When they type a transcript longer than the window, the page scrolled down to it
    handler.transcript.fill("\n".join(f"Line {n} of what the caller said." for n in range(60)))
    page.evaluate("() => window.scrollTo(0, 350)")
    handler.transcript.focus()
    page.keyboard.press("Control+End")
    page.keyboard.type(" And the last words.")
    assert page.evaluate("() => window.scrollY") > 100

    # Then the save state is in view, in the strip, and says the words are saved
    assert handler.in_view("#autosave-state")
    assert handler.in_view("#status-strip")
    handler.saved()
    assert handler.in_view("#autosave-state") and handler.in_view("#status")
    # And the status says who is working on it
    expect(page.locator("#status")).to_have_text("in progress (Alex)")
    # And the strip leaves the transcript in view below it, where they type
    strip_bottom = page.locator("#status-strip").evaluate("s => s.getBoundingClientRect().bottom")
    typed_bottom = page.locator("#transcript").evaluate("t => t.getBoundingClientRect().bottom")
    assert typed_bottom > strip_bottom + 100, (typed_bottom, strip_bottom)

    # And further down, writing what happened, the strip is still in view
    page.locator("#what").click()
    page.keyboard.type("Selling police information")
    expect(page.locator("#autosave-state")).to_have_text("Unsaved changes")
    assert handler.in_view("#autosave-state") and in_view_below_strip(page, "#what")
    handler.saved()
    # And a change typed back to what was saved reads as saved, not as unsaved for ever
    saved_text = handler.transcript.input_value()
    handler.transcript.fill(saved_text + " x")
    handler.transcript.fill(saved_text)
    handler.saved()
    assert_accessible(page, f"the report page with its status strip at {viewport['width']} px")

    # And the strip is the first thing a keyboard reaches in the main content
    assert tab_into(page, "#status-strip") <= 2


def test_what_blocks_submit_is_listed_before_and_a_refused_submit_shows_each_reason(
    browser: Any, console: Any
) -> None:
    """Given a handler who wrote the transcript and chose the force, the strip lists what
    still blocks submitting, "What happened" among it; when they submit anyway, the page
    comes back at its reasons, focused, each a link to the field, where it is said again."""
    handler = a_handler(browser, console)
    page = handler.page
    handler.transcript.fill("A constable passes police checks to a car dealer for cash.")
    page.select_option("#force", "West Yorkshire Police")
    handler.saved()

    # Then, before any submit, the strip lists what blocks it, and the fields say so
    expect(strip_blockers(page)).to_have_text(
        ["Choose a category", "Say what happened", "Tick the 3 checks"]
    )
    expect(page.get_by_text("What happened (needed to submit)")).to_be_visible()
    # And each is a link that puts the cursor in its field, below the strip
    strip_blockers(page).get_by_text("Choose a category").click()
    expect(page.locator("#handler-category")).to_be_focused()
    assert in_view_below_strip(page, "#handler-category")
    page.select_option("#handler-category", index=1)
    expect(strip_blockers(page)).to_have_text(["Say what happened", "Tick the 3 checks"])
    handler.saved()

    # When they tick the checks and submit without saying what happened
    for box_ in page.locator("#submit-form input[name=check]").all():
        box_.check()
    expect(strip_blockers(page)).to_have_text(["Say what happened"])
    page.click("#submit")

    # Then the page comes back at the reasons, in view and focused, not at the top
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Not submitted")
    assert in_view_below_strip(page, "#error-summary")
    expect(summary.get_by_role("link")).to_have_text(["Say what happened"])
    expect(page.locator("#status")).to_have_text("in progress (Alex)")
    assert_accessible(page, "the report page after a refused submit")

    # And the reason's link leads to the field, where it is said again
    summary.get_by_role("link", name="Say what happened").click()
    expect(page.locator("#what")).to_be_focused()
    assert in_view_below_strip(page, "#what")
    expect(page.locator("#what-error")).to_have_text("Error: Say what happened")
    assert in_view_below_strip(page, "#what-error")
    assert page.locator("#what").get_attribute("aria-describedby") == "what-hint what-error"

    # And once they say it and tick the checks again, the strip says it is ready
    page.fill("#what", "Selling police information")
    for box_ in page.locator("#submit-form input[name=check]").all():
        box_.check()
    expect(page.locator("#ready-to-submit")).to_be_visible()
    expect(strip_blockers(page)).to_have_count(0)
    assert_accessible(page, "the report page, ready to submit")
    handler.saved()
    page.click("#submit")
    expect(page.locator(".flash")).to_contain_text("was sent for review")


def test_an_online_reports_words_and_photo_sit_beside_the_transcript_above_the_thread(
    browser: Any, console: Any
) -> None:
    """Given an online report sent with a photo, when a handler takes it, then the sender's
    words and photo are beside the transcript they start (above it in a narrow window) and
    above the review thread, not below it."""
    base, _, db, _, _, app = console
    sent = send(
        app.test_client(),
        what="PLANTED-WHAT a sergeant took cash at the custody desk",
        files=[(photo_with_gps(), "IMG_0042.jpg")],
    )
    assert sent.status_code == 200
    with db.transaction() as session:
        link = add_user(session, "Alex", Role.HANDLER, "admin-test").token
    handler = Handler(browser.new_context(viewport=DESK), base, "Alex", link)
    with db.transaction() as session:
        reference = session.scalars(
            select(Report.reference).where(Report.source == ReportSource.ONLINE)
        ).one()
        alex = session.scalars(select(User).where(User.name == "Alex")).one()
        session.expunge(alex)
    workflow.take(db, alex, reference)
    handler.reference = reference
    handler.open_report()
    page = handler.page
    expect(page.locator("#online")).to_contain_text("PLANTED-WHAT")
    expect(page.locator("#online .attachment-image")).to_be_visible()
    # Then, at 1366 px, beside the transcript, in the first screen, and above the thread
    online, transcript, thread = (
        box(page, "#online"),
        box(page, "#transcript"),
        box(page, "#thread"),
    )
    assert online["left"] >= transcript["right"], (online, transcript)
    assert online["top"] < DESK["height"] and online["top"] < thread["top"]
    expect(page.locator("#recording-heading")).to_have_count(0)  # no "the caller did not speak"
    assert_accessible(page, "an online report being written, at 1366 px")

    # And, in an 800 px window, above the transcript
    page.set_viewport_size(NARROW)
    online, transcript = box(page, "#online"), box(page, "#transcript")
    assert online["bottom"] <= transcript["top"], (online, transcript)
    assert_accessible(page, "an online report being written, at 800 px")
