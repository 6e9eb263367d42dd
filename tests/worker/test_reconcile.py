"""Recordings no callback announced are still found, fetched and queued."""

from __future__ import annotations

import re
from datetime import timedelta

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from ivr.cli import main
from ivr.config import Config
from ivr.dev.phone import EmulatorMedia, RecordingKind
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.calls import JobState, RecordingJob
from ivr.models.reports import RecordingPart, Report, ReportSource, ReportStatus
from ivr.platform.db import Database
from ivr.reports.intake import Recording
from ivr.services import twilio_api
from ivr.telephony.journal import Journal
from ivr.telephony.spool import Spool
from ivr.worker.reconcile import reconcile
from ivr.worker.runner import Worker
from tests.conftest import SAMPLES
from tests.worker.conftest import cli_env, settle

SPEECH = (SAMPLES / "report-en.wav").read_bytes()


def test_a_recording_whose_callbacks_were_lost_becomes_a_report(
    emulator: RunningEmulator, worker: Worker, db: Database, ingest_config: Config
) -> None:
    # Given a recording at Twilio whose callbacks never reached us (e.g. the fallback URL
    # took it while our database was down)
    sid, _ = EmulatorMedia(emulator.url).store("CA" + "3" * 32, SPEECH)
    twilio = twilio_api(ingest_config)
    # When reconciliation runs (twice: it must not double up)
    assert reconcile(db, twilio, ingest_config.secret_key, timedelta(0)) == 1
    assert reconcile(db, twilio, ingest_config.secret_key, timedelta(0)) == 0
    settle(worker, db)
    # Then it is queued like any report, marked as received without menu choices
    with db.transaction() as session:
        (report,) = session.scalars(select(Report))
    assert (report.source, report.status, report.category) == (
        ReportSource.RECONCILED,
        ReportStatus.QUEUED,
        None,
    )
    assert emulator.state.deleted_recordings == [sid]


def test_recordings_of_very_recent_calls_are_left_to_their_callbacks(
    emulator: RunningEmulator, db: Database, ingest_config: Config
) -> None:
    # (Calls keep no row while they last: the grace is what leaves their callbacks time.)
    EmulatorMedia(emulator.url).store("CA" + "5" * 32, SPEECH)
    twilio = twilio_api(ingest_config)
    assert reconcile(db, twilio, ingest_config.secret_key, timedelta(minutes=10)) == 0
    assert reconcile(db, twilio, ingest_config.secret_key, timedelta(0)) == 1


def test_the_static_fallbacks_recordings_are_taken_at_once_in_the_language_they_show(
    emulator: RunningEmulator, worker: Worker, db: Database, ingest_config: Config
) -> None:
    # Given two calls the static fallback took while the edge was down: the English one
    # recorded in one channel, the Welsh one in two, both by <Start><Recording> (twilio-oai:
    # a recording's "source" and "channels"), and one the edge itself asked for
    media = EmulatorMedia(emulator.url)
    started = "StartCallRecordingTwiML"
    english, _ = media.store("CA" + "a" * 32, SPEECH, RecordingKind(started, 1))
    welsh, _ = media.store("CA" + "b" * 32, SPEECH, RecordingKind(started, 2))
    media.store("CA" + "c" * 32, SPEECH)  # <Record>: its callbacks may be on their way
    # When reconciliation runs with its usual grace, moments after the calls
    twilio = twilio_api(ingest_config)
    assert reconcile(db, twilio, ingest_config.secret_key, timedelta(minutes=10)) == 2
    settle(worker, db)
    # Then the fallback's two are queued as reports from the fallback, language known,
    # category unknown, and erased at Twilio; the edge's own is left to its callbacks
    with db.transaction() as session:
        found = {
            (report.source, report.language, report.category, report.status)
            for report in session.scalars(select(Report))
        }
    assert found == {
        (ReportSource.FALLBACK, "en-GB", None, ReportStatus.QUEUED),
        (ReportSource.FALLBACK, "cy-GB", None, ReportStatus.QUEUED),
    }
    assert sorted(emulator.state.deleted_recordings) == sorted([english, welsh])


