"""Page objects: what a person sees and does on each console page."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pyotp
from playwright.sync_api import Dialog, Locator, Page, expect

# A busy 2-core CI machine can take seconds to answer: no expectation may hinge on
# Playwright's default of 5 s.
expect.set_options(timeout=30_000)


def ready(page: Page) -> None:
    """Wait until the page's scripts have wired their listeners (console.js marks it).

    A key, a click or a choice made before then reaches no listener: on a busy machine the
    page can be on screen a long moment before its deferred scripts have run.
    """
    expect(page.locator("html[data-ready=true]")).to_be_attached()


class EnrolPage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.code_used = ""  # the one-time code enrolment was confirmed with

    def enrol(self, link: str, password: str) -> str:
        """Enrol through ``link``; return the authenticator secret shown on the page."""
        self.page.goto(link)
        expect(self.page.locator("img.qr")).to_be_visible()
        secret = self.page.locator("#totp-secret").inner_text()
        self.page.fill("input[name=password]", password)
        self.page.fill("input[name=confirm]", password)
        self.code_used = pyotp.TOTP(secret).now()
        self.page.fill("input[name=code]", self.code_used)
        self.page.click("#enrol button[type=submit]")
        expect(self.page.locator(".flash")).to_contain_text("You are enrolled")
        return secret


class SignInPage:
    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base

    def sign_in(self, name: str, password: str, secret: str) -> None:
        self.page.goto(f"{self.base}/console/sign-in")
        self.page.fill("input[name=name]", name)
        self.page.fill("input[name=password]", password)
        # Enrolment used this time step's code, and a code is accepted once: use the next.
        self.page.fill("input[name=code]", pyotp.TOTP(secret).at(time.time() + 30))
        self.page.click("#sign-in button[type=submit]")
        expect(self.page.locator(".who")).to_contain_text(name)


class QueuePage:
    def __init__(self, page: Page) -> None:
        self.page = page

    def take_next(self) -> str:
        self.page.click("#take-next")
        expect(self.page).to_have_url(re.compile(r"/console/reports/R-"))
        ready(self.page)
        return self.page.locator("#reference").inner_text()


class ReportPage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.player = page.locator("audio.player").first

    def until(self, script: str, seconds: float = 30) -> object:
        """Poll the player with ``script`` until it gives a true value.

        Not page.wait_for_function: it evaluates its predicate with eval, which the
        console's Content-Security-Policy rightly forbids.
        """
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = self.player.evaluate(script)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {script}")

    def audio_duration(self) -> float:
        return float(self.until("a => a.duration > 0 && a.duration"))  # type: ignore[arg-type]

    def seek(self, seconds: float) -> float:
        return float(
            self.player.evaluate(
                """(a, t) => new Promise(done => { a.addEventListener('seeked', () => done(a.currentTime), {once: true}); a.currentTime = t; })""",
                seconds,
            )
        )

    def current_time(self) -> float:
        return float(self.player.evaluate("a => a.currentTime"))

    def is_playing(self) -> bool:
        return not bool(self.player.evaluate("a => a.paused"))

    def type_transcript(self, text: str) -> None:
        self.page.click("#transcript")
        self.page.keyboard.type(text)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def fill_fields(self, force: str, category: str, what: str) -> None:
        self.page.select_option("#force", force)
        self.page.select_option("#handler-category", category)
        self.page.fill("#what", what)
        expect(self.page.locator("#autosave-state")).to_have_text("Saved", timeout=30_000)

    def submit(self) -> None:
        for box in self.page.locator("#submit-form input[type=checkbox]").all():
            box.check()
        self.page.click("#submit")
        expect(self.page.locator(".flash")).to_contain_text("was sent for review")

    def approve(self) -> None:
        self.page.click("#approve")
        expect(self.page.locator("#status")).to_have_text("approved")

    def email_force(self) -> None:
        self.page.click("#send-email")
        expect(self.page.locator(".flash")).to_contain_text("was sent to the force")


class FlowsPage:
    """The operations team's call-flow pages."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base

    def edit(self, change: Callable[[str], str], message: str) -> int:
        """Change the flow's YAML in the editor and save it; return the draft's number."""
        self.page.goto(f"{self.base}/console/flows/")
        ready(self.page)
        self.page.click("#edit-flow")
        self.write_flow(change(self.flow_text()))
        self.page.fill("input[name=message]", message)
        self.page.click("#save-draft")
        expect(self.page.locator(".flash")).to_contain_text("a draft")
        return int(self.page.url.rsplit("/", 1)[1])

    def flow_text(self) -> str:
        """The YAML in the editor (CodeMirror, which enhances the textarea)."""
        expect(self.page.locator(".CodeMirror")).to_be_visible()
        return str(self.page.evaluate("() => window.flowEditor.getValue()"))

    def write_flow(self, text: str) -> None:
        self.flow_text()
        self.page.evaluate("text => window.flowEditor.setValue(text)", text)

    def diagram_drawn(self, seconds: float = 60) -> bool:
        """Wait for the diagram to load: Graphviz draws it on request, slowly on a busy machine."""
        diagram = self.page.locator("img.diagram").first
        diagram.wait_for()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if diagram.evaluate("i => i.complete && i.naturalWidth > 0"):
                return True
            time.sleep(0.1)
        return False

    def call(self) -> None:
        ready(self.page)
        self.page.click("#call-button")
        expect(self.page.locator("#phone-transcript li").first).to_be_visible()

    def press(self, key: str) -> None:
        count = self.page.locator("#phone-transcript li").count()
        self.page.click(f"#test-phone button[data-key='{key}']")
        expect(self.page.locator("#phone-transcript li")).not_to_have_count(count)
        expect(self.page.locator("#phone-transcript li").last).not_to_have_text(f"You press {key}")

    def transcript(self) -> str:
        return self.page.locator("#phone-transcript").inner_text()

    def waiting_for(self) -> str:
        return self.page.locator("#phone-waiting").inner_text()

    def publish(self, number: int, message: str = "ready for callers") -> str:
        """Publish a version with a message, confirming; return what the page asked."""
        self.page.goto(f"{self.base}/console/flows/v/{number}")
        ready(self.page)
        self.page.fill("#publish-message", message)
        asked: list[str] = []

        def confirm(dialog: Dialog) -> None:
            asked.append(dialog.message)
            dialog.accept()

        self.page.once("dialog", confirm)
        self.page.click("#publish")
        expect(self.page.locator(".flash")).to_contain_text(
            f"Version {number} is what new callers hear"
        )
        return asked[0] if asked else ""


