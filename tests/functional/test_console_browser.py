"""A handler's and a supervisor's day, in a real browser, from a call to its dissemination."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from ivr.models.reports import AudioObject, Force, Report, ReportStatus
from ivr.models.staff import Role
from ivr.reports.retention import purge
from ivr.services import object_store
from ivr.staff import audit
from ivr.staff.accounts import add_user
from tests.functional.pages import EnrolPage, QueuePage, ReportPage, SignInPage

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "a long and private passphrase"


def test_from_a_call_to_a_disseminated_report_in_the_browser(browser: Any, console: Any) -> None:
    base, config, db, mailbox, _, _ = console
    with db.transaction() as session:
        handler_link = add_user(session, "Alex", Role.HANDLER, "admin-test").token
        supervisor_link = add_user(session, "Sam", Role.SUPERVISOR, "admin-test").token
        session.get(Force, "West Yorkshire Police").ccu_email = "ccu@wyp.police.example"

    # Given a new handler who enrols with an authenticator app and signs in
    handler = browser.new_context().new_page()
    secret = EnrolPage(handler).enrol(f"{base}/console/enrol/{handler_link}", PASSWORD)
    SignInPage(handler, base).sign_in("Alex", PASSWORD, secret)

    # When they take the next report, opening it plays nothing: only a person does
    reference = QueuePage(handler).take_next()
    report = ReportPage(handler)
    with db.transaction() as session:
        assert not audit.events(session, actor="Alex", action="play")

    # And they transcribe with the shortcut keys, without leaving the transcript: play,
    # pause, and the recording seeks
    report.type_transcript("A constable passes police checks to a car dealer for cash. ")
    report.press("Escape")
    report.until("a => !a.paused")
    report.press("Escape")
    assert not report.is_playing()
    assert 18 < report.audio_duration() < 20
    assert report.seek(5.0) == pytest.approx(5.0, abs=0.1)
    before = report.current_time()
    report.press("F2")
    assert report.current_time() == pytest.approx(before + 5, abs=0.3)
    report.type_transcript("It has happened since March.")
    report.fill_fields(
        "West Yorkshire Police", "information_for_reward", "Selling police information"
    )
    report.submit()

    # Then a supervisor approves it and emails it to the force, without the audio
    supervisor = browser.new_context().new_page()
    secret = EnrolPage(supervisor).enrol(f"{base}/console/enrol/{supervisor_link}", PASSWORD)
    SignInPage(supervisor, base).sign_in("Sam", PASSWORD, secret)
    supervisor.goto(f"{base}/console/reports/{reference}")
    review = ReportPage(supervisor)
    review.approve()
    review.email_force()
    (message,) = mailbox.messages
    assert message["To"] == "ccu@wyp.police.example"
    assert not any(part.get_content_type().startswith("audio/") for part in message.walk())

    # And after the retention period the audio and its keys are gone, and the audit holds
    with db.transaction() as session:
        assert session.scalars(select(Report)).one().status is ReportStatus.DISSEMINATED
    result = purge(
        db,
        object_store(config),
        "(retention)",
        30,
        365,
        today=date.today() + timedelta(days=30),
    )
    assert result.audio_destroyed == 2
    with db.transaction() as session:
        assert session.scalars(select(AudioObject)).all() == []
        actions = [event.action for event in audit.events(session, report=reference)]
    assert {
        "claim",
        "view",
        "play",
        "transcript_save",
        "submit",
        "approve",
        "disseminate",
        "purge_audio",
    } <= set(actions)
    supervisor.goto(f"{base}/console/audit")
    assert "is intact" in supervisor.locator("#chain").inner_text()
