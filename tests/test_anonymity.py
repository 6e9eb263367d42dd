"""The product's promise: after complete calls, the caller's number is nowhere.

Calls are placed with a planted number (and the caller's name and town, as Twilio
sends them); then every store we control is searched: every row of every table,
every log line, every file written under the service's folders.

The online form and the phone follow-up join the search (``tests.anonymity_markers``):
a sender's words and contact details are sealed, so never in the clear outside the
console's own text columns once a handler takes the report; their browser's address,
agent and referrer, and what their files say of who made them, are nowhere at all; a
follow-up caller's reference and PIN are in no row, log line, metric or spool entry.
Each of these searches is shown to fail with a leak planted in one store.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from flask import Flask
from PIL import Image
from prometheus_client import Gauge
from sqlalchemy import Date, DateTime, inspect, select
from sqlalchemy.exc import OperationalError

from ivr.cli.calls import AppTransport
from ivr.config import Config
from ivr.dev.phone import CallLog, HeldMedia, Phone, scripted_keys
from ivr.models.calls import CallSession, RecordingJob
from ivr.models.flows import FlowVersion
from ivr.models.followup import FollowUpAnswer
from ivr.models.online import OnlineObject
from ivr.models.reports import AudioObject, Report
from ivr.models.staff import Role
from ivr.platform.db import Base, Database
from ivr.platform.logs import configure_logging
from ivr.services import Services, services
from ivr.telephony.spool import Spool
from ivr.worker.runner import build_worker
from tests.anonymity_markers import (
    ADDRESS_V6,
    CONSOLE_TEXT,
    CONTACT,
    ENVIRON,
    FILE_NAME,
    FORWARDED_V4,
    HEADERS,
    JPEG_ARTIST,
    JPEG_MAKE,
    JPEG_SERIAL,
    METADATA,
    NOTE,
    OGG_ARTIST,
    PDF_AUTHOR,
    REFERER,
    REQUEST,
    USER_AGENT,
    WHAT,
    WHEN,
    WHERE,
    WHO,
    WORDS,
    FileWrites,
    Stores,
    jpeg,
    ogg,
    pdf,
    png,
    search,
    writes_recorded,
)
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PLANTED_NUMBER,
    SAMPLES,
    Caller,
    EmulatorCaller,
)
from tests.console import conftest as console_fixtures
from tests.console.conftest import AsRole, post
from tests.followup.test_followup_calls import heard, reference_in
from tests.online.helpers import send
from tests.worker.conftest import settle

# The console's fixtures, by name: a signed-in handler opens an online report.
as_role, staff = console_fixtures.as_role, console_fixtures.staff

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


# The online form and the phone follow-up: markers planted where a sender or caller might
# leave something, then every store searched (``tests.anonymity_markers``).

PIN = "739146"  # six digits: too few for the logs' phone-number mask to hide


@pytest.fixture
def written() -> Iterator[FileWrites]:
    """Every file this process writes (and what a removed one held) during the test."""
    with writes_recorded() as writes:
        yield writes


@dataclass(frozen=True)
class Sent:
    """An online report sent with every marker, and where to look for them."""

    app: Flask
    config: Config
    db: Database
    tmp_path: Path
    service_log: io.StringIO
    written: FileWrites
    follow_up_reference: str

    def stores(self, **outputs: bytes) -> Stores:
        metrics = self.app.test_client().get("/metrics")
        assert metrics.status_code == 200
        return Stores(
            self.db,
            self.service_log.getvalue(),
            metrics.get_data(as_text=True),
            folders=(self.tmp_path,),
            written=self.written,
            outputs=outputs,
        )

    @property
    def database_file(self) -> Path:
        return self.tmp_path / "ivr.sqlite3"


def send_with_markers(
    app: Flask, files: list[tuple[bytes, str]] | None = None, **fields: str
) -> str:
    """Send the form from a browser whose address, agent and referrer are markers."""
    sender = app.test_client()
    sender.environ_base.update(ENVIRON)
    response = send(
        sender,
        headers=HEADERS,
        files=files,
        what=WHAT,
        who=WHO,
        where=WHERE,
        when=WHEN,
        anonymity="contact",
        contact=CONTACT,
        pin=PIN,
        pin_again=PIN,
        **fields,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    found = re.search(r'id="follow-up-reference">[^<]*?((?:\d{4} ){2}\d{4})', page)
    assert found, "no follow-up reference shown"
    return found.group(1).replace(" ", "")


ATTACHMENTS = [
    (jpeg(), f"{FILE_NAME}.jpg"),
    (png(), "picture.png"),
    (pdf(), "statement.pdf"),
    (f"{NOTE}\n".encode(), "notes.txt"),
]


@pytest.fixture
def sent(
    ingest_app: Flask,
    ingest_config: Config,
    db: Database,
    tmp_path: Path,
    service_log: io.StringIO,
    written: FileWrites,
) -> Sent:
    reference = send_with_markers(ingest_app, ATTACHMENTS)
    return Sent(ingest_app, ingest_config, db, tmp_path, service_log, written, reference)


def sent_traces(sent: Sent) -> list[str]:
    """Everything planted in or with the online report that must never be in the clear."""
    reference = sent.follow_up_reference
    grouped = " ".join(reference[i : i + 4] for i in range(0, 12, 4))
    return [*WORDS, *REQUEST, *METADATA, PIN, reference, grouped]


def test_an_online_report_leaves_nothing_of_its_sender_in_the_clear(sent: Sent) -> None:
    # Given a report sent with words, contact details, four files and a PIN, from a
    # browser that gave its address, agent and referrer in every header there is
    stores = sent.stores()
    # (the search sees the stored objects, the files written and the access log)
    objects = Path(sent.config.storage_url)
    assert len([p for p in objects.rglob("*") if p.is_file()]) == 6
    assert any(objects in path.parents for path in sent.written.paths)
    assert "route=/metrics" in stores.logged
    # Then, before anyone opens it, none of it is anywhere in the clear: not in a row,
    # a log line, a metric, a stored object's bytes, the spool or any file written.
    assert search(sent_traces(sent), stores) == []


def open_as_handler(sent: Sent, as_role: AsRole) -> dict[str, bytes]:
    """Take the report, open it and fetch every attachment: what the handler was served."""
    handler = as_role(Role.HANDLER)
    taken = post(handler, "/console/take-next")
    reference = taken.headers["Location"].rsplit("/", 1)[1]
    page = handler.get(f"/console/reports/{reference}")
    assert page.status_code == 200
    served = {"report page": page.data}
    for link in sorted(set(re.findall(rb'(/console/reports/[^"]+/attachments/[^"]+)"', page.data))):
        response = handler.get(link.decode())
        assert response.status_code == 200
        served[f"attachment {response.mimetype}"] = response.data
    return served


def test_once_a_handler_opens_it_the_words_are_only_in_the_consoles_text_and_the_rest_nowhere(
    sent: Sent, as_role: AsRole
) -> None:
    # Given the report taken and opened by a handler, its attachments cleaned and served
    served = open_as_handler(sent, as_role)
    assert set(served) == {
        "report page",
        "attachment image/jpeg",
        "attachment image/png",
        "attachment application/pdf",
        "attachment text/plain",
    }
    page = served["report page"].decode()
    assert WHAT in page and CONTACT in page and "GPS position" in page
    stores = sent.stores()
    # Then the sender's words are in the console's own text columns (so the search sees
    # them there)...
    assert "database reports.transcript: " + WHAT in search(WORDS, stores)
    # ...and nowhere else in the clear (the SQLite file holds those columns too)
    words = search(WORDS, stores, allowed_columns=CONSOLE_TEXT, skip_files=[sent.database_file])
    assert words == []
    # And the request's and the files' markers are nowhere at all: not in a row (what
    # cleaning removed names kinds, never values), the page, nor any cleaned copy
    everything = dataclasses.replace(stores, outputs=served)
    assert search([*REQUEST, *METADATA, PIN, sent.follow_up_reference], everything) == []
    with sent.db.transaction() as session:
        removed = {o.media_type: o.removed for o in session.scalars(select(OnlineObject))}
    assert (
        "GPS position" in removed["image/jpeg"]
        and "author" in removed["application/pdf"].splitlines()
    )
    with Image.open(io.BytesIO(served["attachment image/jpeg"])) as image:
        assert not image.getexif() and not image.info.get("comment")
    with Image.open(io.BytesIO(served["attachment image/png"])) as image:
        assert not getattr(image, "text", None)
    with pikepdf.open(io.BytesIO(served["attachment application/pdf"])) as document:
        assert not document.docinfo.keys() and "/Metadata" not in document.Root


def test_an_oggs_tags_are_not_kept_in_what_cleaning_removed(
    ingest_app: Flask, db: Database, as_role: AsRole, tmp_path: Path, service_log: io.StringIO
) -> None:
    send_with_markers(ingest_app, [(ogg(), "voice.ogg")])
    handler = as_role(Role.HANDLER)
    reference = post(handler, "/console/take-next").headers["Location"].rsplit("/", 1)[1]
    page = handler.get(f"/console/reports/{reference}").data
    stores = Stores(db, service_log.getvalue(), "", (tmp_path,), outputs={"report page": page})
    assert search([OGG_ARTIST], stores) == []


def grouped(reference: str) -> str:
    """A follow-up reference as the sender is shown it: three groups of four."""
    return " ".join(reference[i : i + 4] for i in range(0, 12, 4))


class Watched(AppTransport):
    """The app's transport, searching every row for ``traces`` after each webhook."""

    def __init__(self, app: Flask, db: Database, traces: list[str]) -> None:
        super().__init__(app.test_client())
        self.db, self.traces = db, traces
        self.found: list[str] = []

    def post(self, url: str, params: Mapping[str, str], signature: str) -> str:
        body = super().post(url, params, signature)
        self.found += search(self.traces, Stores(self.db, "", ""))
        return body


