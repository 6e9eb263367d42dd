"""Sign-in latency: what a person waits between pressing "Sign in" and seeing the queue.

Builds the console as the tests do (its own database, local keys), enrols one handler,
then signs in again and again through the real routes (GET the form, POST name, password
and code, follow the redirect to the queue) and prints p50 and p95 of each part, with the
password check alone beside them. The goal: under a second, end to end, on this machine,
with the hash kept at OWASP's current Argon2id recommendation.

    PYTHONPATH=. .venv/bin/python -m benchmarks.sign_in [--rounds 10] [--together 1] [--postgres]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pyotp
from argon2 import PasswordHasher, extract_parameters
from flask import Flask
from sqlalchemy import select

from ivr import models as tables  # noqa: F401 - every table, for create_all
from ivr.app import create_app
from ivr.config import Config
from ivr.crypto.keys import ensure_local_key_pair
from ivr.models.staff import Role, User
from ivr.platform.db import Base, Database
from ivr.staff import accounts

PASSWORD = "correct horse battery"
SERVER = "postgresql://postgres@127.0.0.1:5432/test"


def build(folder: Path, url: str | None) -> tuple[Config, Database]:
    keys = folder / "keys"
    keys.mkdir()
    ensure_local_key_pair(keys)
    config = Config(
        database_url=url or f"sqlite:///{folder / 'bench.db'}",
        public_url="https://hotline.example.org",
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token="benchmark-auth-token",  # noqa: S106 - a local stand-in, no secret
        secret_key=b"k" * 32,
        console_secret_key=b"c" * 32,
        twilio_api_url="http://127.0.0.1:9",
        flows_dir=Path(__file__).resolve().parents[1] / "call_flows",
        storage_url=str(folder / "recordings"),
        keys_dir=keys,
        spool_dir=folder / "spool",
        log_level="WARNING",
        audit_key=b"a" * 32,
    )
    db = Database.from_url(config.database_url, audit_key=config.audit_chain_key)
    Base.metadata.create_all(db.engine)
    return config, db


def enrol(db: Database, name: str) -> str:
    """Enrol a handler; return their TOTP secret."""
    with db.transaction() as session:
        enrolment = accounts.add_user(session, name, Role.HANDLER, "benchmark")
        user = session.get(User, enrolment.user_id)
        assert user is not None and user.totp_secret is not None
        secret = user.totp_secret
        accounts.complete_enrolment(
            session, enrolment.token, PASSWORD, PASSWORD, pyotp.TOTP(secret).now()
        )
    return secret


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered) * 1000:8.1f} {p95 * 1000:8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--together", type=int, default=1, help="sign-ins at the same moment (a shift's start)"
    )
    parser.add_argument(
        "--postgres", action="store_true", help="on PostgreSQL (127.0.0.1:5432), not SQLite"
    )
    args = parser.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    url = (
        f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
        if args.postgres
        else None
    )
    if args.postgres:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    try:
        run(args.rounds, args.together, url)
    finally:
        if args.postgres:
            with psycopg.connect(SERVER, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


def sign_in_once(app: Flask, name: str, secret: str) -> dict[str, float]:
    """Sign ``name`` in through the routes, as a browser would; return each part's seconds."""
    totp = pyotp.TOTP(secret)
    client = app.test_client()
    started = time.perf_counter()
    page = client.get("/console/sign-in").get_data(as_text=True)
    formed = time.perf_counter()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    # The next step's code: fresh, whether or not the enrolment's step has passed.
    step = totp.timecode(datetime.now(UTC)) + 1
    response = client.post(
        "/console/sign-in",
        data={
            "csrf_token": token.group(1),
            "name": name,
            "password": PASSWORD,
            "code": totp.generate_otp(step),
        },
    )
    signed = time.perf_counter()
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    assert client.get(response.headers["Location"]).status_code == 200
    done = time.perf_counter()
    return {
        "form": formed - started,
        "sign in": signed - formed,
        "queue": done - signed,
        "total": done - started,
    }


def run(rounds: int, together: int, url: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config, db = build(Path(folder), url)
        # One handler a sign-in: each code is accepted once, and the next step's code is
        # the only fresh one a sign-in can use without waiting half a minute.
        names = [f"bench-handler-{i}" for i in range(rounds * together)]
        secrets = {name: enrol(db, name) for name in names}
        app = create_app(config, db=db)
        parts: dict[str, list[float]] = {"form": [], "sign in": [], "queue": [], "total": []}
        with ThreadPoolExecutor(max_workers=together) as pool:
            for first in range(0, len(names), together):
                # A shift starting: ``together`` people press "Sign in" at the same moment.
                batch = names[first : first + together]
                for timing in pool.map(lambda n: sign_in_once(app, n, secrets[n]), batch):
                    for part, seconds in timing.items():
                        parts[part].append(seconds)
        hashes: list[float] = []
        with db.reading() as session:
            stored = session.scalar(select(User.password_hash).where(User.name == names[0]))
        assert stored is not None
        for _ in range(rounds):
            before = time.perf_counter()
            PasswordHasher().verify(stored, PASSWORD)  # verify reads the hash's own parameters
            hashes.append(time.perf_counter() - before)
        used = extract_parameters(stored)
        print(
            f"Argon2id m={used.memory_cost} KiB t={used.time_cost} p={used.parallelism}; "
            f"{db.engine.dialect.name}; {rounds} rounds of {together} sign-ins at once"
        )
        print(f"{'part':<24} {'p50 ms':>8} {'p95 ms':>8}")
        for part, samples in parts.items():
            print(f"{part:<24} {_ms(samples)}")
        print(f"{'the hash alone':<24} {_ms(hashes)}")
        db.engine.dispose()


if __name__ == "__main__":
    main()
