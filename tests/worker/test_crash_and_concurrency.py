"""Workers die and race; each recording is still stored exactly once, and nothing is lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ivr.config import Config
from ivr.dev.phone import EmulatorMedia
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.calls import JobStage, RecordingJob
from ivr.models.reports import AudioObject, Report, ReportStatus
from ivr.outside.storage import ObjectStore, StoredObject
from ivr.platform.db import Base, Database
from ivr.services import Services, object_store, twilio_api
from ivr.worker.reconcile import reconcile
from ivr.worker.runner import build_worker
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, SAMPLES
from tests.worker.conftest import cli_env, decrypted, settle
from tests.worker.test_s3_kms import production_config

SPEECH = (SAMPLES / "report-cy.wav").read_bytes()
IVR = str(Path(sys.executable).with_name("ivr"))


def recordings_waiting(emulator: RunningEmulator, db: Database, config: Config, count: int) -> None:
    """Put ``count`` recordings at Twilio and their jobs in the queue."""
    media = EmulatorMedia(emulator.url)
    for index in range(count):
        media.store(f"CA{index:032x}", SPEECH)
    assert reconcile(db, twilio_api(config), config.secret_key, timedelta(0)) == count


def finished(db: Database) -> int:
    with db.transaction() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(RecordingJob)
                .where(RecordingJob.stage == JobStage.FINISHED)
            )
            or 0
        )


def assert_each_recording_stored_once(
    db: Database, config: Config, emulator: RunningEmulator, count: int
) -> None:
    with db.transaction() as session:
        stored = session.scalars(select(AudioObject)).all()
        queued = session.scalar(
            select(func.count()).select_from(Report).where(Report.status == ReportStatus.QUEUED)
        )
    assert len(stored) == count and queued == count
    names = {item.object_name for item in stored}
    assert len(names) == count
    on_disk = [p for p in Path(config.storage_url).rglob("*") if p.is_file()]
    assert sorted(p.name for p in on_disk) == sorted(names)  # no duplicates, no partial files
    assert sorted(emulator.state.deleted_recordings) == sorted(
        set(emulator.state.deleted_recordings)
    )
    assert len(emulator.state.deleted_recordings) == count


def wait_for_a_lease(db: Database, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with db.transaction() as session:
            if session.scalar(
                select(RecordingJob.id).where(RecordingJob.lease_owner.is_not(None)).limit(1)
            ):
                return True
        time.sleep(0.02)
    return False


@pytest.mark.slow
def test_a_worker_killed_at_any_point_leaves_jobs_another_worker_finishes(
    emulator: RunningEmulator, db: Database, ingest_config: Config
) -> None:
    recordings_waiting(emulator, db, ingest_config, 5)
    emulator.state.faults["slow_seconds"] = 0.15  # every fetch takes a moment: kills land mid-job
    env = {
        **os.environ,
        **cli_env(
            ingest_config,
            IVR_JOB_LEASE_SECONDS="1",
            IVR_WORKER_POLL_SECONDS="0.05",
            IVR_JOB_RETRY_BASE_SECONDS="0.01",
            IVR_RECONCILE_INTERVAL_SECONDS="3600",
        ),
    }
    chaos = random.Random(20261129)
    kills = 0
    for _ in range(3):  # start a worker; once it holds a job, kill -9 it mid-job
        process = subprocess.Popen(
            [IVR, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if wait_for_a_lease(db):
            time.sleep(chaos.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
    survivor = subprocess.Popen(
        [IVR, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while finished(db) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    survivor.terminate()
    survivor.wait(timeout=60)
    assert kills == 3 and finished(db) == 5
    with db.transaction() as session:
        attempts = list(session.scalars(select(RecordingJob.attempts)))
    assert max(attempts) >= 2  # some job was taken over from a killed worker
    assert_each_recording_stored_once(db, ingest_config, emulator, 5)


@pytest.mark.postgresql
@pytest.mark.slow
def test_many_workers_racing_on_postgresql_store_each_recording_exactly_once(
    emulator: RunningEmulator, postgres_url: str, tmp_path: Path, key_pair: Path
) -> None:
    config = Config(
        database_url=postgres_url,
        public_url=PUBLIC_URL,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        secret_key=b"k" * 32,
        console_secret_key=b"c" * 32,
        twilio_api_url=emulator.url,
        storage_url=str(tmp_path / "recordings"),
        keys_dir=key_pair,
        job_retry_base_seconds=0.001,
        job_retry_max_seconds=0.01,
        log_level="WARNING",
    )
    setup = Database.from_url(postgres_url)
    Base.metadata.create_all(setup.engine)
    recordings_waiting(emulator, setup, config, 30)
    # Six workers, each with its own connection pool, all claiming at once.
    workers = [build_worker(Services(config, db=Database.from_url(postgres_url))) for _ in range(6)]
    start = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def work(worker_index: int) -> None:
        try:
            start.wait()
            deadline = time.monotonic() + 120
            while finished(setup) < 30 and time.monotonic() < deadline:
                if not workers[worker_index].run_once():
                    time.sleep(0.01)
        except BaseException as error:  # surfaced below, in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert emulator.state.media_fetches == 30  # no recording was fetched twice
    assert_each_recording_stored_once(setup, config, emulator, 30)


class Died(Exception):
    """The worker's end, between the store's answer and the commit that keeps its key."""


class DiesAfterItsFirstWrite:
    """A store whose first object lands, after which its worker dies without recording it."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self.first: str | None = None

    def put(self, name: str, chunks: Iterable[bytes]) -> StoredObject:
        stored = self._store.put(name, chunks)
        if self.first is None:
            self.first = name
            raise Died
        return stored

    def read(self, name: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        return self._store.read(name, start, end)

    def size(self, name: str) -> int:
        return self._store.size(name)

    def delete(self, name: str) -> None:
        self._store.delete(name)

    def answers(self) -> bool:
        return self._store.answers()


@pytest.mark.parametrize("where", ["local", "s3"])
def test_a_worker_dying_between_storing_and_recording_leaves_a_job_that_still_completes(
    where: str,
    request: pytest.FixtureRequest,
    emulator: RunningEmulator,
    db: Database,
    ingest_config: Config,
) -> None:
    config = ingest_config
    if where == "s3":
        config = production_config(ingest_config, request.getfixturevalue("aws_endpoint"))
    # Given a recording whose first attempt stored its object and died before keeping its key
    recordings_waiting(emulator, db, config, 1)
    services = Services(config, db=db)
    dying = DiesAfterItsFirstWrite(object_store(config))
    services.store = dying
    # When the job is retried (the store refuses to write over the object left behind)
    settle(build_worker(services), db)
    # Then it is stored under a fresh name, and the unreadable object left behind is gone
    with db.transaction() as session:
        (stored,) = session.scalars(select(AudioObject))
        (report,) = session.scalars(select(Report))
    assert report.status is ReportStatus.QUEUED and dying.first is not None
    assert stored.object_name != dying.first
    store = object_store(config)
    with pytest.raises(FileNotFoundError):
        store.size(dying.first)
    assert decrypted(config, store, stored)[:4] == b"RIFF"
    assert emulator.state.deleted_recordings  # erased at Twilio only once it was verified
