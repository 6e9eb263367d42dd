"""A caller's follow-up call leaves no time finer than the day, in any row or audit event."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import DateTime, select

from ivr.config import Config
from ivr.models.audit import AuditEvent
from ivr.models.reports import Report
from ivr.models.staff import Role, User
from ivr.platform.db import Base, Database, utcnow
from ivr.reports import followup, workflow
from ivr.services import Services
from ivr.staff import audit
from ivr.worker.runner import build_worker
from tests.conftest import EmulatorCaller
from tests.followup.test_followup_console import spoken_reference
from tests.staff.test_audit import KEY
from tests.worker.conftest import settle

# Staff's own work, dated as it happens: nothing here is about a call.
STAFF_TABLES = {"users", "flow_versions", "flow_events", "announcements", "audit_events"}


def times_finer_than_the_day(db: Database) -> list[str]:
    found = []
    with db.reading() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in STAFF_TABLES:
                continue
            for column in table.columns:
                kind = column.type
                if not isinstance(getattr(kind, "impl", kind), DateTime):
                    continue
                for value in session.execute(select(column)).scalars():
                    if isinstance(value, datetime) and value.time() != time(0):
                        found.append(f"{table.name}.{column.name} = {value.isoformat()}")
    return found


def test_a_follow_up_answer_dates_nothing(
    emulator_caller: EmulatorCaller, ingest_config: Config, db: Database
) -> None:
    worker = build_worker(Services(ingest_config, db=db))
    # Given a caller who took a reference, and a supervisor who asked them a question
    first = emulator_caller.call("1,1,1,1,#,1,1,2,4826#,4826#")
    reference = spoken_reference(" ".join(text for _, text in first.heard))
    settle(worker, db)
    with db.transaction() as session:
        supervisor = User(name="sam", role=Role.SUPERVISOR, failed_sign_ins=0, session_epoch=0)
        session.add(supervisor)
    assert workflow.claim_next(db, supervisor) is not None
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        followup.ask(session, report, supervisor, "Which station was it?")
    # When the caller calls back and answers
    emulator_caller.call(f"1,4,{reference}#,4826#,#")
    settle(worker, db)
    # Then the report is back with its asker, held by the day
    with db.reading() as session:
        report = session.scalars(select(Report)).one()
        assert report.claimed_by == supervisor.id
        assert report.claimed_through == utcnow().date() + timedelta(days=1)
    # and no row holds a time finer than the day
    assert times_finer_than_the_day(db) == []
    # and once the console seals the caller's events, they carry their day's midnight
    audit.move_phone_events(db, KEY, utcnow().date() + timedelta(days=1))
    with db.reading() as session:
        phone = list(session.scalars(select(AuditEvent).where(AuditEvent.actor == "phone")))
    assert {event.action for event in phone} >= {"followup_verified", "followup_answered"}
    assert all(event.at.time() == time(0) and event.report_reference is None for event in phone)