def test_a_callback_that_comes_after_reconciliation_adds_the_callers_choices(
    emulator: RunningEmulator, db: Database, ingest_config: Config
) -> None:
    # Given a recording that reconciliation took in before its callback arrived
    call_sid = "CA" + "6" * 32
    sid, _ = EmulatorMedia(emulator.url).store(call_sid, SPEECH)
    reconcile(db, twilio_api(ingest_config), ingest_config.secret_key, timedelta(0))
    # When the callback arrives, with the choices the caller made
    Journal(db, ingest_config.secret_key, Spool(ingest_config.spool_dir)).recording(
        Recording(
            recording_sid=sid,
            call_sid=call_sid,
            part=RecordingPart.REPORT,
            source=ReportSource.MENU,
            duration_seconds=9,
            language="cy-GB",
            choices={"category": "discrimination", "anonymity": "anonymous"},
        )
    )
    # Then the one report has them
    with db.transaction() as session:
        (report,) = session.scalars(select(Report))
        assert len(report.recordings) == 1
    assert (report.source, report.language, report.category) == (
        ReportSource.MENU,
        "cy-GB",
        "discrimination",
    )


def test_the_commands_show_and_retry_failed_jobs(
    emulator: RunningEmulator, db: Database, ingest_config: Config
) -> None:
    env = cli_env(ingest_config, IVR_JOB_MAX_ATTEMPTS="1")
    runner = CliRunner(env=env)
    emulator.state.faults["media_404"] = 1  # the recording's own fault: it counts
    EmulatorMedia(emulator.url).store("CA" + "6" * 32, SPEECH)
    assert (
        "1 recording(s) found at Twilio"
        in runner.invoke(main, ["reconcile", "--grace", "0"]).output
    )
    assert "Ran 1 jobs." in runner.invoke(main, ["worker", "--drain"]).output
    listing = runner.invoke(main, ["jobs", "--state", "failed"]).output
    assert "failed" in listing and "gave up after 1 attempts" in listing and "not found" in listing
    assert "ivr jobs retry --all-failed" in listing
    assert "1 job(s) queued again." in runner.invoke(main, ["jobs", "retry", "--all-failed"]).output
    runner.invoke(main, ["worker", "--drain"])
    with db.transaction() as session:
        assert session.scalars(select(RecordingJob)).one().state is JobState.DONE


def test_failed_jobs_are_counted_in_metrics(
    emulator: RunningEmulator,
    worker: Worker,
    db: Database,
    ingest_config: Config,
    ingest_app: Flask,
) -> None:
    emulator.state.faults["media_404"] = 100
    EmulatorMedia(emulator.url).store("CA" + "7" * 32, SPEECH)
    reconcile(db, twilio_api(ingest_config), ingest_config.secret_key, timedelta(0))
    settle(worker, db)
    scraped = ingest_app.test_client().get("/metrics").get_data(as_text=True)
    assert 'ivr_recording_jobs{state="failed"} 1.0' in scraped
    assert 'ivr_reports{status="audio_failed"} 1.0' in scraped


def test_a_job_waiting_for_twilio_says_so_in_the_commands_and_the_metrics(
    emulator: RunningEmulator,
    worker: Worker,
    db: Database,
    ingest_config: Config,
    ingest_app: Flask,
) -> None:
    # Given Twilio answers 503 to every fetch and to the probe of its account
    emulator.state.faults.update({"media_5xx": 100, "account_5xx": 100})
    EmulatorMedia(emulator.url).store("CA" + "8" * 32, SPEECH)
    reconcile(db, twilio_api(ingest_config), ingest_config.secret_key, timedelta(0))
    for _ in range(5):
        worker.run_once()
        worker.probe()
    # Then the job waits, with none of its attempts spent, and everyone can see why
    scraped = ingest_app.test_client().get("/metrics").get_data(as_text=True)
    assert 'ivr_jobs_waiting_for_service{service="twilio"} 1.0' in scraped
    assert waited_seconds(scraped, "twilio") > 0
    assert 'ivr_recording_jobs{state="failed"} 0.0' in scraped
    listing = CliRunner(env=cli_env(ingest_config)).invoke(main, ["jobs"]).output
    assert "waiting for Twilio's REST API" in listing and "HTTP 503" in listing
    with db.transaction() as session:
        job = session.scalars(select(RecordingJob)).one()
        assert (job.attempts, job.state, job.waiting_for) == (0, JobState.PENDING, "twilio")
    # When Twilio is back, the next probe makes the job due and it finishes
    emulator.state.faults.update({"media_5xx": 0, "account_5xx": 0})
    settle(worker, db)
    scraped = ingest_app.test_client().get("/metrics").get_data(as_text=True)
    assert 'ivr_jobs_waiting_for_service{service="twilio"} 0.0' in scraped
    assert waited_seconds(scraped, "twilio") == 0
    assert 'ivr_recording_jobs{state="done"} 1.0' in scraped


def waited_seconds(scraped: str, service: str) -> float:
    found = re.search(rf'^ivr_service_waited_seconds{{service="{service}"}} (\S+)$', scraped, re.M)
    assert found is not None, scraped
    return float(found.group(1))
