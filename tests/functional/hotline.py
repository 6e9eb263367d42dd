"""The service as deployed on one machine, with Twilio's stand-in beside it, for fault stories.

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
from sqlalchemy import Select, func, select

from ivr.dev.phone import (
    HOTLINE_NUMBER,
    CallLog,
    EmulatorMedia,
    HttpTransport,
    Phone,
    scripted_keys,
)
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.calls import CallLogErasure
from ivr.models.reports import AudioObject, Report, ReportStatus
from ivr.platform.db import Database
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PLANTED_NUMBER, REPO, SAMPLES
from tests.functional.servers import free_port, serving_with_worker, set_up_as_make_run
from tests.test_anonymity import dump_database

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
        """A caller on the line, as Twilio would carry them to the service over HTTP.

        As Twilio does, the phone asks the number's Voice Fallback URL when the Voice URL
        fails, if ``ivr twilio provision`` set one on the emulator's number.
        """
        numbers = self.emulator.state.numbers.values()
        fallback = next((n for n in numbers if n["phone_number"] == HOTLINE_NUMBER), {})
        return Phone(
            HttpTransport(timeout=60),
            EmulatorMedia(self.emulator.url, timeout=60),
            public_base=self.base,
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            keys=scripted_keys(keys),
            audio=(SAMPLES / "report-en.wav").read_bytes(),
            caller=PLANTED_NUMBER,
            fallback_url=fallback.get("voice_fallback_url") or "",
            fallback_method=fallback.get("voice_fallback_method") or "POST",
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


def assert_nothing_lost_and_nothing_left(
    hotline: Hotline, calls: list[CallLog], stored: Callable[[], list[str]] | None = None
) -> None:
    """``stored`` lists the objects in the store (default: the files of the local store)."""
    recordings = [sid for log in calls for sid in log.recordings]
    # Every recording stored exactly once: one object each, and no stray file
    with hotline.db.reading() as session:
        names = list(session.scalars(select(AudioObject.object_name)))
    assert len(names) == len(set(names)) == len(recordings)
    if stored is None:
        folder = hotline.folder / "recordings"
        stored = lambda: [p.name for p in folder.rglob("*") if p.is_file()]  # noqa: E731
    assert sorted(stored()) == sorted(names)
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
