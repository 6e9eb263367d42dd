"""Faults against the real service (``ivr serve --with-worker``): nothing lost, nothing left.

Each story ends the same way: every recording stored exactly once, every report queued
exactly once, every recording and call log erased at Twilio within 60 s of recovery,
and no SID left in the database.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import Select, func, select

from ivr.dev.phone import CallLog, EmulatorMedia, HttpTransport, Phone, scripted_keys
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.calls import CallLogErasure, JobState, RecordingJob
from ivr.models.reports import AudioObject, Report, ReportStatus
from ivr.platform.db import Database
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PLANTED_NUMBER, REPO, SAMPLES
from tests.functional.servers import (
    free_port,
    ivr,
    kill_group,
    serving_with_worker,
    set_up_as_make_run,
)
from tests.test_anonymity import dump_database

pytestmark = pytest.mark.slow

RECOVERY_SECONDS = 60  # the promise: erased at Twilio within a minute of recovery


@dataclass
class Hotline:
    """The service as deployed on one machine, with Twilio's stand-in beside it."""

    base: str
    env: dict[str, str]
    folder: Path
    emulator: RunningEmulator
    db: Database

    @contextmanager
    def serving(self, log: str = "server.log") -> Iterator[subprocess.Popen[bytes]]:
        with serving_with_worker(self.env, self.folder, self.base, log) as process:
            yield process

    def call(self, keys: str) -> CallLog:
        """A caller on the line, as Twilio would carry them to the service over HTTP."""
        return Phone(
            HttpTransport(timeout=60),
            EmulatorMedia(self.emulator.url, timeout=60),
            public_base=self.base,
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            keys=scripted_keys(keys),
            audio=(SAMPLES / "report-en.wav").read_bytes(),
            caller=PLANTED_NUMBER,
        ).call()

    def count(self, query: Select[tuple[int]]) -> int:
        with self.db.reading() as session:
            return session.scalar(query) or 0


@pytest.fixture
def hotline(tmp_path: Path) -> Iterator[Hotline]:
    web = free_port()
    with RunningEmulator(ACCOUNT_SID, AUTH_TOKEN) as emulator:
        env = {
            "IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'ivr.sqlite3'}",
            "IVR_BIND": f"127.0.0.1:{web}",
            "IVR_PUBLIC_URL": f"http://127.0.0.1:{web}",
            "IVR_TWILIO_API_URL": emulator.url,
            "IVR_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "IVR_FLOWS_DIR": str(REPO / "call_flows"),
            "IVR_STORAGE_URL": str(tmp_path / "recordings"),
            "IVR_WORKER_POLL_SECONDS": "0.2",
            "IVR_JOB_RETRY_BASE_SECONDS": "0.2",
            "IVR_JOB_RETRY_MAX_SECONDS": "1",
            "IVR_LOG_LEVEL": "INFO",
        }
        set_up_as_make_run(env, tmp_path)
        db = Database.from_url(env["IVR_DATABASE_URL"])
        try:
            yield Hotline(f"http://127.0.0.1:{web}", env, tmp_path, emulator, db)
        finally:
            db.engine.dispose()


