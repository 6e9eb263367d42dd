"""The operations team at work in the browser: the editor, the test phone by keyboard,
publishing with a message, prompts as drafts, and every page accessible."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, expect

from ivr.models.staff import Role
from ivr.staff.accounts import add_user
from tests.conftest import SAMPLES
from tests.functional.axe import assert_accessible
from tests.functional.pages import EnrolPage, FlowsPage, SignInPage, ready

pytestmark = pytest.mark.slow
PASSWORD = "a long and private passphrase"
THANKS = "concerned. Goodbye."


def signed_in_ops(browser: Any, console: Any, **context: Any) -> tuple[Page, FlowsPage]:
    base, _config, db, _mailbox, _emulator, _app = console
    with db.transaction() as session:
        link = add_user(session, "Robin", Role.OPS, "admin-test").token
    page = browser.new_context(**context).new_page()
    secret = EnrolPage(page).enrol(f"{base}/console/enrol/{link}", PASSWORD)
    SignInPage(page, base).sign_in("Robin", PASSWORD, secret)
    return page, FlowsPage(page, base)


def answer_dialogs(page: Page, accept: bool) -> list[str]:
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", answer)
    return asked


def test_edit_jump_to_a_problem_try_by_keyboard_and_publish_with_a_message(
    browser: Any, console: Any
) -> None:
    base = console[0]
    # Given an operations person on the call-flow pages
    page, flows = signed_in_ops(browser, console)
    page.goto(f"{base}/console/flows/")
    assert_accessible(page, "the call-flow overview")

    # When they open the editor, it numbers its lines
    page.click("#edit-flow")
    expect(page.locator(".CodeMirror-linenumber").first).to_be_visible()
    assert_accessible(page, "the flow editor")
    text = flows.flow_text()
    # and a broken reference is refused with its line, which jumps the editor there
    flows.write_flow(text.replace("next: anonymity_promise", "next: nowhere", 1))
    page.fill("input[name=message]", "typo")
    page.click("#save-draft")
    problem = page.locator("a.problem-line").first
    expect(problem).to_be_visible()
    assert_accessible(page, "the editor with problems")
    line = int(problem.get_attribute("data-line") or 0)
    assert (
        "next: nowhere"
        in text.replace("next: anonymity_promise", "next: nowhere", 1).splitlines()[line - 1]
    )
    problem.click()
    expect(page.locator(".CodeMirror-focused")).to_be_visible()
    assert page.evaluate("() => window.flowEditor.getCursor().line") == line - 1
    expect(page.locator(".CodeMirror .jumped-line")).to_contain_text("next: nowhere")
    expect(page.locator(".CodeMirror .jumped-line")).to_be_in_viewport()

    # When they fix it and reword the thanks, the draft shows what it changes
    flows.write_flow(text.replace(THANKS, "concerned. Take care.", 1))
    page.fill("input[name=message]", "kinder thanks")
    page.click("#save-draft")
    expect(page.locator("#steps-changed")).to_have_text("thanks")
    expect(page.locator("#steps-removed")).to_have_text("none")
    assert flows.diagram_drawn()
    assert_accessible(page, "a draft version's page")

    # and the test phone answers the keyboard while it has focus
    flows.call()
    page.focus("#test-phone")
    page.keyboard.press("1")
    expect(page.locator("#phone-transcript")).to_contain_text("You press 1")
    expect(page.locator("#phone-transcript")).to_contain_text("immediate danger")
    assert_accessible(page, "the test phone mid-call")

    # When they publish with only spaces as the message, nothing is published
    page.fill("#publish-message", "   ")
    asked = answer_dialogs(page, accept=True)
    page.click("#publish")
    expect(page.locator("#publish-error")).to_contain_text("say what this version changes")
    assert asked == ["Publish version 2 to all callers?"]
    assert page.input_value("#publish-message") == "   "
    assert_accessible(page, "a refused publish")
    # and when they decline the question, nothing is sent
    page.fill("#publish-message", "kinder thanks for callers")
    answer_dialogs(page, accept=False)
    page.click("#publish")
    expect(page.locator("#version-state")).to_have_text("draft")
    # Then, confirmed with a message, the version is published and the history keeps both
    assert flows.publish(2, "kinder thanks for callers") == "Publish version 2 to all callers?"
    history = page.locator("#history")
    expect(history).to_contain_text("kinder thanks for callers")
    expect(history).to_contain_text("kinder thanks")
    expect(history).to_contain_text("first published from hotline.yaml")
    assert_accessible(page, "the overview after a publish")
    page.goto(f"{base}/console/flows/diff?from=1&to=2")
    assert_accessible(page, "the comparison page")


def test_a_prompt_is_tried_as_a_draft_then_published_and_forms_keep_their_text(
    browser: Any, console: Any
) -> None:
    base = console[0]
    page, flows = signed_in_ops(browser, console)
    # Given a recording uploaded for the safety message, through its labelled file input
    page.goto(f"{base}/console/flows/")
    ready(page)
    page.select_option("select[name=step]", "safety")
    page.select_option("select[name=language]", "en-GB")
    page.get_by_label("Recording (.wav or .mp3)").set_input_files(SAMPLES / "report-en.wav")
    page.click("#upload-prompt button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("saved as a draft")
    expect(page.locator("#prompts")).to_contain_text("report-en.wav")
    expect(page.locator("#prompts")).to_contain_text("the spoken text")
    assert_accessible(page, "the overview with a draft prompt")

    # When the test phone calls, it plays the draft recording
    page.goto(f"{base}/console/flows/v/1")
    flows.call()
    flows.press("1")
    player = page.locator("#phone-transcript audio")
    expect(player).to_have_count(1)
    assert_accessible(page, "the test phone playing a draft prompt")

    # Then, published with a message and confirmed, callers hear it
    page.goto(f"{base}/console/flows/")
    ready(page)
    page.fill("#publish-prompts input[name=message]", "recorded safety message")
    asked = answer_dialogs(page, accept=True)
    page.click("#publish-prompts button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("1 prompt change(s) published")
    assert asked == ["Publish the draft prompt changes to all callers?"]
    expect(page.locator("#prompts")).not_to_contain_text("the spoken text")
    # and removing it is a draft again
    page.get_by_role("button", name="Remove the recording of safety (en-GB)").click()
    expect(page.locator("#prompts")).to_contain_text("remove the recording")

    # When an announcement in English only is switched on, it is refused but kept
    page.fill("textarea[name=text_en-GB]", "Lines are busy during our national appeal.")
    page.check("input[name=active]")
    page.click("#announcement button[type=submit]")
    expect(page.locator(".flash.error")).to_contain_text("give the announcement in every language")
    expect(page.locator("textarea[name=text_en-GB]")).to_have_value(
        "Lines are busy during our national appeal."
    )
    expect(page.locator("input[name=active]")).to_be_checked()
    assert_accessible(page, "a refused announcement")


def test_the_editor_works_without_javascript(browser: Any, console: Any) -> None:
    base = console[0]
    # Given a browser with JavaScript off
    page, _flows = signed_in_ops(browser, console, java_script_enabled=False)
    # When they edit the plain textarea and save
    page.goto(f"{base}/console/flows/edit")
    text = page.input_value("#flow-text")
    page.fill("#flow-text", text.replace(THANKS, "concerned. Take care.", 1))
    page.fill("input[name=message]", "kinder thanks, no script")
    page.click("#save-draft")
    # Then the draft is saved
    expect(page.locator(".flash")).to_contain_text("Saved as version 2")
