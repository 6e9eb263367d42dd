"""Leases: kept alive while a worker works, taken over when it stops, fenced either way."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from ivr.config import Config
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.calls import JobState, RecordingJob
from ivr.models.reports import AudioObject
from ivr.outside.twilio_api import TwilioApi
from ivr.platform.db import Database
from ivr.services import Services, key_wrapper, object_store, twilio_api
from ivr.telephony.jobs import JobQueue, RetryPolicy
from ivr.worker.ingest import Ingester
from ivr.worker.runner import build_worker
from tests.conftest import EmulatorCaller
from tests.worker.conftest import decrypted, settle


def short_leases(config: Config, seconds: int) -> Config:
    return dataclasses.replace(config, job_lease_seconds=seconds)


def the_job(db: Database) -> RecordingJob:
    with db.transaction() as session:
        return session.scalars(select(RecordingJob)).one()


def test_a_worker_keeps_its_lease_through_a_fetch_longer_than_the_lease(
    emulator_caller: EmulatorCaller, emulator: RunningEmulator, db: Database, ingest_config: Config
) -> None:
    # Given a recording that takes Twilio over two lease lengths to serve
    config = short_leases(ingest_config, 3)
    emulator_caller.call("1,1,1,1,#,1")
    emulator.state.faults["slow_seconds"] = 7
    # When one worker fetches it while another keeps looking for work
    busy = threading.Thread(target=build_worker(Services(config, db=db)).run_once)
    busy.start()
    rival = build_worker(Services(config, db=db))
    while busy.is_alive():
        rival.run_once()
        time.sleep(0.05)
    busy.join()
    # Then the heartbeat kept the job with the first worker: claimed once, fetched once
    job = the_job(db)
    assert (job.state, job.attempts, emulator.state.media_fetches) == (JobState.DONE, 1, 1)


class Stalled:
    """Twilio as a worker sees it when its whole process freezes just after a fetch."""

    def __init__(self, twilio: TwilioApi) -> None:
        self._twilio = twilio
        self.fetched = threading.Event()
        self.thaw = threading.Event()

    def media(self, recording_sid: str) -> Iterator[bytes]:
        audio = b"".join(self._twilio.media(recording_sid))
        self.fetched.set()
        self.thaw.wait(60)
        yield audio


def test_a_stalled_worker_whose_lease_was_taken_overwrites_nothing(
    emulator_caller: EmulatorCaller, emulator: RunningEmulator, db: Database, ingest_config: Config
) -> None:
    # Given a worker that froze mid-fetch, without a heartbeat, past its one-second lease
    config = short_leases(ingest_config, 1)
    emulator_caller.call("1,1,1,1,#,1")
    queue = JobQueue(db, timedelta(seconds=1), RetryPolicy())
    twilio = Stalled(twilio_api(config))
    store = object_store(config)
    stalled = Ingester(db, queue, twilio, store, key_wrapper(config))  # type: ignore[arg-type]
    job_id = queue.claim("frozen")
    assert job_id is not None
    frozen = threading.Thread(target=stalled.run, args=(job_id, "frozen"))
    frozen.start()
    assert twilio.fetched.wait(60)
    # When another worker takes the job over and stores, verifies and erases the recording
    settle(build_worker(Services(config, db=db)), db)
    assert len(emulator.state.deleted_recordings) == 1
    # and then the frozen worker wakes up and carries on
    twilio.thaw.set()
    frozen.join(60)
    # Then the object its successor stored is still the one the database can open
    with db.transaction() as session:
        stored = session.scalars(select(AudioObject)).one()
    assert decrypted(config, store, stored)[:4] == b"RIFF"
    assert len([p for p in Path(config.storage_url).rglob("*") if p.is_file()]) == 1
    assert the_job(db).state is JobState.DONE
