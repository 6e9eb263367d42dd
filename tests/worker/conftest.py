"""Run the worker in tests until every job has settled, and read back what it stored."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import or_, select

from ivr.config import Config
from ivr.crypto import vault
from ivr.models.calls import CallLogErasure, JobStage, JobState, RecordingJob
from ivr.models.reports import AudioObject
from ivr.outside.storage import ObjectStore
from ivr.platform.db import Database, utcnow
from ivr.services import Services, key_unwrapper
from ivr.worker.runner import Worker, build_worker


def settle(worker: Worker, db: Database, seconds: float = 120.0) -> None:
    """Run jobs (retries included) until none is pending, or fail the test.

    Services that jobs wait for are probed on every round, as a worker does every few
    seconds. A call log erasure that is waiting (for a parked recording, say) counts as settled;
    one due for a retry does not (tests retry within milliseconds; waits last seconds).
    The deadline is generous: a busy two-core CI machine can be many times slower.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        worker.probe()  # jobs waiting for a service that is back are due at once
        if not worker.run_once():
            with db.transaction() as session:
                busy = session.scalar(
                    select(RecordingJob.id)
                    .where(
                        RecordingJob.state.in_((JobState.PENDING, JobState.DISCARDED)),
                        RecordingJob.stage != JobStage.FINISHED,
                    )
                    .limit(1)
                ) or session.scalar(
                    select(CallLogErasure.id)
                    .where(
                        CallLogErasure.state == JobState.PENDING,
                        or_(
                            CallLogErasure.not_before.is_(None),
                            CallLogErasure.not_before <= utcnow() + timedelta(seconds=1),
                        ),
                    )
                    .limit(1)
                )
            if busy is None:
                return
            time.sleep(0.005)
    pytest.fail("jobs did not settle")


def decrypted(config: Config, store: ObjectStore, stored: AudioObject) -> bytes:
    """Open a stored recording as the console does: through the vault."""
    database = Database.from_url(config.database_url)
    try:
        with database.reading() as session:
            opened = vault.open(session, store, key_unwrapper(config), stored)
    finally:
        database.engine.dispose()
    return opened.whole()


def cli_env(config: Config, **extra: str) -> dict[str, str]:
    """The environment that points the ivr command at a test's config."""
    return {
        "IVR_DATABASE_URL": config.database_url,
        "IVR_TWILIO_API_URL": config.twilio_api_url,
        "IVR_TWILIO_ACCOUNT_SID": config.twilio_account_sid,
        "IVR_TWILIO_AUTH_TOKEN": config.twilio_auth_token,
        "IVR_SECRET_KEY": config.secret_key.decode(),
        "IVR_CONSOLE_SECRET_KEY": config.console_secret_key.decode(),
        "IVR_STORAGE_URL": config.storage_url,
        "IVR_KEYS_DIR": str(config.keys_dir),
        "IVR_LOG_LEVEL": "WARNING",
        **extra,
    }


@pytest.fixture
def worker(ingest_config: Config, db: Database) -> Worker:
    return build_worker(Services(ingest_config, db=db))