def watched_call(
    app: Flask, db: Database, keys: str, traces: list[str]
) -> tuple[CallLog, list[str]]:
    """A call from the planted number; and what the rows held of ``traces`` at any turn."""
    transport = Watched(app, db, traces)
    phone = Phone(
        transport,
        HeldMedia(ACCOUNT_SID),
        public_base=services(app).config.public_base,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        keys=scripted_keys(keys),
        audio=(SAMPLES / "report-en.wav").read_bytes(),
        caller=PLANTED_NUMBER,
    )
    return phone.call(), transport.found


def database_down(*_: object) -> None:
    raise OperationalError("INSERT", {}, ConnectionError("the database is down"))


@dataclass(frozen=True)
class CalledBack:
    """A caller who took a reference and a PIN and called back with them."""

    app: Flask
    db: Database
    tmp_path: Path
    service_log: io.StringIO
    written: FileWrites
    reference: str
    spooled: bytes  # the spool as it was while the database was down
    during_calls: list[str]  # what any row held of the digits, after any webhook

    @property
    def traces(self) -> list[str]:
        return [*TRACES, PIN, self.reference, grouped(self.reference)]

    def stores(self) -> Stores:
        metrics = self.app.test_client().get("/metrics").get_data(as_text=True)
        return Stores(
            self.db,
            self.service_log.getvalue(),
            metrics,
            folders=(self.tmp_path,),
            written=self.written,
            outputs={"spool": self.spooled},
        )


