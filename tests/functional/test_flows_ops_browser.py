"""The operations team at work in the browser: the editor, the test phone by keyboard,
publishing with a message, prompts as drafts, and every page accessible."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, Route, expect

from ivr.models.staff import Role
from ivr.staff.accounts import add_user
from tests.conftest import SAMPLES
from tests.functional.axe import assert_accessible, assert_no_sideways_scroll
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


WIDE = {"width": 1366, "height": 900}
# The diagram as the page shows it: its frame (or the image, where it has none).
DRAWING = ".diagram-frame, img.diagram >> nth=0"

# The step boxes whose text reaches past their shape, in an SVG drawn inline.
CUT_LABELS = """() => [...document.querySelectorAll('g.node')].filter(node => {
    const shapes = [...node.querySelectorAll('polygon, ellipse, path, polyline')].map(s => s.getBBox());
    if (!shapes.length) return false;
    const left = Math.min(...shapes.map(b => b.x)), right = Math.max(...shapes.map(b => b.x + b.width));
    const top = Math.min(...shapes.map(b => b.y)), bottom = Math.max(...shapes.map(b => b.y + b.height));
    return [...node.querySelectorAll('text')].some(t => {
        const b = t.getBBox();
        return b.x < left - 0.5 || b.x + b.width > right + 0.5 || b.y < top - 0.5 || b.y + b.height > bottom + 0.5;
    });
}).map(node => node.querySelector('title').textContent)"""


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not on the page"
    return found


def test_the_test_phone_sits_beside_a_diagram_drawn_at_a_readable_size(
    browser: Any, console: Any
) -> None:
    """Given an operations person on a draft version's page, on a 1366 px screen,
    then the test phone is beside the diagram, in the first screen, not below the diff;
    and the diagram is shown at its own size (labels of about 15 px), in a frame that
    scrolls, with no label reaching past its box;
    when they scroll down to the changes, the phone stays in view;
    when the window is 1000 px wide, the phone follows the diagram, with no sideways scroll."""
    base = console[0]
    page, flows = signed_in_ops(browser, console, viewport=WIDE)
    draft = flows.edit(lambda text: text.replace(THANKS, "concerned. Take care.", 1), "kinder")
    page.goto(f"{base}/console/flows/v/{draft}")
    assert flows.diagram_drawn()

    frame, phone = box(page, DRAWING), box(page, "#test-phone")
    assert phone["x"] >= frame["x"] + frame["width"], (frame, phone)
    assert phone["y"] < frame["y"] + frame["height"] and phone["y"] < WIDE["height"]
    assert box(page, "#test-phone #call-button")["y"] < WIDE["height"]
    shown, natural = page.locator("img.diagram").evaluate("i => [i.clientWidth, i.naturalWidth]")
    assert shown == natural, "the diagram is shrunk to fit, its labels too small to read"
    svg = page.request.get(page.locator("img.diagram").evaluate("i => i.src")).text()
    sizes = {float(size) for size in re.findall(r'font-size="([\d.]+)"', svg)}
    assert min(sizes) * 4 / 3 >= 13, f"labels of {min(sizes)} pt are too small"  # 1 pt = 4/3 px
    assert_accessible(page, "a version's page, the phone beside the diagram")

    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    expect(page.locator(".changes")).to_be_in_viewport()
    expect(page.locator("#test-phone #call-button")).to_be_in_viewport()

    page.set_viewport_size({"width": 1000, "height": 900})
    frame, phone = box(page, DRAWING), box(page, "#test-phone")
    assert phone["y"] >= frame["y"] + frame["height"]
    assert_no_sideways_scroll(page, "a version's page at 1000 px")
    assert_accessible(page, "a version's page, the phone below the diagram")

    # Drawn inline, in the same browser's fonts, every label fits inside its box.
    drawing = page.context.new_page()
    drawing.set_content(svg[svg.index("<svg") :])
    assert drawing.evaluate(CUT_LABELS) == []


def test_keys_pressed_while_a_step_is_answering_go_to_the_next_steps_in_order(
    browser: Any, console: Any
) -> None:
    """Given an operations person calling the test phone, at the welcome menu,
    when they press 1, then 2 and 3 before the answer to 1 has come back,
    then 2 and 3 wait, shown as waiting, and go in order once it has: 1 carries on in
    English to the main menu, 2 hears how anonymity is protected, 3 the other ways;
    no key is lost and no prompt is said again for a key sent to the wrong step."""
    base = console[0]
    page, flows = signed_in_ops(browser, console, viewport=WIDE)
    page.goto(f"{base}/console/flows/v/1")
    flows.call()
    held: list[Route] = []

    def hold_the_first_key(route: Route) -> None:
        if not held and '"key":"1"' in (route.request.post_data or "").replace(" ", ""):
            held.append(route)  # the answer to 1 is slow: it comes back when the test says
        else:
            route.continue_()

    page.route("**/phone", hold_the_first_key)
    with page.expect_request("**/phone"):
        page.click("#test-phone button[data-key='1']")
    deadline = time.monotonic() + 30
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(20)  # the route handler runs as Playwright pumps its events
    assert held, "the first key was never sent"
    page.click("#test-phone button[data-key='2']")
    page.click("#test-phone button[data-key='3']")
    # (set as each key is clicked: read now, checked once the outcome is known)
    shown_waiting = page.evaluate("() => document.getElementById('phone-queued')?.textContent")
    assert_accessible(page, "the test phone with keys waiting")

    held[0].continue_()
    transcript = page.locator("#phone-transcript")
    expect(transcript).to_contain_text("This line is only for reporting corruption")
    expect(page.locator("#phone-queued")).to_have_text("")
    lines = [line.strip() for line in transcript.inner_text().splitlines()]
    said = "\n".join(lines)
    order = [
        "You press 1",
        "To report corruption or abuse",
        "You press 2",
        "This is a freephone number",
        "You press 3",
        "This line is only for reporting corruption",
    ]
    places = [said.index(words) for words in order]
    assert places == sorted(places), said
    assert said.count("Welcome to the Anti-Corruption") == 1, "the welcome was said again"
    assert "sent next in order: 2 3" in (shown_waiting or ""), shown_waiting
    assert_accessible(page, "the test phone after the waiting keys")


def test_a_misspelt_step_name_is_one_problem_in_the_editor(browser: Any, console: Any) -> None:
    """Given an operations person editing the flow,
    when they misspell the step the safety message leads to and save,
    then one problem is listed, at the misspelt line, naming the step they meant,
    and not a second one calling that step unreachable."""
    base = console[0]
    page, flows = signed_in_ops(browser, console)
    page.goto(f"{base}/console/flows/edit")
    text = flows.flow_text()
    flows.write_flow(text.replace("next: anonymity_promise", "next: anonymity_promis", 1))
    page.fill("input[name=message]", "typo")
    page.click("#save-draft")
    problems = page.locator("#problems li")
    expect(problems).to_have_count(1)
    expect(problems).to_contain_text(
        "step 'safety' refers to missing step 'anonymity_promis' (did you mean 'anonymity_promise'?)"
    )
    expect(page.locator("#problems")).not_to_contain_text("unreachable")
    assert_accessible(page, "the editor with one problem for one typo")
