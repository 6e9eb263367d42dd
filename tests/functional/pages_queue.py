"""Page objects for the live queue, a supervisor's review and the CCU addresses page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.functional.pages import ready


class LiveQueuePage:
    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base

    def open(self) -> None:
        self.page.goto(f"{self.base}/console/")
        expect(self.page.locator("h1")).to_have_text("Queue")
        ready(self.page)

    def mark_loaded(self) -> None:
        """Leave a mark in this load of the page: a reload would wipe it."""
        self.page.evaluate("() => { window.loadedOnce = true; }")

    def was_reloaded(self) -> bool:
        return not self.page.evaluate("() => window.loadedOnce === true")

    def take(self, reference: str) -> None:
        self.page.get_by_role("button", name=f"Take this report {reference}").click()
        expect(self.page).to_have_url(re.compile(f"/console/reports/{reference}$"))
        ready(self.page)

    def urgent(self) -> object:
        return self.page.locator("#urgent")

    def open_my_reports(self) -> None:
        self.page.click("#my-reports")
        expect(self.page.locator("h1")).to_have_text("My reports")

    def find(self, reference: str) -> None:
        self.page.fill("#find-reference", reference)
        self.page.get_by_role("button", name="Open").click()


class ReviewPage:
    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base

    def open(self, reference: str) -> None:
        self.page.goto(f"{self.base}/console/reports/{reference}")
        expect(self.page.locator("#reference")).to_have_text(reference)
        ready(self.page)

    def return_to_handler(self, comment: str) -> None:
        self.page.fill("#return-comment", comment)
        self.page.click("#return")
        expect(self.page.locator("#status")).to_have_text("returned")

    def approve(self) -> None:
        self.page.click("#approve")
        expect(self.page.locator("#status")).to_have_text("approved")

    def email_button(self) -> object:
        return self.page.locator("#send-email")

    def email_force(self) -> None:
        self.page.click("#send-email")
        expect(self.page.locator(".flash")).to_contain_text("was sent to the force")


class ForcesPage:
    def __init__(self, page: Page) -> None:
        self.page = page

    def row(self, force: str) -> object:
        return self.page.get_by_role("row").filter(has_text=force)

    def set_address(self, force: str, address: str) -> None:
        field = self.page.get_by_label(f"Address for {force}")
        field.fill(address)
        self.page.locator("tr", has=field).get_by_role("button", name="Save").click()
