"""Faults against the real service (``ivr serve --with-worker``): nothing lost, nothing left.

Each story ends as ``tests.functional.hotline`` says: every recording stored exactly once,
every recording and call log erased at Twilio within 60 s of recovery.
"""

from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import func, select

from ivr.models.calls import CallLogErasure, JobState, RecordingJob
from ivr.models.reports import Report, ReportStatus
from tests.functional.hotline import (
    RECOVERY_SECONDS,
    Hotline,
    assert_nothing_lost_and_nothing_left,
    everything_erased,
    within,
)
from tests.functional.servers import (
    ivr,
    kill_group,
)

pytestmark = pytest.mark.slow


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
