"""Page objects for the live queue, a supervisor's review and the CCU addresses page."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import func, select

from ivr.models.reports import Report, ReportSource, ReportStatus
from ivr.models.staff import User
from ivr.platform.db import Database, utcnow
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
        expect(self.page.locator("#status")).to_contain_text(
            "returned"
        )  # "returned (Alex)": back with its author

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


# Every word in the queue's cells that the layout breaks across two lines ("Referen/ce").
# Text a screen reader alone reads (.visually-hidden) is clipped to a pixel, so skipped.
BROKEN_WORDS = """(selector) => {
    const broken = [];
    for (const cell of document.querySelectorAll(selector)) {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (node.parentElement.closest('.visually-hidden')) continue;
            const words = /\\S+/g;
            for (let m = words.exec(node.textContent); m; m = words.exec(node.textContent)) {
                const range = document.createRange();
                range.setStart(node, m.index);
                range.setEnd(node, m.index + m[0].length);
                const lines = new Set([...range.getClientRects()]
                    .filter(r => r.width > 0).map(r => Math.round(r.top)));
                if (lines.size > 1) broken.push(m[0]);
            }
        }
    }
    return broken;
}"""


class ScannableQueuePage(LiveQueuePage):
    """The queue as a handler scans it: rows by reference, cells by their column."""

    def row(self, reference: str) -> Locator:
        return self.page.locator(f"#queue tr[data-reference='{reference}']")

    def cell(self, reference: str, column: str) -> Locator:
        return self.row(reference).locator(f"td[data-label='{column}']")

    def broken_words(self) -> list[str]:
        found: list[str] = self.page.evaluate(BROKEN_WORDS, "#queue th, #queue td")
        return found

    def take_next(self) -> None:
        self.page.click("#take-next")

    def filter_language(self, value: str) -> None:
        self.page.select_option("#language-filter", value)
        self.page.get_by_role("button", name="Filter").click()
        ready(self.page)


def a_report(db: Database, **values: object) -> str:
    """A report in the queue as the phone or the form leaves one (English by default)."""
    with db.transaction() as session:
        position = session.scalar(select(func.max(Report.queue_position))) or 0
        fields: dict[str, object] = {
            "received_on": utcnow().date(),
            "source": ReportSource.MENU,
            "status": ReportStatus.QUEUED,
            "language": "en-GB",
            "queue_position": position + 1,
            "duration_seconds": 95,
            **values,
        }
        report = Report(**fields)
        session.add(report)
        session.flush()
        return report.reference


def user_named(db: Database, name: str) -> User:
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.name == name)).one()
        session.expunge(user)
    return user
