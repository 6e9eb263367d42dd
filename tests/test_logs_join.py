"""No log line carries a figure that also sits in the database.

A log line has a time to the millisecond; a report keeps only its day. If a line also
carried a figure the database holds for one report (a recording's size or length, a
job's id, a place in the queue), joining the two would date the report. So real work is
done (a call through ingest, an online report with a file, a follow-up call-back), every
record of every logger is captured, and every number in every line is joined with every
numeric, date and time value of every row of every table.

What counts as a match is chosen so that the join means something:

- a log number equal to a figure of 10 or more, or to any fractional figure, from any
  column: such a value is specific enough to single out a row;
- a log number of 2 or more equal to a figure of a column that describes one report or
  names one row (a size, a duration, seconds, a gain, a position, a take, an attempt, an
  integer key): tests make few rows, so their ids and counts are small;
- a time of day in a log (``HH:MM``) equal to that of a stored time finer than the day,
  or a log number equal to such a time in seconds or milliseconds since the epoch.

Left out: 0 and 1, which every table holds somewhere; days (reports keep their day);
the access log's HTTP ``status`` and elapsed ``ms`` (a request's own, stored nowhere);
host ports and traceback line numbers, which say where code ran, not what it stored.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import Integer, select

from ivr.cli.calls import AppTransport
from ivr.config import Config
from ivr.dev.phone import CallLog, Phone, scripted_keys
from ivr.models.online import OnlineObject
from ivr.models.reports import AudioObject
from ivr.platform.db import Base, Database
from ivr.platform.logs import configure_logging
from ivr.services import Services, services
from ivr.worker.runner import build_worker
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PLANTED_NUMBER, SAMPLES, EmulatorCaller
from tests.followup.test_followup_calls import REPORT_THEN_REFERENCE, reference_in
from tests.online.helpers import photo_with_gps, send
from tests.worker.conftest import settle

NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?!\w)")
TIME_OF_DAY = re.compile(r"(?<!\d)([01]\d|2[0-3]):([0-5]\d)(?!\d)")
# A request's own status and elapsed time; a host's port; where a traceback's code ran.
NOT_FIGURES = re.compile(r"\b(?:status|ms)=\S+|[\w.-]+:\d+\b|\bline \d+")
# Columns that describe one report's content or name one row: matched from 2 up.
DESCRIBING = re.compile(r"size|duration|seconds|gain|position|take|attempt|failures|turn")


@dataclass(frozen=True)
class Figure:
    where: str
    value: Decimal


def log_text(record: logging.LogRecord) -> str:
    return record.getMessage() + (f"\n{record.exc_text}" if record.exc_text else "")


def log_numbers(text: str) -> list[Decimal]:
    return [Decimal(token) for token in NUMBER.findall(NOT_FIGURES.sub(" ", text))]


def figures(db: Database) -> Iterator[Figure]:
    """Every numeric, date and time value of every row, as the join compares them."""
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    where = f"{table.name}.{column.name}"
                    describing = DESCRIBING.search(column.name) or (
                        isinstance(column.type, Integer)
                        and (column.primary_key or column.foreign_keys)
                    )
                    yield from _figures_of(where, value, bool(describing))


def _finer_than_the_day(value: object) -> bool:
    if not isinstance(value, datetime):
        return False
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.timetz().replace(tzinfo=None) != time()


def stored_times(db: Database) -> set[tuple[str, datetime]]:
    """Every stored time finer than the day, with the column that holds it."""
    with db.engine.connect() as connection:
        return {
            (f"{table.name}.{column.name}", value)
            for table in Base.metadata.sorted_tables
            for row in connection.execute(select(table))
            for column, value in zip(table.columns, row, strict=True)
            if _finer_than_the_day(value)
        }


def _figures_of(where: str, value: object, describing: bool) -> Iterator[Figure]:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
        fractional = number != number.to_integral_value()
        if abs(number) >= 10 or fractional or (describing and abs(number) >= 2):
            yield Figure(where, abs(number))
    elif isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        if _finer_than_the_day(value):
            yield Figure(f"{where} (epoch s)", Decimal(int(moment.timestamp())))
            yield Figure(f"{where} (epoch ms)", Decimal(int(moment.timestamp() * 1000)))
            utc = moment.astimezone(UTC)
            yield Figure(f"{where} (time of day)", Decimal(utc.hour * 100 + utc.minute))
    elif isinstance(value, time):
        yield Figure(f"{where} (time of day)", Decimal(value.hour * 100 + value.minute))
    elif isinstance(value, date):
        return  # a day dates nothing finer than what reports keep


def matches(logged: Decimal, figure: Figure) -> bool:
    """Equal, or ``figure`` rounded to as many decimals as ``logged`` shows."""
    exponent = logged.as_tuple().exponent
    assert isinstance(exponent, int)
    return figure.value.quantize(Decimal(1).scaleb(exponent)) == logged


def joined(records: list[logging.LogRecord], db: Database) -> list[str]:
    """Each log line that shares a figure with a row, and the column it shares it with."""
    stored = list(figures(db))
    found = []
    for record in records:
        text = log_text(record)
        numbers = log_numbers(text)
        times = [Decimal(int(h) * 100 + int(m)) for h, m in TIME_OF_DAY.findall(text)]
        for figure in stored:
            if figure.where.endswith("(time of day)"):
                hit = figure.value in times
            else:
                hit = any(matches(number, figure) for number in numbers)
            if hit:
                found.append(f"{record.name}: {text!r} ~ {figure.where}={figure.value}")
    return found


def _call(caller: EmulatorCaller, keys: str) -> CallLog:
    return Phone(
        AppTransport(caller.app.test_client()),
        caller.media,
        public_base=caller.public_base,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        keys=scripted_keys(keys),
        audio=(SAMPLES / "report-en.wav").read_bytes(),
        caller=PLANTED_NUMBER,
    ).call()


@pytest.fixture
def every_record(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every logger's records with the service logging at DEBUG, its most verbose.

    Libraries keep the levels the service gives them (SQLAlchemy's own default is
    WARNING): forcing its engine to DEBUG would echo every row, which the service never does.
    """
    configure_logging("DEBUG", stream=io.StringIO())
    caplog.set_level(logging.DEBUG)
    yield caplog
    configure_logging("INFO")


