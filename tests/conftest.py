"""Fixtures: config -> database -> app -> client -> phone.

Every test that uses the database runs twice, on SQLite and on PostgreSQL (a fresh
schema per test). Outside CI a missing PostgreSQL skips its half with a reason; under
``CI=true`` it fails.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from ivr import models as tables  # noqa: F401 - every table, for create_all
from ivr.app import create_app
from ivr.cli.calls import AppTransport
from ivr.config import Config
from ivr.crypto.keys import ensure_local_key_pair
from ivr.dev.phone import CallLog, EmulatorMedia, HeldMedia, MediaHost, Phone, scripted_keys
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.reports import Force
from ivr.platform.db import Base, Database
from ivr.services import services

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "ivr" / "samples"
POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PUBLIC_URL = "https://hotline.example.org"
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token"
# The planted caller: a number from Ofcom's drama range that must be found nowhere.
PLANTED_NUMBER = "+447700900461"
IN_CI = os.environ.get("CI") == "true"


def postgres_available() -> bool:
    try:
        psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


def require_postgres() -> None:
    if postgres_available():
        return
    if IN_CI:
        pytest.fail("PostgreSQL at 127.0.0.1:5432 is required under CI=true")
    pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections all use a fresh, empty schema (dropped afterwards)."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ivr.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    """A private copy of call_flows/, so a test may edit the flow file."""
    target = tmp_path / "call_flows"
    target.mkdir()
    for source in (REPO / "call_flows").iterdir():
        if source.is_file():
            (target / source.name).write_bytes(source.read_bytes())
    return target


@pytest.fixture(scope="session")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The console's local key pair, made once (as `ivr keys init` would) for the run."""
    folder = tmp_path_factory.mktemp("keys")
    ensure_local_key_pair(folder)
    return folder


@pytest.fixture
def config(database_url: str, flows_dir: Path, tmp_path: Path, key_pair: Path) -> Config:
    return Config(
        database_url=database_url,
        public_url=PUBLIC_URL,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        secret_key=b"k" * 32,
        console_secret_key=b"c" * 32,
        twilio_api_url="http://127.0.0.1:9",
        flows_dir=flows_dir,
        storage_url=str(tmp_path / "recordings"),
        keys_dir=key_pair,
        spool_dir=tmp_path / "spool",
        log_level="DEBUG",
        flow_poll_seconds=0.0,  # see a newly published version at once
        audit_key=b"a" * 32,  # tests.staff.test_audit.KEY: what tags and seals their events
    )


@pytest.fixture
def db(config: Config) -> Iterator[Database]:
    # As the app's own would be: the console's carries the audit key.
    key = config.audit_chain_key if config.serves_console else None
    database = Database.from_url(config.database_url, audit_key=key)
    Base.metadata.create_all(database.engine)
    seed_forces(database)
    yield database
    database.engine.dispose()


def seed_forces(database: Database) -> None:
    """The forces the migration seeds, from the same list (tests build tables directly)."""
    lines = (REPO / "ivr" / "data" / "forces.txt").read_text().splitlines()
    with database.transaction() as session:
        session.add_all(Force(name=line) for line in lines if line and not line.startswith("#"))


@pytest.fixture
def app(config: Config, db: Database) -> Flask:
    return create_app(config, db=db)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Caller:
    """Places calls against the test app through the text-mode phone."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.media: MediaHost = HeldMedia(ACCOUNT_SID)
        self.public_base = services(app).config.public_base  # what signatures are checked against

    def call(self, keys: str, audio: str | None = "report-en.wav") -> CallLog:
        phone = Phone(
            AppTransport(self.app.test_client()),
            self.media,
            public_base=self.public_base,
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            keys=scripted_keys(keys),
            audio=(SAMPLES / audio).read_bytes() if audio else None,
            caller=PLANTED_NUMBER,
        )
        return phone.call()


@pytest.fixture
def caller(app: Flask) -> Caller:
    return Caller(app)


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """Twilio's REST and media side, over HTTP on loopback."""
    with RunningEmulator(ACCOUNT_SID, AUTH_TOKEN) as running:
        yield running


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """An S3- and KMS-compatible server (moto) over HTTP on loopback, for the whole run."""
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-west-2",
        }.items():
            patch.setenv(name, value)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture
def ingest_config(config: Config, emulator: RunningEmulator, tmp_path: Path) -> Config:
    """The service's config with Twilio at the emulator and retries that come at once."""
    return dataclasses.replace(
        config,
        twilio_api_url=emulator.url,
        job_retry_base_seconds=0.001,
        job_retry_max_seconds=0.01,
        job_max_attempts=4,
        reconcile_grace_seconds=0,
    )


class EmulatorCaller(Caller):
    """Places calls whose recordings are held by the emulator, as Twilio holds them."""

    def __init__(self, app: Flask, emulator: RunningEmulator) -> None:
        super().__init__(app)
        self.media = EmulatorMedia(emulator.url)


@pytest.fixture
def ingest_app(ingest_config: Config, db: Database) -> Flask:
    return create_app(ingest_config, db=db)


@pytest.fixture
def emulator_caller(ingest_app: Flask, emulator: RunningEmulator) -> EmulatorCaller:
    return EmulatorCaller(ingest_app, emulator)


def assert_implements(protocol: type, implementation: type) -> None:
    """Check that ``implementation`` has every method of ``protocol``, with its parameters."""
    import inspect

    for name, member in vars(protocol).items():
        if callable(member) and not name.startswith("_"):
            wanted = inspect.signature(member).parameters.keys()
            assert inspect.signature(getattr(implementation, name)).parameters.keys() == wanted, (
                name
            )
