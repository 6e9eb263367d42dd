"""The queue and a supervisor's review over HTTP: take a chosen report, my reports, search,
the live queue, distinct decisions, the review thread, dissemination and the CCU addresses."""

from __future__ import annotations

import dataclasses
import html
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.cli import main
from ivr.config import Config
from ivr.models.reports import Dissemination, Force, Report, ReportStatus
from ivr.models.staff import Role
from ivr.platform.db import Database
from ivr.services import Services
from ivr.staff import audit
from tests.console.conftest import make_staff, post, sign_in
from tests.console.test_workflow import write_and_submit
from tests.mailbox import Mailbox, smtp_server


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def another(client: FlaskClient, db: Database, name: str, role: Role) -> FlaskClient:
    """A second person of ``role``, signed in on their own client."""
    other = client.application.test_client()
    assert sign_in(other, make_staff(db, name, role)) == 302
    return other


def test_a_handler_takes_the_report_they_choose_and_a_slower_one_is_told(
    as_role: Any, db: Database, queued_report: str
) -> None:
    handler = as_role(Role.HANDLER)
    take = f"/console/reports/{queued_report}/take"
    assert f'action="{take}"' in text_of(handler.get("/console/"))
    taken = post(handler, take)
    assert taken.headers["Location"].endswith(f"/console/reports/{queued_report}")
    slower = another(handler, db, "handler-two", Role.HANDLER)
    refused = post(slower, take, follow_redirects=True)
    assert f"someone else has just taken {queued_report}" in text_of(refused)
    # The queue offers no button for a report somebody holds
    assert f'action="{take}"' not in text_of(as_role(Role.SUPERVISOR).get("/console/"))
    with db.transaction() as session:
        assert [e.actor for e in audit.events(session, action="claim")] == ["handler-one"]


def test_my_reports_and_search_by_reference_keep_need_to_know(
    as_role: Any, db: Database, queued_report: str
) -> None:
    handler = as_role(Role.HANDLER)
    other = another(handler, db, "handler-two", Role.HANDLER)
    assert "You hold no reports." in text_of(handler.get("/console/?mine=1"))
    post(handler, "/console/take-next")
    assert queued_report in text_of(handler.get("/console/?mine=1"))
    assert "You hold no reports." in text_of(other.get("/console/?mine=1"))
    # An exact reference, however it was typed, opens the report
    typed = f"  {queued_report.lower()} "
    found = handler.get("/console/find", query_string={"reference": typed})
    assert found.status_code == 303
    assert found.headers["Location"].endswith(f"/console/reports/{queued_report}")
    missing = handler.get(
        "/console/find", query_string={"reference": "R-0000-0000"}, follow_redirects=True
    )
    assert "No report has the reference 'R-0000-0000'" in text_of(missing)
    # Another handler finds it, but may not open it: refused, and on the record
    refused = other.get(
        "/console/find", query_string={"reference": queued_report}, follow_redirects=True
    )
    assert refused.status_code == 403
    with db.transaction() as session:
        (event,) = audit.events(session, action="access_refused")
        assert (event.actor, event.report_reference) == ("handler-two", queued_report)


def test_the_live_queue_shows_a_risk_to_life_and_never_keeps_an_idle_session(
    as_role: Any, db: Database, queued_report: str
) -> None:
    supervisor, handler = as_role(Role.SUPERVISOR), as_role(Role.HANDLER)
    quiet = supervisor.get("/console/queue/live").get_json()
    assert quiet["urgent_count"] == 0 and queued_report in quiet["rows"]
    post(handler, "/console/take-next")
    page = f"/console/reports/{queued_report}"
    post(handler, f"{page}/save", {"urgency": "risk_to_life"}, page=page)
    urgent = supervisor.get("/console/queue/live").get_json()
    assert urgent["urgent_count"] == 1
    assert "Risk to life" in urgent["urgent"] and queued_report in urgent["urgent"]
    # Polling is the page, not the person: it does not restart the idle clock
    idle_since = time.time() - 14 * 60
    with supervisor.session_transaction() as session:
        session["seen"] = idle_since
    assert supervisor.get("/console/queue/live").status_code == 200
    with supervisor.session_transaction() as session:
        assert session["seen"] == idle_since
    with supervisor.session_transaction() as session:
        session["seen"] = time.time() - 16 * 60
    ended = supervisor.get("/console/queue/live")
    assert ended.status_code == 302 and "/console/sign-in" in ended.headers["Location"]


def test_approve_and_return_are_separate_and_every_message_joins_the_thread(
    as_role: Any, db: Database, queued_report: str
) -> None:
    handler, supervisor = as_role(Role.HANDLER), as_role(Role.SUPERVISOR)
    post(handler, "/console/take-next")
    write_and_submit(handler, queued_report)
    page = f"/console/reports/{queued_report}"
    shown = text_of(supervisor.get(page))
    assert 'id="approve-form"' in shown and 'id="return-form"' in shown
    assert "Nothing is sent yet." in shown and "goes back to the handler who wrote it" in shown
    # The report reads as text, not as a disabled form
    assert 'id="report-fields"' in shown and "Selling police information" in shown
    blank = post(supervisor, f"{page}/review", {"decision": "return"}, page=page)
    assert "say what needs changing" in text_of(supervisor.get(blank.headers["Location"]))
    post(
        supervisor,
        f"{page}/review",
        {"decision": "return", "comment": "Remove the street name"},
        page=page,
    )
    post(handler, f"/console/reports/{queued_report}/take")
    post(handler, f"{page}/comment", {"text": "Removed it"}, page=page)
    write_and_submit(handler, queued_report)
    long = post(supervisor, f"{page}/comment", {"text": "x" * 2001}, page=page)
    assert "at most 2000 characters" in text_of(supervisor.get(long.headers["Location"]))
    post(supervisor, f"{page}/review", {"decision": "approve", "comment": "Clear"}, page=page)
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        assert report.status is ReportStatus.APPROVED
    # Handler and supervisor both read the whole thread, in order
    for reader in (handler, supervisor):
        thread = text_of(reader.get(page))
        start = thread.index('id="thread-messages"')
        assert (
            start
            < thread.index("Remove the street name")
            < thread.index("Removed it")
            < thread.index("Clear")
        )
        assert "supervisor-one</strong>" in thread and "handler-one</strong>" in thread


