"""Two tiers that cannot hurt each other: the edge stores, only the console can read.

The edge faces the internet. Whatever it holds (its config, its keys, its secrets) must
not let anyone read a recording or act as a member of staff.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from ivr.app import create_app
from ivr.cli import main
from ivr.config import Config, ConfigError, Tier
from ivr.crypto.keys import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, ensure_local_key_pair
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.calls import JobStage, JobState, RecordingJob
from ivr.models.reports import AudioObject, Report, ReportStatus
from ivr.models.staff import Role, User
from ivr.outside.storage import ObjectStore, StoredObject, StoreUnavailable
from ivr.platform.db import Database
from ivr.services import Services, key_unwrapper, key_wrapper, object_store, twilio_api
from ivr.telephony.jobs import JobQueue, RetryPolicy
from ivr.worker.ingest import Ingester
from ivr.worker.runner import Worker, build_worker
from tests.conftest import EmulatorCaller
from tests.console.conftest import make_staff, sign_in
from tests.worker.conftest import decrypted, settle

CONSOLE_SECRET = "c" * 32


def console_keys_init(folder: Path, public_out: Path) -> str:
    """Run `ivr keys init` as an operator does on the console side; return its output."""
    result = CliRunner().invoke(
        main,
        ["keys", "init", "--public-out", str(public_out)],
        env={
            "IVR_TIER": "console",
            "IVR_CONSOLE_SECRET_KEY": CONSOLE_SECRET,
            "IVR_KEYS_DIR": str(folder),
        },
    )
    assert result.exit_code == 0, result.output
    return result.output


def edge_of(config: Config, keys_dir: Path) -> Config:
    return dataclasses.replace(config, tier=Tier.EDGE, console_secret_key=b"", keys_dir=keys_dir)


def console_of(config: Config, keys_dir: Path) -> Config:
    return dataclasses.replace(
        config, tier=Tier.CONSOLE, secret_key=b"", twilio_auth_token="", keys_dir=keys_dir
    )


def test_an_edge_given_only_the_public_key_stores_what_the_console_plays(
    ingest_config: Config, db: Database, emulator: RunningEmulator, tmp_path: Path
) -> None:
    # Given the console's key pair, made on the console side, and its public half on the edge
    console_keys, edge_keys = tmp_path / "console-keys", tmp_path / "edge-keys"
    edge_keys.mkdir()
    printed = console_keys_init(console_keys, edge_keys / PUBLIC_KEY_FILE)
    assert "BEGIN PUBLIC KEY" in printed and "PRIVATE" not in printed
    edge = edge_of(ingest_config, edge_keys)
    # When a caller reports through the edge and the edge's worker ingests it
    EmulatorCaller(create_app(edge, db=db), emulator).call("1,1,1,1,#,1")
    settle(build_worker(Services(edge, db=db)), db)
    # Then the report is queued and its recording erased at Twilio...
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        assert report.status is ReportStatus.QUEUED
        stored = session.scalars(select(AudioObject)).one()
        session.expunge(stored)
    assert not emulator.state.recordings
    # ...the console, with the private half, can play it...
    console = console_of(ingest_config, console_keys)
    assert decrypted(console, object_store(console), stored)[:4] == b"RIFF"
    # ...and no private key exists on the edge afterwards: it never made one.
    assert sorted(path.name for path in edge_keys.iterdir()) == [PUBLIC_KEY_FILE]


def test_the_edge_refuses_to_start_without_the_public_key(config: Config, tmp_path: Path) -> None:
    edge = edge_of(config, tmp_path / "empty")
    with pytest.raises(ConfigError, match="ivr keys init"):
        create_app(edge)
    assert not (tmp_path / "empty").exists()  # and makes nothing in its place


def test_the_edge_refuses_to_start_beside_a_private_key(config: Config, tmp_path: Path) -> None:
    ensure_local_key_pair(tmp_path / "keys")
    with pytest.raises(ConfigError, match="must never hold it"):
        create_app(edge_of(config, tmp_path / "keys"))


def test_the_edge_refuses_a_private_key_offered_as_the_public_one(
    config: Config, key_pair: Path
) -> None:
    private_pem = (key_pair / PRIVATE_KEY_FILE).read_text()
    edge = dataclasses.replace(edge_of(config, key_pair), recordings_public_key=private_pem)
    with pytest.raises(ConfigError, match="public half only"):
        key_wrapper(dataclasses.replace(edge, keys_dir=Path("/nonexistent")))


def test_only_the_console_may_unwrap_and_only_it_may_make_keys(
    config: Config, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="only the console"):
        key_unwrapper(edge_of(config, tmp_path))
    result = CliRunner().invoke(
        main,
        ["keys", "init"],
        env={
            "IVR_TIER": "edge",
            "IVR_SECRET_KEY": "s" * 32,
            "IVR_TWILIO_AUTH_TOKEN": "t",
            "IVR_KEYS_DIR": str(tmp_path / "keys"),
        },
    )
    assert result.exit_code != 0 and "never makes or holds a private key" in result.output
    assert not (tmp_path / "keys").exists()


def test_keys_init_never_replaces_half_a_pair(tmp_path: Path) -> None:
    # Given a console whose private key went missing (say, a restore that missed it)
    ensure_local_key_pair(tmp_path)
    public = (tmp_path / PUBLIC_KEY_FILE).read_bytes()
    (tmp_path / PRIVATE_KEY_FILE).unlink()
    # Then keys init refuses to make a new pair that would orphan every recording
    result = CliRunner().invoke(
        main,
        ["keys", "init"],
        env={
            "IVR_TIER": "console",
            "IVR_CONSOLE_SECRET_KEY": CONSOLE_SECRET,
            "IVR_KEYS_DIR": str(tmp_path),
        },
    )
    assert result.exit_code != 0 and "without its private half" in result.output
    assert (tmp_path / PUBLIC_KEY_FILE).read_bytes() == public
    assert not (tmp_path / PRIVATE_KEY_FILE).exists()


class UnreadableStore:
    """A store that takes objects but cannot read them back yet (say, a blip)."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    def put(self, name: str, chunks: Iterable[bytes]) -> StoredObject:
        return self._store.put(name, chunks)

    def read(self, name: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        raise StoreUnavailable("not readable yet")

    def size(self, name: str) -> int:
        return self._store.size(name)

    def delete(self, name: str) -> None:
        self._store.delete(name)

    def answers(self) -> bool:
        return self._store.answers()


def test_an_object_sealed_for_another_key_is_not_verified_but_stored_again(
    ingest_config: Config,
    db: Database,
    emulator: RunningEmulator,
    emulator_caller: EmulatorCaller,
    tmp_path: Path,
) -> None:
    # Given a recording stored, not yet verified, by a worker that sealed it for another key
    ensure_local_key_pair(tmp_path / "other")
    other = dataclasses.replace(ingest_config, keys_dir=tmp_path / "other")
    emulator_caller.call("1,1,1,1,#,1")
    queue = JobQueue(db, timedelta(seconds=60), RetryPolicy(5, 0.001, 0.01))
    store = object_store(ingest_config)
    stalled = Ingester(db, queue, twilio_api(other), UnreadableStore(store), key_wrapper(other))
    assert Worker(queue, stalled).run_once()
    with db.transaction() as session:
        job = session.scalars(select(RecordingJob)).one()
        assert (job.stage, job.state) == (JobStage.STORED, JobState.PENDING)
    # When a worker configured with the console's key takes the job over
    settle(build_worker(Services(ingest_config, db=db)), db)
    # Then the object it verified, and let Twilio's copy go for, is one the console can open
    with db.transaction() as session:
        stored = session.scalars(select(AudioObject)).one()
        session.expunge(stored)
    assert decrypted(ingest_config, store, stored)[:4] == b"RIFF"
    assert not emulator.state.recordings
    assert len([path for path in Path(ingest_config.storage_url).rglob("*") if path.is_file()]) == 1


def mint_session(secret_key: str, user_id: int, epoch: int) -> str:
    """Sign a console session cookie with a key derived from ``secret_key``."""
    forger = Flask("forger")
    forger.secret_key = hmac.new(
        secret_key.encode(), b"console-sessions", hashlib.sha256
    ).hexdigest()
    serializer = forger.session_interface.get_signing_serializer(forger)  # type: ignore[attr-defined]
    assert serializer is not None
    cookie: str = serializer.dumps({"user_id": user_id, "epoch": epoch, "seen": time.time()})
    return cookie


def test_whoever_holds_the_edge_cannot_mint_a_console_session(
    ingest_app: Flask, ingest_config: Config, db: Database
) -> None:
    # Given a handler, and an attacker holding everything the edge holds (its secret, the DB)
    handler = make_staff(db, "hana", Role.HANDLER)
    assert sign_in(ingest_app.test_client(), handler) == 302
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.name == "hana")).one()
        user_id, epoch = user.id, user.session_epoch
    # When they sign a session cookie with the edge's secret
    client = ingest_app.test_client()
    client.set_cookie("console", mint_session(ingest_config.secret_key.decode(), user_id, epoch))
    # Then the console does not take it
    assert client.get("/console/").status_code == 302
    # (while one signed with the console's own secret would have been taken)
    client.set_cookie(
        "console", mint_session(ingest_config.console_secret_key.decode(), user_id, epoch)
    )
    assert client.get("/console/").status_code == 200