@pytest.fixture
def called_back(
    app: Flask,
    db: Database,
    tmp_path: Path,
    service_log: io.StringIO,
    written: FileWrites,
    monkeypatch: pytest.MonkeyPatch,
) -> CalledBack:
    # A caller who reports and takes a follow-up reference with a PIN
    first, during_first = watched_call(app, db, f"1,1,1,1,#,1,1,2,{PIN}#,{PIN}#", [PIN])
    reference = reference_in(first)
    assert "Your follow-up reference is ready" in heard(first)
    # calls back from the same planted number and keys both, while the database is down
    # for the answer's recording (so it waits in the spool)
    journal = services(app).journal
    with monkeypatch.context() as patch:
        patch.setattr(journal, "_transaction", database_down)
        second, during_second = watched_call(
            app, db, f"1,4,{reference}#,{PIN}#,#", [PIN, reference, grouped(reference)]
        )
        spooled = journal.spool.path.read_bytes()
    deadline = time.monotonic() + 10
    while journal.spool.pending() or journal.replay_now():  # or its own thread replays it
        assert time.monotonic() < deadline, "the spool was never replayed"
        time.sleep(0.05)
    assert "What you said has been added to your report" in heard(second)
    with db.transaction() as session:
        assert len(session.scalars(select(FollowUpAnswer)).all()) == 1
    assert spooled and journal.spool.path.absolute() in written.paths
    return CalledBack(
        app,
        db,
        tmp_path,
        service_log,
        written,
        reference,
        spooled,
        during_first + during_second,
    )


