"""Reading an online report changes nothing; taking it starts its transcript from the sender's words, once."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from ivr.models.audit import AuditEvent
from ivr.models.reports import Report
from ivr.models.staff import Role
from ivr.platform.db import Base, Database
from ivr.reports.online import FILLED
from tests.console.conftest import AsRole, post
from tests.online.helpers import send

# What a person opening a report is recorded doing: access, not a change.
ACCESS = {"view", "read_contact"}


def _rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the audit log (compared by its events)."""
    with db.transaction() as session:
        return {
            table.name: sorted(map(tuple, session.execute(table.select()).all()), key=repr)
            for table in Base.metadata.sorted_tables
            if table.name != AuditEvent.__tablename__
        }


def _events(db: Database) -> list[tuple[str, str | None]]:
    with db.transaction() as session:
        found = session.execute(
            select(AuditEvent.action, AuditEvent.report_reference).order_by(AuditEvent.id)
        )
        return [(action, reference) for action, reference in found]


def _send_with_contact(ingest_app: Flask) -> None:
    sent = send(
        ingest_app.test_client(),
        what="PLANTED-WHAT took cash",
        who="PLANTED-WHO",
        when="last Friday",
        where="the station car park",
        anonymity="contact",
        contact="PLANTED-CONTACT 01632 960001",
    )
    assert sent.status_code == 200


def _report(db: Database) -> Report:
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        for column in ("transcript", "people", "when_text", "where_text", "contact_transcript"):
            getattr(report, column)  # loaded before the session closes
        session.expunge(report)
        return report


def test_opening_an_online_report_changes_no_row_and_records_only_the_access(
    ingest_app: Flask, as_role: AsRole, db: Database
) -> None:
    # Given an online report nobody has taken, and a supervisor who may read it all
    _send_with_contact(ingest_app)
    reference = _report(db).reference
    supervisor = as_role(Role.SUPERVISOR)
    rows, events = _rows(db), _events(db)
    # When the supervisor opens its page, twice
    for _ in range(2):
        page = supervisor.get(f"/console/reports/{reference}").get_data(as_text=True)
        assert "PLANTED-WHAT took cash" in page and "PLANTED-CONTACT" in page
    # Then no row changed: the sender's words are shown, not copied into the transcript
    assert _rows(db) == rows
    report = _report(db)
    assert (report.transcript, report.people, report.contact_transcript) == ("", "", "")
    # And the only events written record that it was read
    written = _events(db)[len(events) :]
    assert written and {action for action, _ in written} <= ACCESS
    assert all(about == reference for _, about in written)


def test_taking_an_online_report_starts_its_transcript_from_the_answers_once(
    ingest_app: Flask, as_role: AsRole, db: Database
) -> None:
    # Given an online report with the sender's answers and contact details
    _send_with_contact(ingest_app)
    reference = _report(db).reference
    handler = as_role(Role.HANDLER)
    # When a handler takes it from the queue
    taken = post(handler, f"/console/reports/{reference}/take")
    assert taken.status_code == 303
    # Then the sender's words start the transcript's fields and the contact transcript
    report = _report(db)
    assert (report.transcript, report.people) == ("PLANTED-WHAT took cash", "PLANTED-WHO")
    assert (report.when_text, report.where_text) == ("last Friday", "the station car park")
    assert report.contact_transcript == "PLANTED-CONTACT 01632 960001"
    assert [action for action, _ in _events(db)].count(FILLED) == 1
    # And once the handler has sanitised them, opening or taking it again puts nothing back
    saved = post(
        handler,
        f"/console/reports/{reference}/save",
        {"transcript": "An officer took cash.", "people": ""},
        page=f"/console/reports/{reference}",
    )
    assert saved.status_code in (200, 303)
    rows = _rows(db)
    handler.get(f"/console/reports/{reference}")
    assert _rows(db) == rows
    assert post(handler, f"/console/reports/{reference}/take").status_code == 303
    report = _report(db)
    assert (report.transcript, report.people) == ("An officer took cash.", "")
    assert [action for action, _ in _events(db)].count(FILLED) == 1