def test_each_tier_serves_only_its_own_routes(
    config: Config, db: Database, key_pair: Path, tmp_path: Path
) -> None:
    edge_keys = tmp_path / "edge-keys"
    edge_keys.mkdir()
    (edge_keys / PUBLIC_KEY_FILE).write_bytes((key_pair / PUBLIC_KEY_FILE).read_bytes())
    edge = create_app(edge_of(config, edge_keys), db=db).test_client()
    console = create_app(console_of(config, key_pair), db=db).test_client()
    assert edge.get("/console/sign-in").status_code == 404
    assert edge.post("/twilio/voice").status_code == 403  # there, and unsigned
    assert console.get("/console/sign-in").status_code == 200
    assert console.post("/twilio/voice").status_code == 404
    assert edge.get("/healthz").status_code == console.get("/healthz").status_code == 200


def test_metrics_are_never_open_to_the_internet(
    config: Config, db: Database, key_pair: Path, tmp_path: Path
) -> None:
    edge_keys = tmp_path / "edge-keys"
    edge_keys.mkdir()
    (edge_keys / PUBLIC_KEY_FILE).write_bytes((key_pair / PUBLIC_KEY_FILE).read_bytes())
    edge_config = edge_of(config, edge_keys)
    # The edge without a metrics token serves none
    assert create_app(edge_config, db=db).test_client().get("/metrics").status_code == 404
    # With a token, a scrape must carry it
    scraped = create_app(
        dataclasses.replace(edge_config, metrics_token="scrape-me"), db=db
    ).test_client()
    assert scraped.get("/metrics").status_code == 401
    wrong = scraped.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401
    right = scraped.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert right.status_code == 200 and b"ivr_reports" in right.data


def test_a_misplaced_setting_stops_a_command_with_its_reason_not_a_traceback(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(
        main,
        ["worker", "--drain"],
        env={
            "IVR_TIER": "console",
            "IVR_CONSOLE_SECRET_KEY": CONSOLE_SECRET,
            "IVR_SECRET_KEY": "s" * 32,
        },
    )
    assert result.exit_code == 1
    assert "IVR_SECRET_KEY belong(s) to the other tier" in result.output
    assert "Traceback" not in result.output
