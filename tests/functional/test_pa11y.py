"""A second engine, pa11y's HTML_CodeSniffer (WCAG 2 AA), finds no error on any page.

axe-core runs in every browser story; HTML_CodeSniffer reads the rules differently and
has caught what axe does not. Each role signs in through the browser and walks its pages,
as in test_console_pages_accessible; each page is then checked by pa11y in the Debian
Chromium, with that person's session cookie: pages a person opens by address are loaded
afresh, states reached by typing and clicking (a refused form, a call in progress) are
checked as the person saw them. The online form is checked in both languages.

Needs Node.js and ``npm ci`` (the Makefile runs it): skipped with the reason elsewhere,
run under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ivr.models.reports import Report
from ivr.models.staff import Role, User
from ivr.reports.workflow import CHECKLIST, submit
from ivr.staff.accounts import add_user
from tests.functional.conftest import CHROMIUM
from tests.functional.online_pages import OnlineFormPage
from tests.functional.pages import EnrolPage, FlowsPage, QueuePage, ReportPage, SignInPage, ready
from tests.functional.test_console_pages_accessible import PASSWORD, enrolled, some_figures

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("pa11y_run.js")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed (apt-get install nodejs npm)"
    if not (ROOT / "node_modules" / "pa11y" / "package.json").exists():
        return "pa11y is not installed: run npm ci (make test does)"
    return None


@dataclass
class Pa11yWalk:
    """One person's pages, noted as they go, for pa11y to check once the walk is done."""

    page: Page
    role: str
    jobs: list[dict[str, Any]] = field(default_factory=list)

    def _cookies(self) -> list[dict[str, str]]:
        return [
            {"name": c["name"], "value": c["value"], "url": self.page.url.split("/console")[0]}
            for c in self.page.context.cookies()
        ]

    def visit(self, url: str, what: str) -> None:
        """A page opened by its address: pa11y opens it afresh, as this person."""
        self.page.goto(url)
        self.jobs.append({"name": f"{self.role}: {what}", "url": url, "cookies": self._cookies()})

    def check(self, what: str) -> None:
        """The page as it is now, after typing and clicking."""
        self.jobs.append(
            {
                "name": f"{self.role}: {what}",
                "url": self.page.url,
                "html": self.page.content(),
                "cookies": self._cookies(),
            }
        )


