"""The handler's side of a follow-up: ask in the console, hear the answer in the report."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.config import Config
from ivr.models.audit import AuditEvent
from ivr.models.followup import PhoneAction, PhoneEvent
from ivr.models.reports import Report, ReportStatus
from ivr.models.staff import Role
from ivr.platform.db import Database
from ivr.services import Services
from ivr.worker.runner import build_worker
from tests.conftest import EmulatorCaller
from tests.console.conftest import AsRole, post
from tests.worker.conftest import settle


def spoken_reference(text: str) -> str:
    found = re.search(r"((?:\d, \d, \d, \d\. ?){3})", text)
    assert found, text
    return re.sub(r"\D", "", found.group(1))


def queue_row(client: FlaskClient, reference: str) -> str:
    """The queue's row for one report, as its HTML."""
    page = client.get("/console/").get_data(as_text=True)
    row = re.search(rf'<tr data-reference="{reference}".*?</tr>', page, re.S)
    assert row is not None, f"{reference} is not in the queue"
    return row.group(0)


def test_a_question_asked_in_the_console_is_heard_and_answered_by_phone(
    emulator_caller: EmulatorCaller, ingest_config: Config, db: Database, as_role: AsRole
) -> None:
    worker = build_worker(Services(ingest_config, db=db))
    # Given an anonymous report whose caller took a reference
    first = emulator_caller.call("1,1,1,1,#,1,1,2,4826#,4826#")
    reference = spoken_reference(" ".join(text for _, text in first.heard))
    settle(worker, db)
    with db.reading() as session:
        report = session.scalars(select(Report)).one()
        page = f"/console/reports/{report.reference}"
    supervisor = as_role(Role.SUPERVISOR)
    assert "The caller took a follow-up reference" in supervisor.get(page).get_data(as_text=True)

    # When a question with the caller's number in it is refused, and a clean one is asked
    refused = post(
        supervisor,
        f"{page}/followup/question",
        {"question": "Ring us on 07700 900123?"},
        page=page,
        follow_redirects=True,
    )
    assert "take out" in refused.get_data(as_text=True)
    post(
        supervisor,
        f"{page}/followup/question",
        {"question": "Which station was it?"},
        page=page,
    )
    shown = supervisor.get(page).get_data(as_text=True)
    assert "Awaiting caller: question asked on" in shown
    assert "awaiting caller" in queue_row(supervisor, report.reference)

    # And the caller calls back with the reference and PIN and answers
    second = emulator_caller.call(f"1,4,{reference}#,4826#,#")
    said = " ".join(text for _, text in second.heard)
    assert "Our team has a question for you. Which station was it?" in said
    settle(worker, db)

    # Then the report shows the answer, which plays, and it is back with its asker
    shown = supervisor.get(page).get_data(as_text=True)
    assert "Answered on" in shown
    assert "caller answered" in queue_row(supervisor, report.reference)
    player = re.search(r'class="player answer-player"[^>]*src="([^"]+)"', shown, re.S)
    assert player is not None
    assert supervisor.get(player.group(1)).status_code in (200, 206)
    with db.reading() as session:
        report = session.scalars(select(Report)).one()
        assert report.status is ReportStatus.QUEUED and report.claimed_by is not None
        actions = [e.action for e in session.scalars(select(AuditEvent))]
        phone = [e.action for e in session.scalars(select(PhoneEvent))]  # sealed the next day
        assert "followup_question" in actions and PhoneAction.VERIFIED in phone
        details = " ".join(e.detail for e in session.scalars(select(AuditEvent)))
        assert reference not in details and "4826" not in details