class StatisticsPage:
    """The statistics page: its filters, each chart with its table, the CSV download."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base

    def open(self, query: str = "") -> None:
        self.page.goto(f"{self.base}/console/statistics{query}")
        expect(self.page.locator("h1")).to_contain_text("Statistics")

    def tile(self, name: str) -> str:
        """The figure in the summary tile named ``name``."""
        tile = self.page.locator("#summary > div").filter(
            has=self.page.locator("dt", has_text=re.compile(f"^{re.escape(name)}$"))
        )
        return tile.locator("dd").inner_text().strip()

    def chart(self, id: str) -> Locator:
        return self.page.locator(f"#chart-{id}")

    def drawing_title(self, id: str) -> str:
        """The title of the chart's drawing: what a screen reader names the image."""
        return str(self.chart(id).locator("svg[role=img] > title").text_content()).strip()

    def table(self, id: str) -> list[list[str]]:
        """The rows of the chart's table, each cell's text."""
        rows = self.chart(id).locator("table tbody tr")
        return [
            [cell.strip() for cell in row.locator("th, td").all_inner_texts()] for row in rows.all()
        ]

    def filter(self, **choices: str) -> None:
        """Choose filters by their visible labels (``force="West Yorkshire Police"``) and submit."""
        form = self.page.locator("#stats-filters")
        for name, label in choices.items():
            form.locator(f"select[name={name}]").select_option(label=label)
        form.get_by_role("button", name="Show figures").click()
        self.page.wait_for_load_state()

    def download_csv(self) -> tuple[str, str]:
        """Download the CSV for publication; return its file name and its text."""
        with self.page.expect_download() as download:
            self.page.get_by_role("link", name="Download CSV for publication").click()
        with open(download.value.path(), encoding="utf-8") as file:
            return download.value.suggested_filename, file.read()