def run_pa11y(jobs: list[dict[str, Any]], profile: Path) -> list[dict[str, Any]]:
    env = {**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"}
    done = subprocess.run(
        ["node", str(RUNNER)],
        input=json.dumps({"chromium": CHROMIUM, "profile": str(profile), "jobs": jobs}),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, f"pa11y_run.js failed:\n{done.stderr[-3000:]}"
    return list(json.loads(done.stdout))


def describe(result: dict[str, Any]) -> str:
    if result["failed"]:
        return f"{result['name']} ({result['url']}): pa11y could not check it: {result['failed']}"
    lines = [f"{result['name']} ({result['url']}): {len(result['issues'])} error(s)"]
    for issue in result["issues"]:
        lines.append(f"  - {issue['message']}\n    at {issue['selector']}\n    [{issue['code']}]")
    return "\n".join(lines)


def test_html_codesniffer_finds_no_error_on_any_page_for_any_role(
    browser: Any, console: Any, tmp_path: Path
) -> None:
    """Given each role signed in through the browser, and a member of the public,
    when each walks their pages and pa11y (runner htmlcs, standard WCAG2AA) checks them,
    then no page has an error; each one found is listed with its page and selector."""
    missing = _missing()
    if missing:
        if IN_CI:
            pytest.fail(f"{missing}: pa11y must run under CI=true")
        pytest.skip(missing)
    base, _config, db, _mailbox, _emulator, app = console
    walks: list[Pa11yWalk] = []

    def person(role: str, **context: Any) -> Pa11yWalk:
        walk = Pa11yWalk(browser.new_context(**context).new_page(), role)
        walks.append(walk)
        return walk

    # Given someone signed out: the sign-in page, an enrolment page, a page not found
    with db.transaction() as session:
        link = add_user(session, "Ada", Role.ADMIN, "admin-test").token
        pending = add_user(session, "Pat", Role.HANDLER, "admin-test").token
    stranger = person("signed out")
    stranger.visit(f"{base}/console/sign-in", "sign in")
    stranger.visit(f"{base}/console/enrol/{pending}", "enrolment")
    stranger.visit(f"{base}/console/no-such-page", "page not found")
    stranger.visit(f"{base}/console/sign-in", "sign in")
    stranger.page.context.clear_cookies()  # the session, and its form token, are gone
    stranger.page.fill("input[name=name]", "Ada")
    stranger.page.fill("input[name=password]", PASSWORD)
    stranger.page.fill("input[name=code]", "123456")
    stranger.page.click("#sign-in button[type=submit]")
    stranger.page.locator("#way-back").wait_for()
    stranger.check("a form that had expired")

    # When an admin enrols and works: users (with a link shown), the audit trail
    admin = person("admin")
    secret = EnrolPage(admin.page).enrol(f"{base}/console/enrol/{link}", PASSWORD)
    SignInPage(admin.page, base).sign_in("Ada", PASSWORD, secret)
    admin.visit(f"{base}/console/users", "users")
    admin.page.fill("#add-user input[name=name]", "Newcomer")
    admin.page.click("#add-user button[type=submit]")
    admin.page.locator("#enrolment-url").wait_for()
    admin.check("users, with an enrolment link shown")
    admin.visit(f"{base}/console/audit", "audit trail")
    admin.visit(f"{base}/console/flows/", "a page the role may not see (403)")

    # And a handler takes the report and sends it for review
    handler = person("handler")
    SignInPage(handler.page, base).sign_in("Alex", PASSWORD, enrolled(db, "Alex", Role.HANDLER))
    handler.visit(f"{base}/console/", "queue")
    reference = QueuePage(handler.page).take_next()
    handler.visit(handler.page.url, "a report")
    ready(handler.page)
    report = ReportPage(handler.page)
    report.type_transcript("A constable sells police checks to a car dealer.")
    report.fill_fields(
        "West Yorkshire Police", "information_for_reward", "Selling police information"
    )
    handler.check("a report, typed in and saved")
    with db.transaction() as session:
        sent = session.scalars(select(Report).where(Report.reference == reference)).one()
        alex = session.scalars(select(User).where(User.name == "Alex")).one()
        submit(session, sent, alex, len(CHECKLIST), warnings_reviewed=True)
    handler.visit(f"{base}/console/", "queue, with a report sent for review")

    # And a supervisor reviews it
    supervisor = person("supervisor")
    SignInPage(supervisor.page, base).sign_in("Sam", PASSWORD, enrolled(db, "Sam", Role.SUPERVISOR))
    supervisor.visit(f"{base}/console/", "queue")
    supervisor.visit(f"{base}/console/reports/{reference}", "a report in review")
    supervisor.visit(f"{base}/console/audit", "audit trail")
    some_figures(db)
    supervisor.visit(f"{base}/console/statistics", "statistics")

    # And a manager reads the figures for one force, and mistypes a month
    manager = person("manager")
    SignInPage(manager.page, base).sign_in("Morgan", PASSWORD, enrolled(db, "Morgan", Role.MANAGER))
    manager.visit(f"{base}/console/statistics?force=West+Yorkshire+Police", "statistics, one force")
    manager.visit(f"{base}/console/statistics?from=2027-13", "statistics, a month mistyped")

    # And the operations team edits the call flow, and tries it on the test phone
    ops = person("ops", viewport={"width": 1366, "height": 900})
    SignInPage(ops.page, base).sign_in("Robin", PASSWORD, enrolled(db, "Robin", Role.OPS))
    flows = FlowsPage(ops.page, base)
    ops.visit(f"{base}/console/flows/", "flow overview")
    ops.visit(f"{base}/console/flows/edit", "flow editor")
    flows.write_flow(flows.flow_text().replace("next: anonymity_promise", "next: anon", 1))
    ops.page.fill("input[name=message]", "typo")
    ops.page.click("#save-draft")
    expect(ops.page.locator("#problems")).to_be_visible()
    ops.check("the flow editor with a problem")
    draft = flows.edit(lambda text: text.replace("Goodbye.", "Take care.", 1), "kinder")
    ops.visit(f"{base}/console/flows/v/{draft}", "a draft version")
    flows.call()
    flows.press("1")
    ops.check("a draft version, the test phone mid-call")
    ops.visit(f"{base}/console/flows/v/1", "a published version")
    ops.visit(f"{base}/console/flows/diff?from=1&to={draft}", "a diff")

    # And a member of the public sends a report online, with and without JavaScript
    guard = app.extensions["ivr.online"].guard
    public = person("public")
    form = OnlineFormPage(public.page, base)
    public.visit(f"{base}/report", "the online form")
    public.visit(f"{base}/report/cy", "the online form in Welsh")
    form.open()
    public.page.check("#anonymity-contact")
    public.check("the online form, leaving contact details")
    form.send()
    public.page.locator("#error-summary").wait_for()
    public.check("the online form with errors")
    form.fill("personal_advantage", "A bribe")
    public.page.check("#anonymity-anonymous")
    form.send()
    form.sent()
    public.check("the online report sent")
    no_js = person("public, no JavaScript", java_script_enabled=False)
    form = OnlineFormPage(no_js.page, base)
    form.open()
    form.fill("personal_advantage", "A bribe")
    no_js.page.fill("#contact", "a phone number")
    form.read_the_picture(guard)
    form.send()
    no_js.page.locator("#anonymity-error").wait_for()
    no_js.check("the online form asking about details left while anonymous")

    # Then pa11y's HTML_CodeSniffer finds no error on any of them
    jobs = [job for walk in walks for job in walk.jobs]
    results = run_pa11y(jobs, tmp_path / "pa11y-profile")
    assert [r["name"] for r in results] == [j["name"] for j in jobs]
    failing = [r for r in results if r["failed"] or r["issues"]]
    assert not failing, f"{len(failing)} of {len(results)} pages fail HTML_CodeSniffer:\n" + (
        "\n\n".join(describe(r) for r in failing)
    )
