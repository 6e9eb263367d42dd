"""Every call's log is erased at Twilio: after the call ends, and after its recordings are safe."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from ivr.cli import main
from ivr.cli.calls import AppTransport
from ivr.config import Config
from ivr.dev.phone import EmulatorMedia, Phone, scripted_keys
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.calls import CallLogErasure, JobState
from ivr.models.reports import Report, ReportStatus
from ivr.platform.db import Database
from ivr.services import services, twilio_api
from ivr.telephony.call_logs import schedule_call_log_erasure
from ivr.worker.reconcile import reconcile
from ivr.worker.runner import Worker
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PLANTED_NUMBER, SAMPLES, EmulatorCaller
from tests.webhooks.helpers import signed_post, twilio_params
from tests.worker.conftest import cli_env, settle


def erasures(db: Database) -> list[CallLogErasure]:
    with db.transaction() as session:
        return list(session.scalars(select(CallLogErasure).order_by(CallLogErasure.id)))


def end_call(app: Flask, call_sid: str, status: str = "completed") -> None:
    """Twilio's final status callback for the call."""
    response = signed_post(
        app.test_client(), "/twilio/status", twilio_params(call_sid, CallStatus=status)
    )
    assert response.status_code == 204


class StatusHeldBack:
    """Delivers a call's requests, except its final status: the caller is still on the line."""

    def __init__(self, app: Flask) -> None:
        self._app = AppTransport(app.test_client())
        self.held: list[tuple[str, Mapping[str, str], str]] = []

    def post(self, url: str, params: Mapping[str, str], signature: str) -> str:
        if url.endswith("/twilio/status"):
            self.held.append((url, params, signature))
            return ""
        return self._app.post(url, params, signature)

    def hang_up(self) -> None:
        for request in self.held:
            self._app.post(*request)


def test_a_caller_who_hangs_up_at_the_menu_has_their_call_log_erased(
    emulator_caller: EmulatorCaller, emulator: RunningEmulator, worker: Worker, db: Database
) -> None:
    # Given a caller who hangs up at the first menu, having recorded nothing
    log = emulator_caller.call("1,hangup")
    assert log.recordings == []
    # When the worker runs
    settle(worker, db)
    # Then the call's log is erased at Twilio, and we keep nothing that names the call
    assert emulator.state.deleted_calls == [log.call_sid]
    assert erasures(db) == []


def test_every_final_status_erases_the_call_log_once(
    ingest_app: Flask, emulator: RunningEmulator, worker: Worker, db: Database
) -> None:
    calls = {
        status: f"CA{index:032x}"
        for index, status in enumerate(
            ["completed", "busy", "no-answer", "failed", "canceled"], start=1
        )
    }
    for status, call_sid in calls.items():
        end_call(ingest_app, call_sid, status)
        end_call(ingest_app, call_sid, status)  # Twilio repeats a callback it thinks was lost
    assert len(erasures(db)) == len(calls)
    settle(worker, db)
    assert sorted(emulator.state.deleted_calls) == sorted(calls.values())
    assert erasures(db) == []


def test_the_call_log_stays_while_the_caller_is_still_on_the_line(
    ingest_app: Flask, emulator: RunningEmulator, worker: Worker, db: Database
) -> None:
    # Given a caller whose report is recorded, and who is still leaving contact details
    line = StatusHeldBack(ingest_app)
    phone = Phone(
        line,
        EmulatorMedia(emulator.url),
        public_base=services(ingest_app).config.public_base,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        keys=scripted_keys("1,1,2,2,#,1,#"),
        audio=(SAMPLES / "report-en.wav").read_bytes(),
        caller=PLANTED_NUMBER,
    )
    log = phone.call()
    # When the worker stores the recordings before the call has ended
    settle(worker, db)
    assert len(emulator.state.deleted_recordings) == 2
    # Then the call's log is not touched
    assert emulator.state.deleted_calls == []
    # And once the call ends, it is erased
    line.hang_up()
    settle(worker, db)
    assert emulator.state.deleted_calls == [log.call_sid]


def test_the_call_log_waits_for_a_recording_twilio_still_holds(
    ingest_app: Flask,
    emulator: RunningEmulator,
    worker: Worker,
    db: Database,
    ingest_config: Config,
) -> None:
    # Given a call that ended, with a recording whose callbacks never reached us
    call_sid = "CA" + "a" * 32
    EmulatorMedia(emulator.url).store(call_sid, (SAMPLES / "report-en.wav").read_bytes())
    end_call(ingest_app, call_sid)
    # When the worker runs, the call log waits: the recording is not stored yet
    settle(worker, db)
    assert emulator.state.deleted_calls == []
    (waiting,) = erasures(db)
    assert waiting.state is JobState.PENDING and waiting.attempts == 0  # waiting is no failure
    # And once reconciliation has brought the recording in and stored it
    twilio = twilio_api(ingest_config)
    assert reconcile(db, twilio, ingest_config.secret_key, timedelta(0)) == 1
    settle(worker, db)
    # Then the recording, and then the call log, are erased
    assert len(emulator.state.deleted_recordings) == 1
    assert emulator.state.deleted_calls == [call_sid]
    with db.transaction() as session:
        assert session.scalars(select(Report)).one().status is ReportStatus.QUEUED
    assert erasures(db) == []


def test_an_erasure_that_always_fails_is_parked_and_retried_by_command(
    emulator: RunningEmulator, worker: Worker, db: Database, ingest_config: Config
) -> None:
    # Given a call log erasure for a SID Twilio would never accept
    with db.transaction() as session:
        schedule_call_log_erasure(session, "CA-not-a-sid")
    # When the worker has used up its attempts
    settle(worker, db)
    # Then the erasure is parked with the reason, counted, and listed for operators
    (parked,) = erasures(db)
    assert parked.state is JobState.FAILED and parked.attempts == ingest_config.job_max_attempts
    assert "ValueError" in (parked.last_error or "")
    runner = CliRunner(env=cli_env(ingest_config))
    listing = runner.invoke(main, ["jobs", "--state", "failed"]).output
    assert f"log-{parked.id}" in listing and "call log" in listing
    # And `ivr jobs retry` puts it back, with fresh attempts
    retried = runner.invoke(main, ["jobs", "retry", f"log-{parked.id}"]).output
    assert "1 job(s) queued again." in retried
    with db.transaction() as session:
        pending = session.scalar(
            select(func.count())
            .select_from(CallLogErasure)
            .where(CallLogErasure.state == JobState.PENDING, CallLogErasure.attempts == 0)
        )
    assert pending == 1
