"""A job that can never succeed is parked for a person, never retried for ever."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update

from ivr.config import Config
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.calls import JobState, RecordingJob
from ivr.models.reports import Report, ReportStatus
from ivr.platform.db import Database, utcnow
from ivr.telephony.jobs import JobQueue, RetryPolicy
from ivr.worker.runner import Worker
from tests.conftest import EmulatorCaller
from tests.test_anonymity import dump_database
from tests.worker.conftest import settle


def the_job_and_report(db: Database) -> tuple[RecordingJob, Report]:
    with db.transaction() as session:
        job = session.scalars(select(RecordingJob)).one()
        return job, session.get_one(Report, job.report_id)


def test_a_job_raising_an_unexpected_error_is_parked_and_shown_as_audio_failed(
    emulator_caller: EmulatorCaller,
    emulator: RunningEmulator,
    worker: Worker,
    db: Database,
    ingest_app: Flask,
    ingest_config: Config,
) -> None:
    # Given Twilio serves a recording a byte short: PCM of odd length, a ValueError to clean
    emulator.state.faults["media_truncated"] = 100
    log = emulator_caller.call("1,1,1,1,#,1")
    # When the worker has tried it as often as it may
    settle(worker, db)
    # Then the job is parked with the reason, not retried for ever
    job, report = the_job_and_report(db)
    assert job.state is JobState.FAILED and job.attempts == ingest_config.job_max_attempts
    assert "ValueError" in (job.last_error or "")
    assert "multiple of" in (job.last_error or "")
    # and its report is shown as "audio failed", and counted
    assert report.status is ReportStatus.AUDIO_FAILED
    scraped = ingest_app.test_client().get("/metrics").get_data(as_text=True)
    assert 'ivr_reports{status="audio_failed"} 1.0' in scraped
    assert 'ivr_recording_jobs{state="failed"} 1.0' in scraped
    # and Twilio keeps the recording and the call log until it is fixed
    assert emulator.state.deleted_recordings == [] and emulator.state.deleted_calls == []
    # When Twilio serves it whole again and an operator retries it
    emulator.state.faults["media_truncated"] = 0
    assert JobQueue(db, timedelta(seconds=30), RetryPolicy()).retry_failed() == 1
    assert the_job_and_report(db)[1].status is ReportStatus.AWAITING_AUDIO
    settle(worker, db)
    # Then the report is queued, Twilio's copies are erased, and no SID is left with us
    assert the_job_and_report(db)[1].status is ReportStatus.QUEUED
    assert emulator.state.deleted_recordings == log.recordings
    assert emulator.state.deleted_calls == [log.call_sid]
    dump = dump_database(db)
    for sid in (log.call_sid, *log.recordings):
        assert sid not in dump


def test_a_job_whose_workers_keep_dying_on_it_is_parked(
    emulator_caller: EmulatorCaller, db: Database, ingest_config: Config
) -> None:
    # Given a job every attempt of which was claimed by a worker that died before reporting
    emulator_caller.call("1,1,1,1,#,1")
    queue = JobQueue(db, timedelta(seconds=30), RetryPolicy(ingest_config.job_max_attempts))
    with db.transaction() as session:
        session.execute(
            update(RecordingJob).values(
                attempts=ingest_config.job_max_attempts,
                lease_owner="dead",
                lease_expires=utcnow() - timedelta(seconds=1),
            )
        )
    # When a worker next looks for work
    assert queue.claim("alive") is None
    # Then the job is parked for a person rather than killing another worker
    job, report = the_job_and_report(db)
    assert job.state is JobState.FAILED and job.lease_owner is None
    assert "stopped during each of" in (job.last_error or "")
    assert report.status is ReportStatus.AUDIO_FAILED
