"""A report left on the phone arrives, encrypted, in the handlers' queue, and leaves Twilio."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.cli.calls import AppTransport
from ivr.config import Config
from ivr.dev.phone import EmulatorMedia, Phone
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.calls import JobStage, JobState, RecordingJob
from ivr.models.keys import DayKey
from ivr.models.reports import AudioObject, Report, ReportSource, ReportStatus
from ivr.outside.audio import clean
from ivr.platform.db import Database
from ivr.services import object_store, twilio_api
from ivr.telephony.jobs import JobQueue, RetryPolicy
from ivr.worker.reconcile import reconcile
from ivr.worker.runner import Worker
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PLANTED_NUMBER,
    PUBLIC_URL,
    SAMPLES,
    EmulatorCaller,
)
from tests.webhooks.helpers import callback, signed_post, twilio_params
from tests.webhooks.test_calls import walk_to_recording
from tests.worker.conftest import decrypted, settle


def everything(db: Database) -> tuple[list[Report], list[RecordingJob], list[AudioObject]]:
    with db.transaction() as session:
        return (
            list(session.scalars(select(Report))),
            # In order: PostgreSQL returns rows in whatever order updates left them.
            list(session.scalars(select(RecordingJob).order_by(RecordingJob.id))),
            list(session.scalars(select(AudioObject))),
        )


def test_a_call_ends_as_an_encrypted_object_a_queued_report_and_deletes_at_twilio(
    emulator_caller: EmulatorCaller,
    emulator: RunningEmulator,
    worker: Worker,
    db: Database,
    ingest_config: Config,
) -> None:
    # Given a caller who leaves a report
    log = emulator_caller.call("1,1,2,1,#,1")
    # When the worker has run
    settle(worker, db)
    # Then the report is queued for handlers with its length
    (report,), (job,), (stored,) = everything(db)
    assert report.status is ReportStatus.QUEUED
    assert (report.duration_seconds, report.silent, report.has_audio) == (19, False, True)
    # and its audio is stored encrypted: the cleaned recording, and nothing readable on disk
    store = object_store(ingest_config)
    assert (
        decrypted(ingest_config, store, stored)
        == clean((SAMPLES / "report-en.wav").read_bytes()).wav
    )
    on_disk = next(Path(ingest_config.storage_url).rglob(stored.object_name)).read_bytes()
    assert b"RIFF" not in on_disk and b"WAVE" not in on_disk
    # and Twilio's copy and call log are deleted, after which we forget Twilio's references
    state = emulator.state
    assert state.deleted_recordings == log.recordings and state.deleted_calls == [log.call_sid]
    assert (job.state, job.stage, job.recording_sid, job.call_sid) == (
        JobState.DONE,
        JobStage.FINISHED,
        None,
        None,
    )
    assert (job.not_before, job.lease_expires, job.lease_owner) == (None, None, None)


def test_contact_details_and_a_second_take_are_stored_apart(
    emulator_caller: EmulatorCaller, emulator: RunningEmulator, worker: Worker, db: Database
) -> None:
    log = emulator_caller.call("1,1,4,2,#,3,#,1,#")  # report, add more, then contact details
    settle(worker, db)
    (report,), _, stored = everything(db)
    assert [item.part.value for item in stored] == ["report", "report", "contact"]
    assert report.contact_left and report.duration_seconds == 37  # the two report takes
    assert sorted(emulator.state.deleted_recordings) == sorted(log.recordings)
    assert emulator.state.deleted_calls == [log.call_sid]  # once, after the last recording


def test_recording_again_keeps_only_the_new_take(
    emulator_caller: EmulatorCaller, emulator: RunningEmulator, worker: Worker, db: Database
) -> None:
    log = emulator_caller.call("1,1,1,1,#,2,#,1")
    settle(worker, db)
    (report,), jobs, stored = everything(db)
    assert [job.state for job in jobs] == [JobState.DISCARDED, JobState.DONE]
    assert len(stored) == 1 and report.duration_seconds == 19
    assert sorted(emulator.state.deleted_recordings) == sorted(
        log.recordings
    )  # both gone from Twilio


def test_recording_again_after_the_first_take_was_stored_deletes_our_copy(
    ingest_app: Flask,
    emulator: RunningEmulator,
    worker: Worker,
    db: Database,
    ingest_config: Config,
) -> None:
    stored_mid_call: list[AudioObject] = []
    presses = iter(["1", "1", "1", "1", "#", "worker runs", "2", "#", "1"])

    def keys(_allowed: tuple[str, ...]) -> str | None:
        key = next(presses, None)
        if key == "worker runs":  # the worker reaches the first take while the caller listens
            settle(worker, db)
            stored_mid_call.extend(everything(db)[2])
            key = next(presses)
        return key

    phone = Phone(
        AppTransport(ingest_app.test_client()),
        EmulatorMedia(emulator.url),
        public_base=PUBLIC_URL,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        keys=keys,
        audio=(SAMPLES / "report-cy.wav").read_bytes(),
        caller=PLANTED_NUMBER,
    )
    log = phone.call()
    settle(worker, db)
    (report,), _, stored = everything(db)
    (first,) = stored_mid_call
    assert [item.object_name for item in stored] != [first.object_name] and len(stored) == 1
    with pytest.raises(FileNotFoundError):
        object_store(ingest_config).size(first.object_name)
    assert report.duration_seconds == 8  # the new, shorter take
    assert sorted(emulator.state.deleted_recordings) == sorted(log.recordings)
    # The day key that sealed the dropped take's wrapped key is replaced at the next purge
    with db.transaction() as session:
        assert session.scalars(select(DayKey.stale)).all() == [True]


def test_twilio_media_failing_then_recovering_is_retried(
    emulator_caller: EmulatorCaller, emulator: RunningEmulator, worker: Worker, db: Database
) -> None:
    emulator.state.faults.update({"media_5xx": 2, "media_404": 1})  # 404: still finishing the file
    emulator_caller.call("1,1,1,1,#,1")
    settle(worker, db)
    (report,), (job,), _ = everything(db)
    assert report.status is ReportStatus.QUEUED
    # Twilio's 503s were its outage, not the job's: only the 404 and the success counted.
    assert job.attempts == 2 and emulator.state.media_fetches == 4


def test_a_long_twilio_outage_spends_no_attempt_and_parks_nothing(
    emulator_caller: EmulatorCaller, emulator: RunningEmulator, worker: Worker, db: Database
) -> None:
    emulator.state.faults["media_5xx"] = 100  # far more failures than a job has attempts
    emulator_caller.call("1,1,1,1,#,1")
    settle(worker, db)
    (report,), (job,), _ = everything(db)
    assert report.status is ReportStatus.QUEUED
    assert job.state is JobState.DONE and job.attempts == 1 and job.waiting_for is None


def test_after_too_many_failures_of_its_own_a_job_is_parked_and_can_be_retried(
    emulator_caller: EmulatorCaller, emulator: RunningEmulator, worker: Worker, db: Database
) -> None:
    emulator.state.faults["media_404"] = 100  # this recording's own media never appears
    log = emulator_caller.call("1,1,1,1,#,1")
    settle(worker, db)
    (report,), (job,), _ = everything(db)
    assert job.state is JobState.FAILED and job.attempts == 4
    assert "gave up after 4 attempts" in (job.last_error or "") and "not found" in (
        job.last_error or ""
    )
    assert report.status is ReportStatus.AUDIO_FAILED  # shown to supervisors, with the reason
    assert emulator.state.deleted_recordings == []  # nothing erased that we do not hold
    assert emulator.state.deleted_calls == []  # nor the call log, while its recording waits
    # When Twilio has the file and someone retries it
    emulator.state.faults["media_404"] = 0
    assert JobQueue(db, timedelta(seconds=60), RetryPolicy()).retry_failed() == 1
    settle(worker, db)
    assert everything(db)[0][0].status is ReportStatus.QUEUED
    assert emulator.state.deleted_recordings == log.recordings


def test_a_recording_that_is_not_audio_is_parked_at_once_and_kept_at_twilio(
    emulator: RunningEmulator, worker: Worker, db: Database, ingest_config: Config
) -> None:
    sid, _ = EmulatorMedia(emulator.url).store("CA" + "1" * 32, b"this is not a wav file")
    reconcile(db, twilio_api(ingest_config), ingest_config.secret_key, timedelta(0))
    settle(worker, db)
    (report,), (job,), stored = everything(db)
    assert (report.source, job.state, job.attempts, stored) == (
        ReportSource.RECONCILED,
        JobState.FAILED,
        1,
        [],
    )
    assert "not usable audio: not decodable WAV audio" in (job.last_error or "")
    assert sid in emulator.state.recordings  # kept at Twilio for a person to look at


def test_an_absent_recording_queues_the_report_without_audio(
    ingest_app: Flask, emulator: RunningEmulator, worker: Worker, db: Database
) -> None:
    client = ingest_app.test_client()
    call_sid = "CA" + "8" * 32
    asked = walk_to_recording(client, call_sid)
    absent = {
        "AccountSid": twilio_params(call_sid)["AccountSid"],
        "CallSid": call_sid,
        "RecordingSid": "RE" + "8" * 32,
        "RecordingStatus": "absent",
        "RecordingDuration": "0",
    }
    signed_post(client, callback(asked, "Record", "recordingStatusCallback"), absent)
    signed_post(client, "/twilio/status", twilio_params(call_sid, CallStatus="completed"))
    settle(worker, db)
    (report,), (job,), stored = everything(db)
    assert (report.status, report.has_audio, stored, emulator.state.media_fetches) == (
        ReportStatus.QUEUED,
        False,
        [],
        0,
    )
    assert job.state is JobState.DONE and emulator.state.deleted_calls == [call_sid]


def test_the_twilio_client_implements_its_interface() -> None:
    from ivr.outside.twilio_api import TwilioApi, TwilioRest
    from tests.conftest import assert_implements

    assert_implements(TwilioApi, TwilioRest)
