"""The figures are counted as things happen, outlive the reports, and date none of them.

A report goes through its whole life (taken, sent back, approved, passed to a force,
sent again) and is then destroyed by retention: every step it took is still counted,
under the month alone. Nothing in the counters could lead back to it: not its
reference, its id, the call's reference at Twilio, nor a day or a time.
"""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Date, DateTime, func, inspect, select

from ivr.config import Config
from ivr.models.reports import Report, ReportStatus
from ivr.models.staff import Role
from ivr.models.stats import NOT_TIMED, UNKNOWN, Channel, StatCount, StatEvent
from ivr.platform.db import Base, Database, utcnow
from ivr.reports.retention import purge
from ivr.services import Services, object_store
from ivr.stats.counters import count, month_of
from ivr.worker.runner import build_worker
from tests.conftest import EmulatorCaller
from tests.console.conftest import post
from tests.console.test_workflow import write_and_submit
from tests.worker.conftest import settle

A_DAY = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}")


def counted(db: Database) -> dict[tuple[StatEvent, str, str, str, int], int]:
    """What the counters hold, by event, channel, category, force and days."""
    with db.reading() as session:
        rows = session.scalars(select(StatCount)).all()
        return {(r.event, r.channel, r.category, r.force, r.days): r.count for r in rows}


def every_value(db: Database) -> list[str]:
    with db.reading() as session:
        rows = session.scalars(select(StatCount)).all()
        columns = [column.name for column in StatCount.__table__.columns]
        return [str(getattr(row, column)) for row in rows for column in columns]


def test_a_reports_figures_outlive_its_destruction_and_name_neither_it_nor_its_day(
    as_role: Any, db: Database, queued_report: str, ingest_app: Flask
) -> None:
    this_month = month_of(utcnow().date())
    with db.reading() as session:
        report = session.scalars(select(Report)).one()
        report_id, category = report.id, report.category
    # Given a phone report, counted once when it was queued, by the caller's own choice
    assert counted(db) == {
        (StatEvent.RECEIVED, Channel.PHONE, category or UNKNOWN, UNKNOWN, NOT_TIMED): 1
    }

    # When it is written, sent back once, approved and passed to the force, twice
    handler, supervisor = as_role(Role.HANDLER), as_role(Role.SUPERVISOR)
    post(handler, "/console/take-next")
    write_and_submit(handler, queued_report)
    page = f"/console/reports/{queued_report}"
    post(supervisor, f"{page}/review", {"decision": "return", "comment": "Less detail"}, page=page)
    write_and_submit(handler, queued_report)
    post(supervisor, f"{page}/review", {"decision": "approve"}, page=page)
    for again in ({}, {"again": "yes"}):
        sent = post(supervisor, f"{page}/disseminate", {"method": "text", **again}, page=page)
        assert sent.status_code == 200

    # Then each step is counted under the handler's category and force; the resend is not
    force, chosen = "West Yorkshire Police", "information_for_reward"
    figures = {
        (StatEvent.RECEIVED, Channel.PHONE, category or UNKNOWN, UNKNOWN, NOT_TIMED): 1,
        (StatEvent.SUBMITTED, Channel.PHONE, chosen, force, NOT_TIMED): 2,
        (StatEvent.RETURNED, Channel.PHONE, chosen, force, NOT_TIMED): 1,
        (StatEvent.APPROVED, Channel.PHONE, chosen, force, NOT_TIMED): 1,
        (StatEvent.DISSEMINATED, Channel.PHONE, chosen, force, 0): 1,  # sent the day it came
    }
    assert counted(db) == figures

    # When retention destroys the report, a year on
    store = object_store(ingest_app.extensions["ivr"].config)
    purge(db, store, "test", 30, 365, today=date.today() + timedelta(days=400))
    with db.reading() as session:
        gone = session.get(Report, report_id)
        assert gone is not None and gone.transcript == "" and gone.status is ReportStatus.CLOSED

    # Then its figures are all still there, under this month, and nothing else
    assert counted(db) == figures
    values = every_value(db)
    assert {v for v in values if re.fullmatch(r"\d{4}-\d{2}", v)} == {this_month}
    for value in values:
        assert queued_report not in value and report_id not in value
        assert not A_DAY.search(value), value
    # and no column of the counters could hold a day or a time
    columns = inspect(db.engine).get_columns("stat_counts")
    assert not any(isinstance(column["type"], Date | DateTime) for column in columns)


def test_a_report_retention_destroys_before_it_was_sent_is_counted_as_destroyed_unsent(
    db: Database, queued_report: str, ingest_app: Flask
) -> None:
    store = object_store(ingest_app.extensions["ivr"].config)
    # Given a report nobody took, until long after the period for untouched reports
    purge(db, store, "test", 30, 365, today=date.today() + timedelta(days=200))
    # Then it is counted as received, and as destroyed without being sent
    events = {key[0]: value for key, value in counted(db).items()}
    assert events == {StatEvent.RECEIVED: 1, StatEvent.DESTROYED_UNSENT: 1}


def test_a_call_that_ended_at_the_menu_is_counted_once_and_a_report_is_not(
    emulator_caller: EmulatorCaller, ingest_config: Config, db: Database
) -> None:
    # Given a caller who hangs up at the first menu, and one who leaves a report
    emulator_caller.call("1,hangup")
    emulator_caller.call("1,1,2,2,#,1,#")
    settle(build_worker(Services(ingest_config, db=db)), db)
    # Then one call without a report is counted for the month, and one report received
    events = {key[0]: value for key, value in counted(db).items()}
    assert events == {StatEvent.CALL_WITHOUT_REPORT: 1, StatEvent.RECEIVED: 1}


def test_workers_counting_the_same_facts_at_once_lose_no_count(database_url: str) -> None:
    db = Database.from_url(database_url)
    Base.metadata.create_all(db.engine)
    each, workers = 25, 4
    ready = threading.Barrier(workers)

    def count_many() -> None:
        ready.wait()
        for _ in range(each):
            with db.transaction() as session:
                count(session, StatEvent.SUBMITTED, date(2027, 3, 9), channel=Channel.ONLINE)

    threads = [threading.Thread(target=count_many) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with db.reading() as session:
        assert session.scalar(select(func.sum(StatCount.count))) == each * workers
        assert session.scalars(select(StatCount.month)).all() == ["2027-03"]
    db.engine.dispose()