def test_a_follow_up_call_leaves_neither_the_caller_nor_the_digits_they_keyed(
    called_back: CalledBack,
) -> None:
    # Then no row held the PIN or the reference at any turn of either call (a live
    # call's state included), and nothing of the caller or their digits is in any row,
    # log line (exceptions included), metric, the spool (as it was, and as replayed) or
    # any file written
    assert called_back.during_calls == []
    stores = called_back.stores()
    assert "call.started" in stores.logged and "followup.verified" in stores.logged
    assert search(called_back.traces, stores) == []


# Each search above, shown to fail: the same report or call, one leak planted in one store.

# A leak: plant it, and return what the search must then name (and any outputs to search).
Leak = Callable[[Sent], tuple[str, dict[str, bytes]]]


def log_the_senders_address(sent: Sent) -> tuple[str, dict[str, bytes]]:
    logging.getLogger("ivr.online.views").info("form sent from %s by %s", ADDRESS_V6, USER_AGENT)
    return f"log: {ADDRESS_V6}", {}


def keep_a_serial_in_what_cleaning_removed(sent: Sent) -> tuple[str, dict[str, bytes]]:
    with sent.db.transaction() as session:
        for item in session.scalars(select(OnlineObject)):
            item.removed = f"camera serial number {JPEG_SERIAL}"
    return f"database online_objects.removed: {JPEG_SERIAL}", {}


def copy_words_into_a_column_not_the_consoles(sent: Sent) -> tuple[str, dict[str, bytes]]:
    with sent.db.transaction() as session:
        session.scalars(select(Report)).one().review_comment = f"sent by {WHO}"
    return f"database reports.review_comment: {WHO}", {}


def store_contact_details_in_the_clear(sent: Sent) -> tuple[str, dict[str, bytes]]:
    path = Path(sent.config.storage_url).absolute() / ("0" * 32)
    path.write_bytes(CONTACT.encode())
    return f"file {path}: {CONTACT}", {}


def spool_the_referer(sent: Sent) -> tuple[str, dict[str, bytes]]:
    spool = Spool(sent.config.spool_dir)
    spool.append({"kind": "recording", "referer": REFERER})
    return f"file {spool.path.absolute()}: MARKER-REF-Zc1", {}


def write_a_temporary_file_and_remove_it(sent: Sent) -> tuple[str, dict[str, bytes]]:
    with tempfile.NamedTemporaryFile(prefix="upload-") as file:  # in the system's own folder
        file.write(f"{JPEG_ARTIST} {PIN}".encode())
        file.flush()
    assert not Path(file.name).exists()
    return f"file {Path(file.name).absolute()}: {JPEG_ARTIST}", {}


