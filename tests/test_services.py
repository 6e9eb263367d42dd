"""The composition root: each URL picks its implementation, and one Services serves all."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import boto3
import pytest
from sqlalchemy import select

from ivr.app import create_app
from ivr.config import Config, ConfigError
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.reports import AudioObject, Report, ReportStatus
from ivr.outside.anchors import Anchor, FileAnchors, S3Anchors
from ivr.outside.storage import LocalStore, S3Store
from ivr.platform.db import Database
from ivr.services import Services, anchor_log, object_store, services
from ivr.worker.runner import build_worker
from tests.conftest import EmulatorCaller
from tests.worker.conftest import decrypted, settle


@pytest.mark.parametrize("url", ["{folder}", "file://{folder}"])
def test_a_path_or_a_file_url_stores_in_that_folder(
    config: Config, tmp_path: Path, url: str
) -> None:
    folder = tmp_path / "elsewhere"
    store = object_store(dataclasses.replace(config, storage_url=url.format(folder=folder)))
    assert isinstance(store, LocalStore)
    store.put("ab" * 16, [b"sealed"])
    assert [path.name for path in folder.rglob("*") if path.is_file()] == ["ab" * 16]


def test_an_s3_url_stores_in_its_bucket_and_the_anchors_share_its_client(
    config: Config, aws_endpoint: str
) -> None:
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="eu-west-2")
    bucket = f"services-{id(config)}"
    s3.create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": "eu-west-2"},
        ObjectLockEnabledForBucket=True,
    )
    built = Services(
        dataclasses.replace(
            config,
            storage_url=f"s3://{bucket}/recordings/",
            audit_anchor=f"s3://{bucket}/audit/?mode=governance&days=1",
            s3_endpoint_url=aws_endpoint,
        )
    )
    assert isinstance(built.store, S3Store) and isinstance(built.anchors, S3Anchors)
    built.store.put("cd" * 16, [b"sealed"])
    built.anchors.append(Anchor.now(1, "e" * 64))
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {f"recordings/{'cd' * 16}", "audit/000000000001.json"}
    assert built.anchors.read()[0].seq == 1


def test_an_anchor_path_is_a_file_and_no_anchor_is_none(config: Config, tmp_path: Path) -> None:
    path = tmp_path / "anchors.jsonl"
    for url in (str(path), f"file://{path}"):
        anchors = anchor_log(dataclasses.replace(config, audit_anchor=url))
        assert isinstance(anchors, FileAnchors) and anchors.path == path
    assert anchor_log(dataclasses.replace(config, audit_anchor="")) is None


@pytest.mark.parametrize(
    ("setting", "field"), [("IVR_STORAGE_URL", "storage_url"), ("IVR_AUDIT_ANCHOR", "audit_anchor")]
)
def test_an_unknown_scheme_is_a_config_error_that_names_the_setting(
    config: Config, setting: str, field: str
) -> None:
    built = Services(dataclasses.replace(config, **{field: "ftp://host/folder"}))
    with pytest.raises(ConfigError, match=f"{setting}: unknown URL scheme 'ftp'.*s3://"):
        built.store if field == "storage_url" else built.anchors  # noqa: B018


def test_a_wrong_object_lock_mode_is_a_config_error(config: Config) -> None:
    wrong = dataclasses.replace(config, audit_anchor="s3://bucket/audit/?mode=lenient")
    with pytest.raises(ConfigError, match="IVR_AUDIT_ANCHOR: S3 Object Lock mode"):
        Services(wrong).audit_trail  # noqa: B018


def test_the_app_and_the_worker_built_from_one_services_share_its_database_and_store(
    ingest_config: Config, db: Database, emulator: RunningEmulator
) -> None:
    # Given one Services, handed to the app factory and to the worker's builder
    built = Services(ingest_config, db=db)
    app = create_app(ingest_config, services=built)
    worker = build_worker(built)
    assert services(app) is built
    # When a caller reports through the app and that worker ingests the recording
    EmulatorCaller(app, emulator).call("1,1,1,1,#,1")
    settle(worker, built.db)
    # Then the worker found the app's recording in the one database...
    with built.db.transaction() as session:
        assert session.scalars(select(Report)).one().status is ReportStatus.QUEUED
        stored = session.scalars(select(AudioObject)).one()
        session.expunge(stored)
    # ...and sealed it into the one store, where the console's key opens it
    assert decrypted(ingest_config, built.store, stored)[:4] == b"RIFF"
