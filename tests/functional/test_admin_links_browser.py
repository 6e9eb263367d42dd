"""The users page: copy a link, and actions that end access kept apart and asked first."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ivr.models.staff import Role, User
from tests.functional.axe import assert_accessible
from tests.functional.test_queue_and_review_browser import signed_in

pytestmark = pytest.mark.slow


def test_an_admin_copies_a_link_and_is_asked_before_ending_someones_access(
    browser: Any, console: Any
) -> None:
    base, _, db, _, _, _ = console
    # Given Ada, an admin, on the users page, in a browser that lets pages copy
    ada = signed_in(browser, base, db, "Ada", Role.ADMIN)
    ada.context.grant_permissions(["clipboard-read", "clipboard-write"])
    ada.goto(f"{base}/console/users")

    # When she adds Robin and presses "Copy link"
    ada.fill("#add-user input[name=name]", "Robin")
    ada.click("#add-user button[type=submit]")
    link = ada.input_value("#enrolment-url")
    ada.get_by_role("button", name="Copy link").click()
    # Then the link is on the clipboard, and the page says so
    expect(ada.locator("#copy-state")).to_have_text("Copied.")
    assert ada.evaluate("() => navigator.clipboard.readText()") == link
    assert_accessible(ada, "users, with a link copied")

    # And on her own row nothing could lock her out: no sign out, re-issue or disable
    own = ada.locator("tr[data-user=Ada]")
    expect(own.locator("button.danger")).to_have_count(0)
    expect(own).to_contain_text("not on your own account")
    # And on Robin's they stand apart from the rest, in their own column
    ends = ada.locator("tr[data-user=Robin] td.ends-access")
    expect(ends.locator("button.danger")).to_have_count(3)

    # When she presses "disable" for Robin
    ends.locator("button[data-change=disable]").click()
    # Then she is asked first, told what it ends, and nothing has changed yet
    expect(ada.locator("#confirm-title")).to_have_text("Disable Robin's account?")
    assert_accessible(ada, "users, asking before disabling")
    with db.reading() as session:
        assert session.scalar(select(User.active).where(User.name == "Robin")) is True
    # When she cancels, Robin is still active; when she confirms, Robin is disabled
    ada.click("#confirm-cancel")
    expect(ada.locator("#confirm-change")).to_have_count(0)
    ends.locator("button[data-change=disable]").click()
    ada.click("#confirm-yes")
    expect(ada.locator(".flash")).to_contain_text("Robin is disabled")
    expect(ada.locator("tr[data-user=Robin]")).to_contain_text("disabled")
