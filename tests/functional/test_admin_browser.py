"""An admin's day in the browser: links shown again or re-issued, an account unlocked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ivr.models.staff import Role, User
from ivr.staff.accounts import add_user
from tests.functional.axe import NARROW, assert_accessible, assert_no_sideways_scroll
from tests.functional.pages import EnrolPage, SignInPage

pytestmark = pytest.mark.slow
PASSWORD = "a long and private passphrase"


def test_an_admin_re_shows_re_issues_and_unlocks(browser: Any, console: Any) -> None:
    base, _config, db, _mailbox, _emulator, _app = console
    with db.transaction() as session:
        link = add_user(session, "Ada", Role.ADMIN, "admin-test").token
    admin = browser.new_context(viewport=NARROW).new_page()
    enrolment = EnrolPage(admin)
    secret = enrolment.enrol(f"{base}/console/enrol/{link}", PASSWORD)

    # Given an admin who, straight after enrolling, signs in with the code they enrolled with
    # (the very code, not this moment's: the clock may have moved on to the next one)
    admin.fill("input[name=name]", "Ada")
    admin.fill("input[name=password]", PASSWORD)
    admin.fill("input[name=code]", enrolment.code_used)
    admin.click("#sign-in button[type=submit]")
    # Then they are told to wait for the next code, and with it they are in
    expect(admin.locator(".flash.error")).to_contain_text("wait for the app to show the next")
    SignInPage(admin, base).sign_in("Ada", PASSWORD, secret)

    # When they add a handler, the link is shown; and later it can be shown again
    admin.goto(f"{base}/console/users")
    admin.fill("#add-user input[name=name]", "Alex")
    admin.click("#add-user button[type=submit]")
    first = admin.input_value("#enrolment-url")
    assert_accessible(admin, "users, with a link shown")
    assert_no_sideways_scroll(admin, "users, with a link shown")
    admin.goto(f"{base}/console/users")
    admin.locator("tr[data-user=Alex] a", has_text="show link").click()
    assert admin.input_value("#enrolment-url") == first

    # And when it is re-issued, the new link works and the old one does not
    admin.locator("tr[data-user=Alex] button[data-change=re-enrol]").click()
    admin.click("#confirm-yes")  # it ends Alex's access: asked first
    expect(admin.locator(".flash")).to_contain_text("no longer works")
    second = admin.input_value("#enrolment-url")
    assert second != first
    other = browser.new_context().new_page()
    other.goto(first)
    expect(other.locator("h1")).to_have_text("Enrolment link not valid")
    expect(other.locator("#way-back")).to_have_attribute("href", "/console/sign-in")
    EnrolPage(other).enrol(second, PASSWORD)

    # When Alex is locked out, the admin sees it and unlocks the account
    with db.transaction() as session:
        alex = session.scalars(select(User).where(User.name == "Alex")).one()
        alex.locked_until = datetime.now(UTC) + timedelta(minutes=15)
    admin.goto(f"{base}/console/users")
    expect(admin.locator("tr[data-user=Alex]")).to_contain_text("locked")
    admin.locator("tr[data-user=Alex] button[data-change=unlock]").click()
    expect(admin.locator(".flash")).to_contain_text("Alex is unlocked")
    expect(admin.locator("tr[data-user=Alex]")).not_to_contain_text("locked")


def test_the_skip_link_and_focus_ring_work_from_the_keyboard(browser: Any, console: Any) -> None:
    base = console[0]
    page = browser.new_context(viewport=NARROW).new_page()
    page.goto(f"{base}/console/sign-in")
    # Given the first Tab on a page, the skip link appears with a focus ring
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    assert skip.evaluate("e => e.getBoundingClientRect().top >= 0")
    assert skip.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"
    # When it is followed, the keyboard is in the page's main content
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("input[name=name]")).to_be_focused()
    # And a light button shows a ring when reached by keyboard
    for _ in range(3):
        page.keyboard.press("Tab")
    button = page.locator("#sign-in button[type=submit]")
    expect(button).to_be_focused()
    assert button.evaluate("e => getComputedStyle(e).outlineWidth") == "3px"
