"""Page object for the public online report form."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from ivr.online.guard import FormGuard


class OnlineFormPage:
    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base

    def open(self, welsh: bool = False) -> None:
        self.page.goto(f"{self.base}/report{'/cy' if welsh else ''}")
        expect(self.page.locator("#report-form")).to_be_visible()

    def fill(self, category: str, what: str, who: str = "", force: str = "") -> None:
        self.page.check(f"#category-{category}")
        if force:
            self.page.select_option("#force", label=force)
        self.page.fill("#what", what)
        if who:
            self.page.fill("#who", who)
        self.page.check("#duty-on")
        self.page.check("#setting-in_person")

    def leave_contact(self, details: str) -> None:
        self.page.check("#anonymity-contact")
        self.page.fill("#contact", details)

    def attach(self, path: Path) -> None:
        self.page.set_input_files("#files", str(path))

    def read_the_picture(self, guard: FormGuard) -> None:
        """Type what a person reads in the picture (the test asks the server's own key)."""
        expect(self.page.locator("#question img")).to_be_visible()
        action = self.page.locator("#report-form").get_attribute("action") or ""
        challenge = guard.read(action.partition("?token=")[2])
        self.page.fill("#answer", guard.picture_text(challenge))

    def send(self) -> None:
        self.page.click("#send")

    def sent(self) -> None:
        expect(self.page.locator("h1")).to_have_text(
            re.compile("Your report has been sent|Mae eich adroddiad wedi'i anfon")
        )

    def error_beside(self, field: str) -> str:
        message = self.page.locator(f"#{field}-error")
        expect(message).to_be_visible()
        return message.inner_text()
