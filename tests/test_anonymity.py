"""The product's promise: after complete calls, the caller's number is nowhere.

Calls are placed with a planted number (and the caller's name and town, as Twilio
sends them); then every store we control is searched: every row of every table,
every log line, every file written under the service's folders.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Date, DateTime, inspect, select

from ivr.config import Config
from ivr.models.calls import RecordingJob
from ivr.models.reports import AudioObject, Report
from ivr.platform.db import Base, Database
from ivr.platform.logs import configure_logging
from ivr.services import Services
from ivr.worker.runner import build_worker
from tests.conftest import PLANTED_NUMBER, Caller, EmulatorCaller
from tests.worker.conftest import settle

# The number as it might be written anywhere: international, national, bare digits.
TRACES = [
    PLANTED_NUMBER,
    PLANTED_NUMBER.removeprefix("+"),
    "0" + PLANTED_NUMBER.removeprefix("+44"),
    PLANTED_NUMBER.removeprefix("+44"),
    "JANE CALLER",  # CallerName
    "LEEDS",  # FromCity / CallerCity
    "TN-Validation-Passed",  # StirVerstat
]


@pytest.fixture
def service_log() -> Iterator[io.StringIO]:
    """Capture what the service logs, through its own configured handler."""
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    yield stream
    configure_logging("INFO")


def dump_database(db: Database) -> str:
    lines = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                lines.append(f"{table.name}: {tuple(row)}")
    return "\n".join(lines)


def files_written(*folders: Path) -> Iterator[tuple[Path, bytes]]:
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                yield path, path.read_bytes()


def test_complete_calls_leave_no_trace_of_the_caller(
    caller: Caller, db: Database, config: Config, tmp_path: Path, service_log: io.StringIO
) -> None:
    # Given three callers' journeys: English anonymous, Welsh with contact details, a hang-up
    logs = [
        caller.call("1,1,2,1,#,1"),
        caller.call("9,1,4,2,#,1,#", audio="report-cy.wav"),
        caller.call("1,1,1,1"),
    ]
    assert sum(len(log.recordings) for log in logs) == 4

    # Then the database holds reports...
    dump = dump_database(db)
    assert dump.count("reports: (") == 3
    # ...but no trace of who called, in any row,
    for trace in TRACES:
        assert trace not in dump
    # in any log line,
    logged = service_log.getvalue()
    assert "call.started" in logged and "report.recording_registered" in logged
    for trace in TRACES:
        assert trace not in logged
    # or in any file the service wrote (its database file included).
    for path, content in files_written(tmp_path):
        for trace in TRACES:
            assert trace.encode() not in content, f"{trace} found in {path}"


def test_reports_keep_the_day_not_the_time(db: Database) -> None:
    columns = {c["name"]: c["type"] for c in inspect(db.engine).get_columns("reports")}
    # The day the report arrived: a date, never a time of day.
    assert isinstance(columns["received_on"], Date) and not isinstance(
        columns["received_on"], DateTime
    )
    # No time at all: even a handler's claim is kept by the day (a follow-up answer sets it).
    assert [name for name, kind in columns.items() if isinstance(kind, DateTime)] == []


def test_a_phone_number_that_slips_into_a_log_is_redacted(service_log: io.StringIO) -> None:
    logger = logging.getLogger("ivr.test")
    logger.info("a careless line with %s in it", PLANTED_NUMBER)
    try:
        raise ValueError(f"caller 0{PLANTED_NUMBER.removeprefix('+44')} was not found")
    except ValueError:
        logger.exception("failed for CA%s", "ab" * 16)
    logged = service_log.getvalue()
    for trace in TRACES[:4]:
        assert trace not in logged
    assert "[redacted-number]" in logged and "CA[redacted]" in logged


def test_after_processing_neither_the_caller_nor_twilios_references_remain(
    emulator_caller: EmulatorCaller,
    ingest_config: Config,
    db: Database,
    tmp_path: Path,
    service_log: io.StringIO,
) -> None:
    # Given calls whose reports have been fetched, stored and erased at Twilio
    logs = [
        emulator_caller.call("1,1,2,2,#,1,#"),
        emulator_caller.call("9,1,1,1,#,1", audio="report-cy.wav"),
    ]
    settle(build_worker(Services(ingest_config, db=db)), db)
    references = [sid for log in logs for sid in (log.call_sid, *log.recordings)]
    assert len(references) == 5
    # Then no SID, and nothing about the caller, is left in the database, the logs or any file
    dump = dump_database(db)
    assert dump.count("reports: (") == 2 and "queued" in dump
    logged = service_log.getvalue()
    assert "job.finished" in logged
    for trace in [*TRACES, *references]:
        assert trace not in dump, trace
        assert trace not in logged, trace
    for path, content in files_written(tmp_path):
        for trace in [*TRACES, *references]:
            assert trace.encode() not in content, f"{trace} found in {path}"


def test_no_log_line_names_a_report_a_job_or_a_stored_object(
    emulator_caller: EmulatorCaller,
    ingest_config: Config,
    db: Database,
    service_log: io.StringIO,
) -> None:
    # Given a report taken, stored and queued, with the service logging at INFO
    emulator_caller.call("1,1,2,2,#,1,#")
    settle(build_worker(Services(ingest_config, db=db)), db)
    with db.transaction() as session:
        reference = session.scalars(select(Report.reference)).one()
        names = list(session.scalars(select(AudioObject.object_name)))
        jobs = list(session.scalars(select(RecordingJob.id)))
    logged = service_log.getvalue()
    assert "report.queued" in logged and "job.stored" in logged
    # Then nothing in the log ties a line's time to that report
    assert reference not in logged
    for name in names:
        assert name not in logged
    assert not any(f"job={job}" in logged for job in jobs)
    # And a reference or object name that slipped into a message would be masked
    logging.getLogger("ivr.test").info("careless %s %s", reference, names[0])
    assert reference not in service_log.getvalue() and names[0] not in service_log.getvalue()
