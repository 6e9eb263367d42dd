"""Page objects for the report page's newer parts: saving, the session, findings and players."""

from __future__ import annotations

import time
from typing import Any

import pyotp
from playwright.sync_api import BrowserContext, Page, expect

from tests.functional.pages import EnrolPage, QueuePage, SignInPage, ready

PASSWORD = "a long and private passphrase"


def poll(check: Any, what: str, seconds: float = 120) -> Any:
    """Wait, with a generous limit, until ``check()`` gives a true value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Handler:
    """A handler in their own browser context, working on the report they took."""

    def __init__(self, context: BrowserContext, base: str, name: str, link: str) -> None:
        self.context, self.base, self.name = context, base, name
        self.page: Page = context.new_page()
        self.secret = EnrolPage(self.page).enrol(f"{base}/console/enrol/{link}", PASSWORD)
        # SignInPage uses the next time step's code; each code is accepted once.
        self.used_step = int((time.time() + 30) // 30)
        SignInPage(self.page, base).sign_in(name, PASSWORD, self.secret)
        self.reference = ""

    def take_next(self) -> str:
        self.reference = QueuePage(self.page).take_next()
        return self.reference

    def open_report(self) -> None:
        self.page.goto(f"{self.base}/console/reports/{self.reference}")
        ready(self.page)

    # Writing

    @property
    def transcript(self) -> Any:
        return self.page.locator("#transcript")

    def type(self, text: str) -> None:
        self.transcript.click()
        self.page.keyboard.press("End")
        self.page.keyboard.type(text)

    def saved(self) -> None:
        expect(self.page.locator("#autosave-state")).to_have_text("Saved")

    def go_to_queue(self) -> None:
        self.page.get_by_role("link", name="Queue", exact=True).click()
        expect(self.page.locator("#take-next")).to_be_visible()

    # The session

    def session_cookie(self) -> bool:
        return any(c["name"] == "console" for c in self.context.cookies())

    def sign_in_again(self) -> None:
        """Follow the page's own link to sign in, and sign in there (with a fresh code)."""
        self.page.click("#sign-in-again")
        self.page.fill("input[name=name]", self.name)
        self.page.fill("input[name=password]", PASSWORD)
        step = max(int(time.time() // 30), self.used_step + 1)
        while step > int(time.time() // 30) + 1:  # the console accepts one step either side
            time.sleep(1)
        self.used_step = step
        self.page.fill("input[name=code]", pyotp.TOTP(self.secret).at(step * 30))
        self.page.click("#sign-in button[type=submit]")

    # Findings

    def finding_buttons(self) -> Any:
        return self.page.locator("#warning-list button.jump")

    def selected_text(self) -> str:
        return str(
            self.page.evaluate(
                "() => { const a = document.activeElement;"
                " return a.id + ':' + a.value.slice(a.selectionStart, a.selectionEnd); }"
            )
        )

    def in_view(self, selector: str) -> bool:
        """Whether the element is wholly inside the window, as it is now scrolled."""
        return bool(
            self.page.locator(selector).evaluate(
                "e => { const r = e.getBoundingClientRect();"
                " return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }"
            )
        )

    # Players

    def player(self, name: str) -> Any:
        return self.page.get_by_label(name, exact=True)

    def playing(self, name: str) -> bool:
        return not bool(self.player(name).evaluate("a => a.paused"))

    def position(self, name: str) -> float:
        return float(self.player(name).evaluate("a => a.currentTime"))


# The status strip, and where things are on the screen


def in_view_below_strip(page: Page, selector: str) -> bool:
    """Whether the element's top is in the window and not hidden under the sticky strip."""
    return bool(
        page.locator(selector).evaluate(
            "e => { const r = e.getBoundingClientRect();"
            " const s = document.getElementById('status-strip').getBoundingClientRect();"
            " return r.height > 0 && r.top >= s.bottom - 1 && r.top < window.innerHeight; }"
        )
    )


def box(page: Page, selector: str) -> dict[str, float]:
    """The element's place on the page (not the window): top, bottom, left, right."""
    return dict(
        page.locator(selector).evaluate(
            "e => { const r = e.getBoundingClientRect();"
            " return {top: r.top + scrollY, bottom: r.bottom + scrollY,"
            " left: r.left, right: r.right}; }"
        )
    )


def tab_into(page: Page, selector: str, presses: int = 25) -> int:
    """Press Tab from the start of the main content (where "Skip to main content" leads)
    until focus is inside ``selector``; return how many presses it took."""
    page.locator("#main").focus()
    for count in range(1, presses + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => !!document.activeElement.closest({selector!r})"):
            return count
    raise AssertionError(f"{presses} presses of Tab never reached {selector}")


def strip_blockers(page: Page) -> Any:
    return page.locator("#status-strip #blocker-list a")
