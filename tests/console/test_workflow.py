"""A report's life in the console, told through the rules a handler and supervisor meet."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.config import Config
from ivr.flows.loader import load_flow_file
from ivr.flows.versions import publish
from ivr.models.reports import AudioObject, Force, Report, ReportStatus
from ivr.models.staff import Role
from ivr.platform.db import Database
from ivr.reports.documents import as_text
from ivr.reports.retention import purge
from ivr.services import Services, object_store
from ivr.staff import audit
from tests.console.conftest import make_staff, post, sign_in
from tests.functional.servers import free_port
from tests.mailbox import Mailbox, loopback_certificate, smtp_server


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[Mailbox]:
    with smtp_server(tmp_path) as mailbox:
        yield mailbox


def report(db: Database, reference: str) -> Report:
    with db.transaction() as session:
        return session.scalars(select(Report).where(Report.reference == reference)).one()


FIELDS = {
    "transcript": "A constable in West Yorkshire Police passes PNC checks to a car dealer for cash.",
    "force": "West Yorkshire Police",
    "handler_category": "information_for_reward",
    "people": "A police constable",
    "what": "Selling police information",
    "when_text": "Since March",
    "where_text": "Leeds",
    "urgency": "routine",
    "contact_transcript": "Call Sam on 07700 900123 after 6pm",
}
CHECKS = {"check": ["1", "2", "3"]}


def write_and_submit(client: FlaskClient, reference: str, transcript: str | None = None) -> Any:
    page = f"/console/reports/{reference}"
    fields = {**FIELDS, **({"transcript": transcript} if transcript else {})}
    assert post(client, f"{page}/save", fields, page=page).status_code == 303
    return post(client, f"{page}/submit", {**CHECKS, "warnings_reviewed": "yes"}, page=page)


def test_take_next_gives_each_handler_a_different_report(
    as_role: Any, db: Database, queued_report: str
) -> None:
    first, second = as_role(Role.HANDLER), as_role(Role.SUPERVISOR)
    taken = post(first, "/console/take-next")
    assert taken.headers["Location"].endswith(f"/console/reports/{queued_report}")
    nothing = post(second, "/console/take-next")
    assert nothing.headers["Location"].endswith("/console/")
    # An abandoned claim lapses, and then the report can be taken again.
    with db.transaction() as session:
        claimed = session.scalars(select(Report)).one()
        claimed.claimed_through = claimed.claimed_through - timedelta(days=1)  # type: ignore[operator]
    again = post(second, "/console/take-next")
    assert again.headers["Location"].endswith(f"/console/reports/{queued_report}")


def test_saving_needs_the_claim_and_a_risk_to_life_is_escalated(
    as_role: Any, db: Database, queued_report: str
) -> None:
    handler, supervisor = as_role(Role.HANDLER), as_role(Role.SUPERVISOR)
    page = f"/console/reports/{queued_report}"
    refused = post(
        handler,
        f"{page}/save",
        {"transcript": "x"},
        page="/console/",
        headers={"Accept": "application/json"},
    )
    assert refused.status_code == 409 and "take this report first" in refused.get_json()["error"]
    post(handler, "/console/take-next")
    saved = post(
        handler,
        f"{page}/save",
        {
            **FIELDS,
            "urgency": "risk_to_life",
            "transcript": "My name is Sam Jones, ring me on 07700 900123",
        },
        page=page,
        headers={"Accept": "application/json"},
    )
    answer = saved.get_json()
    assert answer["saved"] and {
        "the caller's name: Sam Jones",
        "phone number: 07700 900123",
    } <= set(answer["warnings"])
    assert "Risk to life or of serious harm" in supervisor.get("/console/").get_data(as_text=True)
    with db.transaction() as session:
        assert [e.action for e in audit.events(session, report=queued_report)][:2] == [
            "transcript_save",
            "escalate",
        ]


def test_a_report_is_submitted_only_when_complete_and_sanitised(
    as_role: Any, db: Database, queued_report: str
) -> None:
    handler = as_role(Role.HANDLER)
    post(handler, "/console/take-next")
    page = f"/console/reports/{queued_report}"
    post(handler, f"{page}/save", {**FIELDS, "transcript": "I'm called Sam Jones"}, page=page)
    unchecked = post(handler, f"{page}/submit", {}, page=page, follow_redirects=True)
    assert "Confirm every sanitisation check" in unchecked.get_data(as_text=True)
    unreviewed = post(handler, f"{page}/submit", CHECKS, page=page, follow_redirects=True)
    assert "Look at each highlighted detail" in unreviewed.get_data(as_text=True)
    assert report(db, queued_report).status is ReportStatus.QUEUED
    write_and_submit(handler, queued_report)
    assert report(db, queued_report).status is ReportStatus.SUBMITTED


def test_review_returns_with_a_comment_and_only_another_person_approves(
    as_role: Any, db: Database, queued_report: str
) -> None:
    supervisor, handler = as_role(Role.SUPERVISOR), as_role(Role.HANDLER)
    post(supervisor, "/console/take-next")
    write_and_submit(supervisor, queued_report)
    page = f"/console/reports/{queued_report}"
    own = post(
        supervisor, f"{page}/review", {"decision": "approve"}, page=page, follow_redirects=True
    )
    assert "reviewed by someone other than the person who wrote it" in own.get_data(as_text=True)
    second = make_staff(db, "supervisor-two", Role.SUPERVISOR)
    other = handler.application.test_client()
    assert sign_in(other, second) == 302
    blank = post(other, f"{page}/review", {"decision": "return"}, page=page, follow_redirects=True)
    assert "say what needs changing" in blank.get_data(as_text=True)
    post(
        other,
        f"{page}/review",
        {"decision": "return", "comment": "Remove the street name"},
        page=page,
    )
    assert report(db, queued_report).status is ReportStatus.RETURNED
    # Back to its author (the first supervisor wrote it), not to whoever asks next.
    assert "No report in English is waiting" in post(
        handler, "/console/take-next", follow_redirects=True
    ).get_data(as_text=True)
    assert "Remove the street name" in supervisor.get(page).get_data(as_text=True)
    write_and_submit(supervisor, queued_report)
    post(other, f"{page}/review", {"decision": "approve"}, page=page)
    assert report(db, queued_report).status is ReportStatus.APPROVED


def test_dissemination_emails_the_force_without_audio_then_the_audio_is_purged(
    as_role: Any,
    db: Database,
    queued_report: str,
    ingest_app: Flask,
    ingest_config: Config,
    smtp: Mailbox,
) -> None:
    mailbox, port = smtp, smtp.port
    handler = as_role(Role.HANDLER)
    post(handler, "/console/take-next")
    write_and_submit(handler, queued_report)
    with db.transaction() as session:
        session.scalars(select(Report)).one().status = ReportStatus.APPROVED
        session.get(Force, "West Yorkshire Police").ccu_email = "ccu@westyorkshire.police.example"  # type: ignore[union-attr]
    mailing = dataclasses.replace(
        ingest_config, smtp_url=f"smtp://127.0.0.1:{port}", smtp_ca_file=smtp.ca_file
    )
    # The app's mailer, as one built with that setting would be
    ingest_app.extensions["ivr"].mailer = Services(mailing).mailer
    supervisor = as_role(Role.SUPERVISOR)
    page = f"/console/reports/{queued_report}"
    sent = post(
        supervisor, f"{page}/disseminate", {"method": "email"}, page=page, follow_redirects=True
    )
    assert "was sent to the force's Counter Corruption Unit" in html.unescape(
        sent.get_data(as_text=True)
    )
    (message,) = mailbox.messages
    assert mailbox.tls_sessions == 1  # handed over under STARTTLS, never in the clear
    assert message["To"] == "ccu@westyorkshire.police.example"
    parts = [part.get_content_type() for part in message.walk()]
    assert "application/pdf" in parts and not any(kind.startswith("audio/") for kind in parts)
    body = message.get_payload()[0].get_payload(decode=True).decode()  # type: ignore[index,union-attr]
    assert (
        "PNC checks" in body and "Call Sam on 07700 900123" in body
    )  # the caller agreed to contact
    # Sent once already: a second dissemination needs its confirmation
    text = post(supervisor, f"{page}/disseminate", {"method": "text", "again": "yes"}, page=page)
    assert text.headers["Content-Disposition"] == f'attachment; filename="{queued_report}.txt"'
    assert report(db, queued_report).status is ReportStatus.DISSEMINATED

    # After the retention period, the audio and its keys are destroyed.
    store = object_store(ingest_config)
    with db.transaction() as session:
        names = list(session.scalars(select(AudioObject.object_name)))
    assert len(names) == 2
    early = purge(db, store, "test", audio_days=30, text_days=365)
    assert early.audio_destroyed == 0
    later = purge(
        db, store, "test", audio_days=30, text_days=365, today=date.today() + timedelta(days=30)
    )
    assert later.audio_destroyed == 2
    for name in names:
        with pytest.raises(FileNotFoundError):
            store.size(name)
    with db.transaction() as session:
        assert session.scalars(select(AudioObject)).all() == []
    assert ingest_app.extensions["ivr"].audit_trail.verify().ok


def test_categories_come_from_the_published_flow(
    as_role: Any, db: Database, queued_report: str, flows_dir: Path
) -> None:
    # Given the ops team rewording a category and publishing the flow
    path = flows_dir / "hotline.yaml"
    path.write_text(
        path.read_text().replace(
            "personal_advantage: Using their position for personal advantage",
            "personal_advantage: Using the badge for their own gain",
        )
    )
    publish(db, load_flow_file(path), "ops-one", "plainer category")
    # Then handlers choose from the new wording, and the force receives it
    handler = as_role(Role.HANDLER)
    post(handler, "/console/take-next")
    page = f"/console/reports/{queued_report}"
    assert "Using the badge for their own gain" in handler.get(page).get_data(as_text=True)
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        report.handler_category = "personal_advantage"
        categories = load_flow_file(path).flow.categories
        assert "Category\nUsing the badge for their own gain" in as_text(
            report, categories
        ).replace("CATEGORY", "Category")


def test_an_email_to_a_force_while_the_mail_server_is_down_is_queued_then_sent(
    as_role: Any,
    db: Database,
    queued_report: str,
    ingest_app: Flask,
    ingest_config: Config,
    tmp_path: Path,
) -> None:
    handler = as_role(Role.HANDLER)
    post(handler, "/console/take-next")
    write_and_submit(handler, queued_report)
    with db.transaction() as session:
        session.scalars(select(Report)).one().status = ReportStatus.APPROVED
        session.get(Force, "West Yorkshire Police").ccu_email = "ccu@westyorkshire.police.example"  # type: ignore[union-attr]
    # Given the mail server is down (nothing answers on its port)
    port = free_port()
    (tmp_path / "ca").mkdir()
    ca_file, _ = loopback_certificate(tmp_path / "ca")
    mailing = dataclasses.replace(
        ingest_config, smtp_url=f"smtp://127.0.0.1:{port}", smtp_ca_file=ca_file
    )
    built = ingest_app.extensions["ivr"]
    built.mailer = Services(mailing).mailer
    supervisor = as_role(Role.SUPERVISOR)
    page = f"/console/reports/{queued_report}"
    # When a supervisor disseminates by email
    answer = post(
        supervisor, f"{page}/disseminate", {"method": "email"}, page=page, follow_redirects=True
    )
    # Then the send is queued, not lost, and the page says so
    shown = html.unescape(answer.get_data(as_text=True))
    assert "The mail server is not answering" in shown and "queued" in shown
    assert "(pending: waiting for the mail server)" in shown
    assert report(db, queued_report).status is ReportStatus.DISSEMINATED
    assert built.outbox.send_pending() == 0  # still down: it waits
    scraped = ingest_app.test_client().get("/metrics").get_data(as_text=True)
    assert "ivr_emails_to_forces_pending 1.0" in scraped
    # When the mail server answers again (same address, same certificate authority)
    with smtp_server(tmp_path / "ca", port=port) as mailbox:
        assert built.outbox.send_pending() == 1
        assert built.outbox.send_pending() == 0  # sent once, never twice
    (message,) = mailbox.messages
    assert message["To"] == "ccu@westyorkshire.police.example"
    shown = html.unescape(supervisor.get(page).get_data(as_text=True))
    assert "(sent)" in shown and "pending" not in shown
    with db.reading() as session:
        (sent_event,) = audit.events(session, action="email_sent")
    assert (sent_event.actor, sent_event.report_reference) == ("outbox", queued_report)