def within(seconds: float, condition: Callable[[], bool], what: str) -> float:
    """Poll ``condition`` until it holds; return how long that took, or fail the test."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > seconds:
            pytest.fail(f"not within {seconds} s: {what}")
        time.sleep(0.25)
    return time.monotonic() - start


def everything_erased(hotline: Hotline, calls: list[CallLog]) -> bool:
    state = hotline.emulator.state
    return not state.recordings and set(state.deleted_calls) == {log.call_sid for log in calls}


def assert_nothing_lost_and_nothing_left(hotline: Hotline, calls: list[CallLog]) -> None:
    recordings = [sid for log in calls for sid in log.recordings]
    # Every recording stored exactly once: one object each, and no stray file
    with hotline.db.reading() as session:
        names = list(session.scalars(select(AudioObject.object_name)))
    assert len(names) == len(set(names)) == len(recordings)
    on_disk = [p.name for p in (hotline.folder / "recordings").rglob("*") if p.is_file()]
    assert sorted(on_disk) == sorted(names)
    # Every report queued exactly once
    queued = select(func.count()).select_from(Report).where(Report.status == ReportStatus.QUEUED)
    reports = select(func.count()).select_from(Report)
    assert hotline.count(queued) == hotline.count(reports) == len(recordings)
    # Every recording and call log erased at Twilio, each once
    state = hotline.emulator.state
    assert sorted(state.deleted_recordings) == sorted(recordings)
    assert sorted(state.deleted_calls) == sorted(log.call_sid for log in calls)
    # No SID left with us
    assert hotline.count(select(func.count()).select_from(CallLogErasure)) == 0
    dump = dump_database(hotline.db)
    for sid in (*recordings, *(log.call_sid for log in calls)):
        assert sid not in dump, sid


def test_the_whole_service_killed_mid_ingest_resumes_within_a_minute(hotline: Hotline) -> None:
    # Given three callers whose recordings Twilio serves slowly
    hotline.emulator.state.faults["slow_seconds"] = 10
    leased = (
        select(func.count()).select_from(RecordingJob).where(RecordingJob.lease_owner.is_not(None))
    )
    with hotline.serving() as service:
        calls = [hotline.call("1,1,1,1,#,1") for _ in range(3)]
        # When the worker is mid-fetch, every process of the service is killed (-9)
        within(60, lambda: hotline.count(leased) > 0, "a worker took a job")
        kill_group(service)
    assert hotline.count(leased) > 0  # the dead worker's leases are still held
    # And the service is started again, with Twilio serving at full speed
    hotline.emulator.state.faults["slow_seconds"] = 0
    recovered = time.monotonic()
    with hotline.serving("restarted.log"):
        # Then within a minute its dead predecessor's jobs are taken over and finished
        within(
            RECOVERY_SECONDS - (time.monotonic() - recovered),
            lambda: (
                everything_erased(hotline, calls)
                and hotline.count(select(func.count()).select_from(CallLogErasure)) == 0
            ),
            "every recording and call log erased at Twilio after the restart",
        )
    taken_over = select(func.count()).select_from(RecordingJob).where(RecordingJob.attempts > 1)
    assert hotline.count(taken_over) > 0
    assert_nothing_lost_and_nothing_left(hotline, calls)


def test_a_caller_who_hangs_up_at_the_menu_has_their_call_log_erased(hotline: Hotline) -> None:
    with hotline.serving():
        # Given a caller who hangs up at the first menu, recording nothing
        call = hotline.call("1,hangup")
        assert call.recordings == []
        # Then their call log is erased at Twilio within a minute
        within(RECOVERY_SECONDS, lambda: everything_erased(hotline, [call]), "call log erased")
        within(
            RECOVERY_SECONDS,
            lambda: hotline.count(select(func.count()).select_from(CallLogErasure)) == 0,
            "the erasure job forgotten",
        )
    assert_nothing_lost_and_nothing_left(hotline, [call])


def test_a_job_raising_an_unexpected_error_is_parked_shown_and_counted(hotline: Hotline) -> None:
    hotline.env["IVR_JOB_MAX_ATTEMPTS"] = "3"
    # Given Twilio serves a recording cut a byte short (PCM of odd length: a ValueError)
    hotline.emulator.state.faults["media_truncated"] = 100
    parked = (
        select(func.count()).select_from(RecordingJob).where(RecordingJob.state == JobState.FAILED)
    )
    audio_failed = (
        select(func.count()).select_from(Report).where(Report.status == ReportStatus.AUDIO_FAILED)
    )
    with hotline.serving():
        call = hotline.call("1,1,1,1,#,1")
        # Then after its attempts the job is parked, and its report shown as audio failed
        within(RECOVERY_SECONDS, lambda: hotline.count(parked) == 1, "the job parked")
        assert hotline.count(audio_failed) == 1
        with hotline.db.reading() as session:
            job = session.scalars(select(RecordingJob)).one()
        assert job.attempts == 3 and "ValueError" in (job.last_error or "")
        # and counted in the metrics
        scraped = requests.get(f"{hotline.base}/metrics", timeout=30).text
        assert 'ivr_reports{status="audio_failed"} 1.0' in scraped
        assert 'ivr_recording_jobs{state="failed"} 1.0' in scraped
        # and Twilio keeps the recording and the call log meanwhile
        assert hotline.emulator.state.deleted_recordings == []
        assert hotline.emulator.state.deleted_calls == []
        # When Twilio serves it whole again and an operator retries it
        hotline.emulator.state.faults["media_truncated"] = 0
        retried = ivr(["jobs", "retry", "--all-failed"], hotline.env, hotline.folder)
        assert "1 job(s) queued again." in retried.stdout, retried.stderr
        # Then it is stored, and the recording and call log erased, within a minute
        within(RECOVERY_SECONDS, lambda: everything_erased(hotline, [call]), "erased at Twilio")
        within(
            RECOVERY_SECONDS,
            lambda: hotline.count(select(func.count()).select_from(CallLogErasure)) == 0,
            "the erasure job forgotten",
        )
    assert_nothing_lost_and_nothing_left(hotline, [call])