def label_a_metric_with_the_forwarded_address(sent: Sent) -> tuple[str, dict[str, bytes]]:
    registry = services(sent.app).metrics
    Gauge("ivr_senders", "senders", ["client"], registry=registry).labels(FORWARDED_V4).set(1)
    return f"metrics: {FORWARDED_V4}", {}


def serve_the_photo_uncleaned(sent: Sent) -> tuple[str, dict[str, bytes]]:
    return f"attachment image/jpeg: {JPEG_MAKE}", {"attachment image/jpeg": jpeg()}


def serve_a_page_naming_the_pdfs_author(sent: Sent) -> tuple[str, dict[str, bytes]]:
    page = f"<li>Removed before showing: document author ({PDF_AUTHOR})</li>".encode()
    return f"report page: {PDF_AUTHOR}", {"report page": page}


@pytest.mark.parametrize(
    "leak",
    [
        log_the_senders_address,
        keep_a_serial_in_what_cleaning_removed,
        copy_words_into_a_column_not_the_consoles,
        store_contact_details_in_the_clear,
        spool_the_referer,
        write_a_temporary_file_and_remove_it,
        label_a_metric_with_the_forwarded_address,
        serve_the_photo_uncleaned,
        serve_a_page_naming_the_pdfs_author,
    ],
    ids=lambda leak: leak.__name__,
)
def test_the_online_search_finds_a_planted_leak(sent: Sent, leak: Leak) -> None:
    # Given the report sent with every marker, and one of them leaked into one store
    expected, outputs = leak(sent)
    # Then the search names it there (the console's own text columns alone are allowed)
    found = search(sent_traces(sent), sent.stores(**outputs), allowed_columns=CONSOLE_TEXT)
    assert expected in found, found


# A leak in a follow-up's stores: plant it, and return what the search must then name.
CallLeak = Callable[[CalledBack], str]


def log_the_pin(called_back: CalledBack) -> str:
    logging.getLogger("ivr.reports.followup").info("followup.verified pin=%s", PIN)
    return f"log: {PIN}"


def report_an_exception_quoting_the_pin(called_back: CalledBack) -> str:
    try:
        raise ValueError(f"PIN {PIN} does not match")
    except ValueError:
        logging.getLogger("ivr.telephony.calls").exception("call.failed")
    return f"log: {PIN}"


def spool_the_reference(called_back: CalledBack) -> str:
    spool = Spool(called_back.tmp_path / "spool")
    spool.append({"kind": "recording", "digits": called_back.reference})
    return f"file {spool.path.absolute()}: {called_back.reference}"


def keep_the_pin_in_a_live_calls_state(called_back: CalledBack) -> str:
    with called_back.db.transaction() as session:
        flow = session.scalars(select(FlowVersion.content_hash)).first()
        assert flow is not None
        session.add(
            CallSession(
                call_key="0" * 64,
                flow_hash=flow,
                step="follow_up_pin",
                language="en-GB",
                choices={"pin": PIN},
                expires_at=datetime.now(UTC),
            )
        )
    return f"database call_sessions.choices: {PIN}"


def keep_the_callers_number_on_a_job(called_back: CalledBack) -> str:
    with called_back.db.transaction() as session:
        for job in session.scalars(select(RecordingJob)):
            job.last_error = f"no answer from {PLANTED_NUMBER}"
    return f"database recording_jobs.last_error: {PLANTED_NUMBER}"


@pytest.mark.parametrize(
    "leak",
    [
        log_the_pin,
        report_an_exception_quoting_the_pin,
        spool_the_reference,
        keep_the_pin_in_a_live_calls_state,
        keep_the_callers_number_on_a_job,
    ],
    ids=lambda leak: leak.__name__,
)
def test_the_follow_up_search_finds_a_planted_leak(called_back: CalledBack, leak: CallLeak) -> None:
    expected = leak(called_back)
    found = search(called_back.traces, called_back.stores())
    assert expected in found, found
