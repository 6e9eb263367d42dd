"""Run the worker in tests until every job has settled, and read back what it stored."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from ivr import adapters
from ivr.config import Config
from ivr.crypto import envelope
from ivr.crypto.keys import object_context
from ivr.db import Database
from ivr.models import AudioObject, JobStage, JobState, RecordingJob
from ivr.storage import ObjectStore
from ivr.worker.runner import Worker, build_worker


def settle(worker: Worker, db: Database, seconds: float = 20.0) -> None:
    """Run jobs (retries included) until none is pending, or fail the test."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not worker.run_once():
            with db.transaction() as session:
                busy = session.scalar(
                    select(RecordingJob.id)
                    .where(
                        RecordingJob.state.in_((JobState.PENDING, JobState.DISCARDED)),
                        RecordingJob.stage != JobStage.FINISHED,
                    )
                    .limit(1)
                )
            if busy is None:
                return
            time.sleep(0.005)
    pytest.fail("jobs did not settle")


def decrypted(config: Config, store: ObjectStore, stored: AudioObject) -> bytes:
    """Open a stored recording as the console will: unwrap its key, then decrypt."""
    key = adapters.key_unwrapper(config).unwrap(
        stored.wrapped_key, object_context(stored.object_name)
    )
    return b"".join(envelope.decrypt(key, store.read(stored.object_name)))


@pytest.fixture
def worker(ingest_config: Config, db: Database) -> Worker:
    return build_worker(ingest_config, db)