def test_no_log_line_shares_a_figure_with_any_row(
    emulator_caller: EmulatorCaller,
    ingest_app: Flask,
    ingest_config: Config,
    db: Database,
    every_record: pytest.LogCaptureFixture,
) -> None:
    photo = photo_with_gps()  # made by the test, not the service: its logging is not joined
    # A deployment publishes its flow before anyone calls: its audit event is the ops team's
    with ingest_app.app_context():
        services(ingest_app).flows.current()
    before = stored_times(db)
    every_record.clear()
    # Given a call with a report and contact details, fetched, stored and queued
    emulator_caller.call("9,1,4,2,#,1,#")
    # and a caller who reported, took a follow-up reference, and called back with it
    reference = reference_in(_call(emulator_caller, REPORT_THEN_REFERENCE))
    _call(emulator_caller, f"1,4,{reference}#,4826#,#")
    settle(build_worker(Services(ingest_config, db=db)), db)
    # and an online report with a photo
    response = send(ingest_app.test_client(), what="took cash", files=[(photo, "a.jpg")])
    assert response.status_code == 200, response.get_data(as_text=True)
    with db.reading() as session:
        assert len(session.scalars(select(AudioObject)).all()) >= 3
        assert session.scalars(select(OnlineObject)).all()
    records = list(every_record.records)
    assert any(r.getMessage().startswith("job.stored") for r in records)

    # Then the callers' work stored no time finer than the day (not even an audit event's),
    # so no log line's own timestamp can be joined with a row either
    assert stored_times(db) - before == set()
    # And no log line shares a figure with any row of any table
    found = joined(records, db)
    assert not found, "\n".join(found)
    # Nor does a library describe the sender's picture (its camera, where it was taken)
    assert not any("PlantedCameraMake" in log_text(record) for record in records)
