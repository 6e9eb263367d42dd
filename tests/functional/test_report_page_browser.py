"""A handler's words survive leaving, a break and the session's end; findings show in the
transcript; the keys act on the player in use; a reviewer reads the report as text."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Dialog, expect
from sqlalchemy import select

from ivr.models.reports import Report
from ivr.models.staff import Role
from ivr.staff.accounts import add_user
from tests.functional.axe import assert_accessible
from tests.functional.pages_report import Handler, poll

pytestmark = pytest.mark.slow
DESK = {"width": 1366, "height": 800}


def a_handler(browser: Any, console: Any, **context: Any) -> Handler:
    base, _, db, *_ = console
    with db.transaction() as session:
        link = add_user(session, "Alex", Role.HANDLER, "admin-test").token
    handler = Handler(browser.new_context(viewport=DESK, **context), base, "Alex", link)
    handler.take_next()
    return handler


def stored_transcript(db: Any) -> str:
    with db.transaction() as session:
        return str(session.scalars(select(Report.transcript)).one())


def test_words_typed_just_before_leaving_are_kept(browser: Any, console: Any) -> None:
    _, _, db, *_ = console
    handler = a_handler(browser, console)
    assert_accessible(handler.page, "the report page, editing")

    # When the handler types and at once clicks away to the queue
    handler.type("The last words before leaving.")
    handler.go_to_queue()

    # Then the console has every word, and they are there on coming back
    poll(lambda: "The last words before leaving." in stored_transcript(db), "the saved words")
    handler.open_report()
    expect(handler.transcript).to_have_value(re.compile("The last words before leaving.$"))
    expect(handler.page.locator("#restore-offer")).to_be_hidden()


def test_leaving_with_words_that_cannot_be_sent_warns_then_they_are_saved(
    browser: Any, console: Any
) -> None:
    _, _, db, *_ = console
    handler = a_handler(browser, console)

    # Given the connection drops while the handler types
    handler.context.set_offline(True)
    handler.type("Typed while offline.")
    expect(handler.page.locator("#autosave-state")).to_contain_text("Not saved")

    # When they try to leave, the browser asks first, and they stay
    asked: list[str] = []

    def stay(dialog: Dialog) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    handler.page.once("dialog", stay)
    handler.page.evaluate("() => { location.href = '/console/'; }")
    poll(lambda: asked, "the warning before leaving")
    assert asked == ["beforeunload"]

    # Then, once the connection is back, the words are saved without their doing anything
    handler.context.set_offline(False)
    handler.saved()
    assert stored_transcript(db).endswith("Typed while offline.")


@pytest.mark.parametrize("console", [{"session_idle_minutes": 1}], indirect=True)
def test_after_the_session_ends_the_unsaved_words_are_offered_back(
    browser: Any, console: Any
) -> None:
    _, _, db, *_ = console
    # The page's clock is the test's, so that a break can be a real one (the server's) while
    # the page sleeps, as a laptop does with its lid closed.
    context = browser.new_context(viewport=DESK)
    context.clock.install()
    base = console[0]
    with db.transaction() as session:
        link = add_user(session, "Alex", Role.HANDLER, "admin-test").token
    handler = Handler(context, base, "Alex", link)
    handler.take_next()
    handler.type("Before the break. ")
    handler.saved()

    # When half the idle limit passes, the page warns, and "Stay signed in" keeps the session
    context.clock.fast_forward(31_000)
    warning = handler.page.locator("#idle-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("You will be signed out in about 1 minute")
    assert_accessible(handler.page, "the report page with the idle warning")
    handler.page.click("#stay-signed-in")
    expect(warning).to_be_hidden()

    # And when the handler is away past the limit (the browser drops the session)
    now = float(handler.page.evaluate("() => Date.now()"))
    context.clock.pause_at(now / 1000 + 0.5)
    poll(lambda: not handler.session_cookie(), "the session to end", seconds=180)
    context.clock.resume()

    # Then words typed after the break are not saved, and the page says so plainly
    handler.type("After the break.")
    expect(handler.page.locator("#signed-out")).to_be_visible()
    expect(handler.page.locator("#autosave-state")).to_contain_text("you were signed out")
    assert "After the break." not in stored_transcript(db)

    # When they sign in again, the same report offers the words back, and restores them
    handler.sign_in_again()
    expect(handler.page).to_have_url(re.compile(f"/console/reports/{handler.reference}$"))
    offer = handler.page.locator("#restore-offer")
    expect(offer).to_contain_text("You had unsaved text from before you were signed out")
    assert_accessible(handler.page, "the report page offering text back")
    handler.page.click("#restore-text-button")
    expect(offer).to_be_hidden()
    expect(handler.transcript).to_have_value("Before the break. After the break.")
    handler.saved()
    assert stored_transcript(db) == "Before the break. After the break."
    # And nothing is kept in the tab once used
    assert handler.page.evaluate("() => sessionStorage.length") == 0
    assert handler.page.evaluate("() => localStorage.length") == 0

    # And a page left alone past the limit clears the screen for the sign-in page
    context.clock.fast_forward(61_000)
    expect(handler.page).to_have_url(re.compile(r"/console/sign-in\?next="))


def test_findings_are_highlighted_in_the_transcript_and_the_list_jumps_to_them(
    browser: Any, console: Any
) -> None:
    handler = a_handler(browser, console)
    # Given a long transcript whose caller gives a name early and a number far down
    lines = [f"Line {n} of what the caller said about the sergeant." for n in range(40)]
    lines[2] = "My name is Jo Bloggs and I work there."
    lines[35] = "You can ring me on 07700 900123 in the evening."
    handler.transcript.fill("\n".join(lines))
    handler.saved()

    # Then both are highlighted in the copy of the transcript, and listed beside it, in view
    marks = handler.page.locator("#transcript-marks mark")
    expect(marks).to_have_text(["Jo Bloggs", "07700 900123"])
    buttons = handler.finding_buttons()
    expect(buttons).to_have_text(["the caller's name: Jo Bloggs", "phone number: 07700 900123"])
    handler.page.evaluate("() => window.scrollTo(0, 0)")
    assert handler.in_view("#warnings") and handler.in_view("#transcript")

    # When the handler picks the number in the list
    buttons.nth(1).click()

    # Then it is selected in the transcript, scrolled into the textarea's view
    assert handler.selected_text() == "transcript:07700 900123"
    assert float(handler.transcript.evaluate("t => t.scrollTop")) > 0
    expect(marks.nth(1)).to_have_class("current")

    # And after an edit the findings follow the saved text
    handler.transcript.fill("Nothing to see here.")
    handler.saved()
    expect(buttons).to_have_count(0)
    expect(handler.page.locator("#no-warnings")).to_be_visible()


def test_keys_act_on_the_player_in_use_and_insert_its_time(browser: Any, console: Any) -> None:
    handler = a_handler(browser, console)
    contact = "Recording of the contact details"
    report = "Recording of the report"
    expect(handler.page.locator("#keys")).to_contain_text("Ctrl+J")

    # Given the handler plays the contact details' recording with its own controls, then pauses
    handler.player(contact).evaluate("a => a.play()")
    poll(lambda: handler.position(contact) > 3, "the contact recording to play on")
    handler.player(contact).evaluate("a => a.pause()")
    expect(handler.page.locator("#active-player")).to_have_text(
        "the recording of the contact details"
    )

    # When they type in the transcript and press Esc, that recording plays, not the report's
    handler.type("Contact says ")
    handler.page.keyboard.press("Escape")
    poll(lambda: handler.playing(contact), "the contact recording to play")
    assert not handler.playing(report)

    # And pausing by key goes back about two seconds, to repeat the last words
    poll(lambda: handler.position(contact) > 5, "the contact recording to play on")
    before = handler.position(contact)
    handler.page.keyboard.press("Escape")
    assert not handler.playing(contact)
    paused_at = handler.position(contact)
    assert before - 2.2 <= paused_at <= before - 0.5

    # And Ctrl+J writes the recording's time where they are typing
    handler.page.keyboard.press("Control+j")
    minute, second = divmod(int(paused_at), 60)
    expect(handler.transcript).to_have_value(
        re.compile(re.escape(f"Contact says [{minute:02d}:{second:02d}] ") + "$")
    )


def test_a_reviewer_reads_the_report_as_text(browser: Any, console: Any) -> None:
    handler = a_handler(browser, console)
    handler.transcript.fill("First part of the account.\n\nMy name is Jo Bloggs, that is all.")
    handler.page.select_option("#force", "West Yorkshire Police")
    handler.page.select_option("#handler-category", index=1)
    handler.page.fill("#what", "Selling police information")
    handler.saved()
    for box in handler.page.locator("#submit-form input[type=checkbox]").all():
        box.check()
    handler.page.click("#submit")
    expect(handler.page.locator(".flash")).to_contain_text("was sent for review")

    # When the handler opens it again, out of their hands, it reads as text
    handler.open_report()
    page = handler.page
    expect(page.locator("#transcript-text p")).to_have_text(
        ["First part of the account.", "My name is Jo Bloggs, that is all."]
    )
    expect(page.locator("#transcript-text mark")).to_have_text("Jo Bloggs")
    expect(page.locator("#report-fields")).to_contain_text("Selling police information")
    expect(page.locator("textarea#transcript, fieldset[disabled]")).to_have_count(0)
    # And the skip link leads to the transcript
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.get_by_role("link", name="Skip to transcript").press("Enter")
    expect(page.locator("#transcript-text")).to_be_focused()
    assert_accessible(page, "the report page, readable view")


def stored_urgency(db: Any) -> str:
    with db.transaction() as session:
        return str(session.scalars(select(Report.urgency)).one())


def test_a_choice_made_before_the_page_is_ready_is_still_saved(browser: Any, console: Any) -> None:
    _, _, db, *_ = console
    handler = a_handler(browser, console)
    page = handler.page
    held: list[Any] = []
    page.route(re.compile(r"/static/report\.js"), lambda route: held.append(route))
    # Given a slow machine: the report page is on screen, its script still on its way
    page.goto(f"{handler.base}/console/reports/{handler.reference}", wait_until="commit")
    expect(page.locator("#urgency")).to_be_visible()
    while not held:
        page.wait_for_timeout(100)  # lets Playwright hand over the held request

    # When the handler marks it a risk to life before the script has run
    page.select_option("#urgency", "risk_to_life")

    # Then, once the script arrives, the choice is saved without touching anything else
    held[0].continue_()
    handler.saved()
    poll(lambda: stored_urgency(db) == "risk_to_life", "the urgency to be saved")
