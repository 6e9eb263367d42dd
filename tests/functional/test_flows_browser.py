"""An operations person changes what callers hear, in the browser, and takes it back."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ivr.models.staff import Role
from ivr.staff.accounts import add_user
from tests.conftest import EmulatorCaller
from tests.functional.pages import EnrolPage, FlowsPage, SignInPage

pytestmark = pytest.mark.slow
PASSWORD = "a long and private passphrase"
OLD = "To report corruption or abuse by a police officer"
NEW = "To tell us about corruption or abuse by a police officer"


def new_wording_and_another_option(text: str) -> str:
    """Reword the main menu, and let 7 (a key no menu uses) tell about anonymity."""
    text = text.replace(OLD, NEW, 1)
    return text.replace(
        '      "3": other_ways\n', '      "3": other_ways\n      "7": anonymity_details\n', 1
    )


def test_edit_try_publish_and_roll_back_in_the_browser(browser: Any, console: Any) -> None:
    base, _config, db, _mailbox, emulator, app = console
    with db.transaction() as session:
        link = add_user(session, "Robin", Role.OPS, "admin-test").token
    # Given an operations person, enrolled and signed in
    page = browser.new_context().new_page()
    secret = EnrolPage(page).enrol(f"{base}/console/enrol/{link}", PASSWORD)
    SignInPage(page, base).sign_in("Robin", PASSWORD, secret)
    flows = FlowsPage(page, base)

    # When they change the main menu's wording and add an option, the draft is drawn
    draft = flows.edit(new_wording_and_another_option, "clearer menu, anonymity on 7")
    assert draft == 2 and flows.diagram_drawn()
    # and the test phone walks it as a caller would
    flows.call()
    assert "Am wasanaeth Cymraeg, pwyswch 9." in flows.transcript()
    flows.press("1")
    assert NEW in flows.transcript()
    assert "7" in flows.waiting_for().split()

    # Then, once published, a caller hears the new wording
    caller = EmulatorCaller(app, emulator)
    assert OLD in caller.call("1,hangup").text()
    asked = flows.publish(draft, "clearer menu")
    assert asked == f"Publish version {draft} to all callers?"
    hears_within_seconds(caller, NEW)

    # And rolling back to version 1 restores what callers heard before
    flows.publish(1, "callers missed the old wording")
    hears_within_seconds(caller, OLD)


def hears_within_seconds(caller: EmulatorCaller, wording: str) -> None:
    """Every server looks for a newly published version every two seconds."""
    # Slack for a busy CI machine: a server that never reloads still fails.
    deadline = time.monotonic() + 30
    while wording not in caller.call("1,hangup").text():
        assert time.monotonic() < deadline, f"callers still do not hear {wording!r}"
        time.sleep(0.25)
