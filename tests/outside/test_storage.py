"""Both object stores keep ciphertext under random names and say clearly when they fail."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import boto3
import pytest
from sqlalchemy import text

from ivr.outside.storage import (
    LocalStore,
    ObjectStore,
    S3Store,
    StoreUnavailable,
    checksum,
    new_object_name,
)
from ivr.platform.db import Database
from ivr.platform.private_files import midnight
from tests.conftest import assert_implements


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalStore(tmp_path / "recordings")
        return
    endpoint = request.getfixturevalue("aws_endpoint")
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-2")
    bucket = f"rec-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    yield S3Store(s3, bucket, "reports/")


def test_an_object_is_written_read_back_and_deleted(store: ObjectStore) -> None:
    data = os.urandom(9 * 1024 * 1024 + 123)  # more than one S3 part
    name = new_object_name()
    written = store.put(name, (data[i : i + 100_000] for i in range(0, len(data), 100_000)))
    assert (written.size, store.size(name)) == (len(data), len(data))
    assert checksum(store, name) == written
    assert b"".join(store.read(name, 1000, 1010)) == data[1000:1010]
    assert b"".join(store.read(name, len(data) - 5)) == data[-5:]
    store.delete(name)
    store.delete(name)  # deleting twice is fine
    with pytest.raises(FileNotFoundError):
        b"".join(store.read(name))
    with pytest.raises(FileNotFoundError):
        store.size(name)


def test_a_stored_object_is_never_written_over(store: ObjectStore) -> None:
    # Given a stored object
    name = new_object_name()
    store.put(name, [b"a stored recording"])
    # When anything writes again under its name, the store refuses and keeps the object
    with pytest.raises(FileExistsError):
        store.put(name, [b"an overwrite" * 10])
    assert b"".join(store.read(name)) == b"a stored recording"
    # And once it is deleted, the name is free again
    store.delete(name)
    store.put(name, [b"again"])
    assert b"".join(store.read(name)) == b"again"


def test_an_interrupted_write_leaves_the_name_free(store: ObjectStore) -> None:
    def interrupted() -> Iterator[bytes]:
        yield b"x" * (9 * 1024 * 1024)  # past the first S3 part
        raise RuntimeError("the worker lost its lease")

    name = new_object_name()
    with pytest.raises(RuntimeError):
        store.put(name, interrupted())
    store.put(name, [b"the next attempt"])
    assert b"".join(store.read(name)) == b"the next attempt"


def test_every_s3_write_asks_s3_to_refuse_an_existing_name(aws_endpoint: str) -> None:
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="eu-west-2")
    bucket = f"rec-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    sent: list[tuple[str, bytes | None]] = []

    def record(request: Any, **_: Any) -> None:
        sent.append((request.method, request.headers.get("If-None-Match")))

    s3.meta.events.register("before-send.s3.CompleteMultipartUpload", record)
    s3.meta.events.register("before-send.s3.PutObject", record)
    S3Store(s3, bucket, "reports/").put(new_object_name(), [b"sealed"])
    # The request that makes the object visible carries If-None-Match: *
    assert sent == [("POST", b"*")]


def test_names_are_random_and_safe(tmp_path: Path) -> None:
    names = {new_object_name() for _ in range(1000)}
    assert len(names) == 1000 and all(len(n) == 32 and n.isalnum() for n in names)
    with pytest.raises(ValueError):
        LocalStore(tmp_path).put("../escape", [b""])


def test_a_local_write_leaves_no_partial_file_behind(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)

    def broken() -> Iterator[bytes]:
        yield b"half an object"
        raise OSError(28, "No space left on device")

    with pytest.raises(StoreUnavailable, match="No space left"):
        store.put("ab" * 16, broken())
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == []


def test_an_unreachable_s3_is_store_unavailable() -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="eu-west-2",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    with pytest.raises(StoreUnavailable):
        S3Store(s3, "bucket").put("ab" * 16, [b"x"])


@pytest.mark.parametrize("implementation", [LocalStore, S3Store])
def test_each_store_implements_the_interface(implementation: type) -> None:
    assert_implements(ObjectStore, implementation)


def test_a_local_object_is_private_and_dated_only_to_the_day(tmp_path: Path) -> None:
    # Given a process whose umask would make files readable by everyone
    previous = os.umask(0o022)
    try:
        store = LocalStore(tmp_path / "recordings")
        name = new_object_name()
        store.put(name, [b"sealed audio"])
    finally:
        os.umask(previous)
    path = tmp_path / "recordings" / name[:2] / name
    # Then only our user can read it or list its folders...
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (path.parent, tmp_path / "recordings"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    # ...and neither it nor its folders say when in the day it was written
    for dated in (path, path.parent, tmp_path / "recordings"):
        assert dated.stat().st_mtime == midnight()
    assert datetime.fromtimestamp(midnight(), UTC).time() == time(0, 0)


def test_a_sqlite_database_is_created_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        database = Database.from_url(f"sqlite:///{tmp_path / 'var' / 'ivr.sqlite3'}")
        with database.transaction() as session:
            session.execute(text("CREATE TABLE t (x)"))
        database.engine.dispose()
    finally:
        os.umask(previous)
    for path in (tmp_path / "var").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700


def test_deleting_from_a_versioned_bucket_leaves_no_version_behind(aws_endpoint: str) -> None:
    # Given a bucket that keeps every version, holding three writes of one object
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="eu-west-2")
    bucket = f"rec-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    store = S3Store(s3, bucket, "reports/")
    name, neighbour = new_object_name(), new_object_name()
    for attempt in (b"first", b"second", b"third"):  # the store itself never overwrites
        s3.put_object(Bucket=bucket, Key=f"reports/{name}", Body=attempt)
    store.put(neighbour, [b"another caller"])
    # And an earlier plain delete that left only a delete marker over them
    s3.delete_object(Bucket=bucket, Key=f"reports/{name}")
    # When the store deletes the object
    store.delete(name)
    # Then no version and no delete marker of it remains, and no old version can be read
    listed = s3.list_object_versions(Bucket=bucket, Prefix=f"reports/{name}")
    assert listed.get("Versions", []) == [] and listed.get("DeleteMarkers", []) == []
    with pytest.raises(FileNotFoundError):
        store.size(name)
    # And the object beside it is untouched
    assert b"".join(store.read(neighbour)) == b"another caller"
    store.delete(name)  # deleting again is fine
