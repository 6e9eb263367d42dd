"""Production's stores: S3 with SSE-KMS for objects, KMS for data keys, over real HTTP."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import time_machine
from moto.server import ThreadedMotoServer
from sqlalchemy import select

from ivr.config import Config
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.calls import JobState, RecordingJob
from ivr.models.reports import AudioObject, Report, ReportStatus
from ivr.platform.db import Database, utcnow
from ivr.services import Services, object_store
from ivr.worker.runner import build_worker
from tests.conftest import EmulatorCaller
from tests.functional.servers import free_port
from tests.worker.conftest import decrypted, settle


def production_config(
    ingest_config: Config, endpoint: str, kms_endpoint: str | None = None
) -> Config:
    kms_endpoint = kms_endpoint or endpoint
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-2")
    kms = boto3.client("kms", endpoint_url=kms_endpoint, region_name="eu-west-2")
    bucket = f"hotline-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    return dataclasses.replace(
        ingest_config,
        storage_url=f"s3://{bucket}/recordings",
        s3_endpoint_url=endpoint,
        key_service="kms",
        kms_key_id=kms.create_key()["KeyMetadata"]["KeyId"],
        kms_endpoint_url=kms_endpoint,
    )


def test_a_report_is_stored_in_s3_under_kms(
    aws_endpoint: str,
    ingest_config: Config,
    db: Database,
    emulator_caller: EmulatorCaller,
    emulator: RunningEmulator,
) -> None:
    config = production_config(ingest_config, aws_endpoint)
    log = emulator_caller.call("9,1,2,1,#,1", audio="report-cy.wav")
    settle(build_worker(Services(config, db=db)), db)
    with db.transaction() as session:
        (stored,) = session.scalars(select(AudioObject))
        (report,) = session.scalars(select(Report))
    assert report.status is ReportStatus.QUEUED and stored.key_ref.startswith("kms:")
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="eu-west-2")
    bucket = config.storage_url.split("/")[2]
    head = s3.head_object(Bucket=bucket, Key=f"recordings/{stored.object_name}")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert decrypted(config, object_store(config), stored)[:4] == b"RIFF"
    assert emulator.state.deleted_recordings == log.recordings


@pytest.fixture
def flaky_s3() -> Iterator[tuple[str, ThreadedMotoServer, int]]:
    """An S3 endpoint of its own, which a test may stop and start again on the same port."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}", server, port
    server.stop()


def test_the_object_store_failing_for_a_while_loses_nothing(
    flaky_s3: tuple[str, ThreadedMotoServer, int],
    aws_endpoint: str,
    ingest_config: Config,
    db: Database,
    emulator_caller: EmulatorCaller,
    emulator: RunningEmulator,
) -> None:
    endpoint, server, port = flaky_s3
    config = dataclasses.replace(
        production_config(ingest_config, endpoint, kms_endpoint=aws_endpoint), job_max_attempts=10
    )
    worker = build_worker(Services(config, db=db))
    # Given the object store goes down just as a report comes in, and stays down for an
    # hour on a clock the test moves a minute at a time (a worker's try and probe each)
    server.stop()
    emulator_caller.call("1,1,1,1,#,1")
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        for minute in range(61):
            clock.move_to(start + timedelta(minutes=minute))
            worker.run_once()
            worker.probe()
        # Then the job waits for the store, without spending its attempts or being parked,
        # and comes back no later than a minute from now: no backoff grows with the outage
        with db.transaction() as session:
            (job,) = session.scalars(select(RecordingJob))
            assert (job.attempts, job.state, job.waiting_for) == (0, JobState.PENDING, "store")
            assert "waiting for the object store" in (job.last_error or "")
            assert job.not_before is not None
            assert job.not_before <= utcnow() + timedelta(seconds=61)
    assert emulator.state.deleted_recordings == []  # Twilio keeps its copy meanwhile
    # When it comes back (moto keeps its buckets in this process)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        settle(worker, db)
    finally:
        server.stop()
    with db.transaction() as session:
        (report,) = session.scalars(select(Report))
        assert report.status is ReportStatus.QUEUED
        assert len(session.scalars(select(AudioObject)).all()) == 1
    assert len(emulator.state.deleted_recordings) == 1
