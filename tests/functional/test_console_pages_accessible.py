"""Every console page, for each role, passes axe-core and fits an 800 px window."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from ivr.models.reports import Report
from ivr.models.staff import Role, User
from ivr.models.stats import NOT_TIMED, StatEvent
from ivr.platform.db import utcnow
from ivr.reports.workflow import CHECKLIST, submit
from ivr.staff.accounts import add_user, complete_enrolment
from ivr.stats.counters import count
from tests.functional.axe import (
    NARROW,
    assert_no_sideways_scroll,
    describe,
    violations,
)
from tests.functional.pages import EnrolPage, FlowsPage, QueuePage, ReportPage, SignInPage

pytestmark = pytest.mark.slow
PASSWORD = "a long and private passphrase"


class Walk:
    """Visit pages as one person; keep every problem found, to report them all at once."""

    def __init__(self, page: Page, role: str) -> None:
        self.page, self.role, self.problems = page, role, []  # type: list[str]
        self.visited: list[str] = []

    def check(self, what: str) -> None:
        """Check the page as it is now: axe-core's rules, and no sideways scrolling."""
        where = f"{self.role}: {what}"
        self.visited.append(where)
        found = violations(self.page)
        if found:
            self.problems.append(f"{where} ({self.page.url})\n{describe(found)}")
        try:
            assert_no_sideways_scroll(self.page, where)
        except AssertionError as error:
            self.problems.append(str(error))

    def visit(self, url: str, what: str) -> None:
        self.page.goto(url)
        self.check(what)


def enrolled(db: Any, name: str, role: Role) -> str:
    """An account enrolled without the browser; return its authenticator secret."""
    with db.transaction() as session:
        enrolment = add_user(session, name, role, "admin-test")
        user = session.get(User, enrolment.user_id)
        secret = user.totp_secret
        complete_enrolment(session, enrolment.token, PASSWORD, PASSWORD, pyotp.TOTP(secret).now())
    return str(secret)


def some_figures(db: Any) -> None:
    """A few of this month's counters, so the statistics page's charts have bars."""
    today = utcnow().date()
    with db.transaction() as session:
        for force, category, n in (
            ("West Yorkshire Police", "information_for_reward", 7),
            ("West Yorkshire Police", "personal_advantage", 2),
            ("Metropolitan Police Service", "other", 11),
        ):
            for day in range(n):
                for event in (StatEvent.RECEIVED, StatEvent.DISSEMINATED):
                    passed = event is StatEvent.DISSEMINATED
                    count(
                        session,
                        event,
                        today,
                        channel="phone",
                        language="en-GB",
                        category=category,
                        force=force if passed else None,
                        days=day if passed else NOT_TIMED,
                    )


def test_every_console_page_for_every_role_is_accessible_at_800px(
    browser: Any, console: Any
) -> None:
    base, _config, db, _mailbox, _emulator, _app = console
    walks: list[Walk] = []

    def person(role: str) -> Walk:
        walk = Walk(browser.new_context(viewport=NARROW).new_page(), role)
        walks.append(walk)
        return walk

    # Given someone signed out: the sign-in page, an enrolment page, a page not found
    with db.transaction() as session:
        link = add_user(session, "Ada", Role.ADMIN, "admin-test").token
    stranger = person("signed out")
    stranger.visit(f"{base}/console/sign-in", "sign in")
    stranger.visit(f"{base}/console/enrol/{link}", "enrolment")
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
    handler.check("a report")
    report = ReportPage(handler.page)
    report.type_transcript("A constable sells police checks to a car dealer.")
    report.fill_fields(
        "West Yorkshire Police", "information_for_reward", "Selling police information"
    )
    # (sent for review through the workflow itself: this story is about the pages)
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

    # And the operations team edits the call flow
    ops = person("ops")
    SignInPage(ops.page, base).sign_in("Robin", PASSWORD, enrolled(db, "Robin", Role.OPS))
    ops.visit(f"{base}/console/flows/", "flow overview")
    ops.visit(f"{base}/console/flows/edit", "flow editor")
    draft = FlowsPage(ops.page, base).edit(lambda text: text + "\n", "a trailing line")
    ops.check("a draft version")
    ops.visit(f"{base}/console/flows/v/1", "a published version")
    ops.visit(f"{base}/console/flows/diff?from=1&to={draft}", "a diff")

    # Then no page breaks an axe-core rule or scrolls sideways at 800 px
    problems = [problem for walk in walks for problem in walk.problems]
    visited = [where for walk in walks for where in walk.visited]
    assert not problems, f"{len(problems)} of {len(visited)} pages fail:\n" + "\n\n".join(problems)