@pytest.fixture
def mailing(ingest_app: Flask, ingest_config: Config, tmp_path: Path) -> Iterator[Mailbox]:
    with smtp_server(tmp_path) as mailbox:
        config = dataclasses.replace(
            ingest_config, smtp_url=f"smtp://127.0.0.1:{mailbox.port}", smtp_ca_file=mailbox.ca_file
        )
        ingest_app.extensions["ivr"].mailer = Services(config).mailer
        yield mailbox


def test_dissemination_shows_its_address_and_history_and_asks_before_sending_again(
    as_role: Any, db: Database, queued_report: str, mailing: Mailbox
) -> None:
    handler, supervisor = as_role(Role.HANDLER), as_role(Role.SUPERVISOR)
    post(handler, "/console/take-next")
    write_and_submit(handler, queued_report)
    with db.transaction() as session:
        session.scalars(select(Report)).one().status = ReportStatus.APPROVED
    page = f"/console/reports/{queued_report}"
    assert "West Yorkshire Police has no Counter Corruption Unit address yet" in text_of(
        supervisor.get(page)
    )
    with db.transaction() as session:
        session.get(Force, "West Yorkshire Police").ccu_email = "ccu@wyp.police.example"  # type: ignore[union-attr]
    shown = text_of(supervisor.get(page))
    assert 'id="ccu-address">ccu@wyp.police.example' in shown and "Already" not in shown
    post(supervisor, f"{page}/disseminate", {"method": "email"}, page=page)
    assert len(mailing.messages) == 1
    shown = text_of(supervisor.get(page))
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert f"{today}: by email to West Yorkshire Police, by supervisor-one" in shown
    assert 'id="send-again"' in shown
    # The server, not only the page, asks for the confirmation
    again = post(supervisor, f"{page}/disseminate", {"method": "email"}, page=page)
    refused = text_of(supervisor.get(again.headers["Location"]))
    assert f"already disseminated on {today}; confirm that it should be sent again" in refused
    assert len(mailing.messages) == 1
    post(supervisor, f"{page}/disseminate", {"method": "email", "again": "yes"}, page=page)
    assert len(mailing.messages) == 2
    with db.transaction() as session:
        assert len(session.scalars(select(Dissemination)).all()) == 2


def test_supervisors_keep_the_ccu_addresses_on_a_page_audited_and_validated(
    as_role: Any, db: Database, tmp_path: Path
) -> None:
    supervisor = as_role(Role.SUPERVISOR)
    listed = text_of(supervisor.get("/console/forces"))
    assert "West Yorkshire Police" in listed and "no address yet" in listed
    bad = post(
        supervisor,
        "/console/forces",
        {"force": "West Yorkshire Police", "address": "ccu at wyp"},
        page="/console/forces",
    )
    assert bad.status_code == 400
    page = text_of(bad)
    assert "'ccu at wyp' is not an email address" in page
    assert 'value="ccu at wyp"' in page and 'aria-invalid="true"' in page
    good = post(
        supervisor,
        "/console/forces",
        {"force": "West Yorkshire Police", "address": " ccu@wyp.police.example "},
        page="/console/forces",
    )
    assert good.status_code == 303
    assert "Reports for West Yorkshire Police now go to ccu@wyp.police.example" in text_of(
        supervisor.get(good.headers["Location"])
    )
    with db.transaction() as session:
        assert session.get(Force, "West Yorkshire Police").ccu_email == "ccu@wyp.police.example"  # type: ignore[union-attr]
        (event,) = audit.events(session, action="force_email")
        assert (event.actor, event.detail) == (
            "supervisor-one",
            "West Yorkshire Police: ccu@wyp.police.example",
        )
    assert as_role(Role.HANDLER).get("/console/forces").status_code == 403


def test_the_command_line_still_sets_an_address(tmp_path: Path) -> None:
    env = {
        "IVR_SECRET_KEY": "s" * 32,
        "IVR_CONSOLE_SECRET_KEY": "c" * 32,
        "IVR_TWILIO_AUTH_TOKEN": "t",
        "IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'ivr.sqlite3'}",
    }
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    bad = runner.invoke(main, ["forces", "set-email", "Kent Police", "nobody"], env=env)
    assert bad.exit_code != 0 and "is not an email address" in bad.output
    done = runner.invoke(main, ["forces", "set-email", "Kent Police", "ccu@kent.example"], env=env)
    assert done.exit_code == 0, done.output
    listed = runner.invoke(main, ["forces", "list"], env=env).output
    assert any(
        line.startswith("Kent Police") and "ccu@kent.example" in line
        for line in listed.splitlines()
    )
