"""A supervisor's day in the browser: the live queue, the review, dissemination, CCU addresses."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ivr.models.reports import Force, Report
from ivr.models.staff import Role, User
from ivr.platform.db import Database
from ivr.reports import workflow
from ivr.reports.sanitise import CHECKLIST
from ivr.staff.accounts import add_user
from tests.functional.axe import assert_accessible
from tests.functional.pages import EnrolPage, SignInPage
from tests.functional.pages_queue import ForcesPage, LiveQueuePage, ReviewPage

pytestmark = pytest.mark.slow
PASSWORD = "a long and private passphrase"


def signed_in(browser: Any, base: str, db: Database, name: str, role: Role) -> Any:
    """A new browser for a new member of staff, enrolled and signed in."""
    with db.transaction() as session:
        link = add_user(session, name, role, "admin-test").token
    page = browser.new_context().new_page()
    secret = EnrolPage(page).enrol(f"{base}/console/enrol/{link}", PASSWORD)
    SignInPage(page, base).sign_in(name, PASSWORD, secret)
    return page


def the_report(db: Database) -> str:
    with db.transaction() as session:
        return str(session.scalars(select(Report.reference)).one())


def written_and_submitted(db: Database, reference: str, name: str, **fields: str) -> None:
    """The handler ``name`` takes, writes and submits the report (as their page would)."""
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.name == name)).one()
        session.expunge(user)
    workflow.take(db, user, reference)
    with db.transaction() as session:
        report = session.scalars(select(Report).where(Report.reference == reference)).one()
        values = {
            "transcript": "A constable passes police checks to a car dealer for cash.",
            "force": "West Yorkshire Police",
            "handler_category": "information_for_reward",
            "what": "Selling police information",
            **fields,
        }
        workflow.save(session, report, user, values)
        workflow.submit(session, report, user, len(CHECKLIST), True)


def test_a_risk_to_life_reaches_the_supervisors_open_queue_without_a_reload(
    browser: Any, console: Any
) -> None:
    base, _, db, _, _, _ = console
    reference = the_report(db)
    # Given a supervisor with the queue open
    supervisor = signed_in(browser, base, db, "Sam", Role.SUPERVISOR)
    queue = LiveQueuePage(supervisor, base)
    queue.open()
    queue.mark_loaded()
    expect(queue.urgent()).to_be_hidden()
    assert_accessible(supervisor, "the supervisor's queue")

    # When a handler takes that report from the queue and sets its urgency to risk to life
    handler = signed_in(browser, base, db, "Alex", Role.HANDLER)
    handler_queue = LiveQueuePage(handler, base)
    handler_queue.open()
    assert_accessible(handler, "the handler's queue")
    handler_queue.take(reference)
    handler.select_option("#urgency", "risk_to_life")
    expect(handler.locator("#autosave-state")).to_have_text("Saved")

    # Then it appears at the top of the supervisor's queue, without a reload
    expect(queue.urgent()).to_be_visible()
    expect(queue.urgent()).to_contain_text(reference)
    expect(queue.urgent()).to_contain_text("in progress (Alex)")
    assert not queue.was_reloaded()
    assert_accessible(supervisor, "the queue with a risk to life")

    # And the handler finds it under "My reports", and by its reference
    handler_queue.open()
    handler_queue.open_my_reports()
    expect(handler.locator("#queue-rows")).to_contain_text(reference)
    handler_queue.find(reference.lower())
    expect(handler.locator("#reference")).to_have_text(reference)


def test_a_supervisor_returns_approves_and_disseminates_with_one_confirmation(
    browser: Any, console: Any
) -> None:
    base, _, db, mailbox, _, _ = console
    reference = the_report(db)
    supervisor = signed_in(browser, base, db, "Sam", Role.SUPERVISOR)
    signed_in(browser, base, db, "Alex", Role.HANDLER).close()
    with db.transaction() as session:
        session.get(Force, "West Yorkshire Police").ccu_email = "ccu@wyp.police.example"  # type: ignore[union-attr]
    # Given a report a handler has submitted
    written_and_submitted(db, reference, "Alex", where_text="14 Acacia Avenue")

    # When the supervisor reads it: as text, with two separate decisions
    review = ReviewPage(supervisor, base)
    review.open(reference)
    expect(supervisor.locator("#report-fields")).to_contain_text("14 Acacia Avenue")
    expect(supervisor.locator("#approve-form")).to_contain_text("Nothing is sent yet")
    expect(supervisor.locator("#return-form")).to_contain_text(
        "goes back to the handler who wrote it"
    )
    assert_accessible(supervisor, "the review")
    # Returning needs a word; the browser asks for it before anything is sent
    supervisor.click("#return")
    expect(supervisor.locator("#status")).to_have_text("submitted for review")
    review.return_to_handler("Take out the street address")
    expect(supervisor.locator("#thread-messages")).to_contain_text("Take out the street address")

    # And when the handler sends it back, corrected, the supervisor approves it
    written_and_submitted(db, reference, "Alex", where_text="Leeds")
    review.open(reference)
    review.approve()

    # Then dissemination, near the top, names the address it will send to
    expect(review.email_button()).to_contain_text("ccu@wyp.police.example")
    review.email_force()
    assert len(mailbox.messages) == 1
    expect(supervisor.locator("#already-sent")).to_contain_text(
        "by email to West Yorkshire Police, by Sam"
    )
    assert_accessible(supervisor, "a disseminated report")
    # Sending again needs the explicit confirmation
    supervisor.click("#send-email")
    expect(supervisor.locator("#send-again")).to_be_focused()
    assert len(mailbox.messages) == 1
    supervisor.check("#send-again")
    review.email_force()
    assert len(mailbox.messages) == 2
    expect(supervisor.locator("#already-sent li")).to_have_count(2)
    expect(supervisor.locator("#thread-messages li")).to_have_count(2)  # the return, the approval


def test_a_supervisor_keeps_the_ccu_addresses_and_is_told_what_is_wrong(
    browser: Any, console: Any
) -> None:
    base, _, db, _, _, _ = console
    supervisor = signed_in(browser, base, db, "Sam", Role.SUPERVISOR)
    LiveQueuePage(supervisor, base).open()
    supervisor.get_by_role("link", name="Counter Corruption Units").click()
    forces = ForcesPage(supervisor)
    assert_accessible(supervisor, "the CCU addresses")
    # When they type an address that is not one, the message says why and keeps the text
    forces.set_address("West Yorkshire Police", "ccu at wyp")
    expect(supervisor.get_by_text("'ccu at wyp' is not an email address")).to_be_visible()
    expect(supervisor.get_by_label("Address for West Yorkshire Police")).to_have_value("ccu at wyp")
    assert_accessible(supervisor, "the CCU addresses with an error")
    # Then they correct it, and it is saved
    forces.set_address("West Yorkshire Police", "ccu@wyp.police.example")
    expect(supervisor.locator(".flash")).to_contain_text(
        "Reports for West Yorkshire Police now go to ccu@wyp.police.example"
    )
    with db.transaction() as session:
        assert session.get(Force, "West Yorkshire Police").ccu_email == "ccu@wyp.police.example"  # type: ignore[union-attr]
