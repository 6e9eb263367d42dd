"""Per-request cost of a menu step through the full stack, next to a bare Flask route.

The full stack: signature check, allow-list, the call's state read from the signed URL,
the engine, TwiML rendered (a menu step touches no database). The bare route gets the
very same request (query, form and headers) and returns the same TwiML from a constant. Both live in the same app and are measured in the same run,
in-process (WSGI) and over loopback HTTP, on SQLite (the embedded default) and, when it
is reachable, PostgreSQL.

    .venv/bin/python -m benchmarks.webhook [--requests 2000]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import psycopg
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from ivr.app import create_app
from ivr.config import Config, Tier
from ivr.crypto.keys import public_pem
from ivr.platform.db import Base, Database

REPO = Path(__file__).resolve().parent.parent
TOKEN = "benchmark-token"
GOAL = 1.5
# The edge holds only the public half of the console's key pair.
PUBLIC_KEY = public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)).decode()


def build(database_url: str, public_url: str, folder: Path) -> Flask:
    """An edge app whose keys, spool and outbox live in ``folder``, never the checkout's var/."""
    config = Config(
        keys_dir=folder / "keys",
        spool_dir=folder / "spool",
        outbox_dir=folder / "outbox",
        database_url=database_url,
        public_url=public_url,
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token=TOKEN,
        secret_key=b"b" * 32,
        flows_dir=REPO / "call_flows",
        log_level="WARNING",
        tier=Tier.EDGE,  # as deployed on the internet-facing side that Twilio calls
        recordings_public_key=PUBLIC_KEY,
    )
    database = Database.from_url(database_url)
    Base.metadata.create_all(database.engine)
    return create_app(config, db=database)


class MenuCaller:
    """Keeps one call at the main menu, pressing the repeat key: a full menu step each time."""

    def __init__(self, post: Callable[[str, dict[str, str], str], str], public_url: str) -> None:
        self._post = post
        self._public = public_url
        self._validator = RequestValidator(TOKEN)
        self.call_sid = "CA" + uuid.uuid4().hex
        welcome = self._signed("/twilio/voice", {})
        self.last = self._signed(self._action(welcome), {"Digits": "1"})
        self._menu = self._action(self.last)  # the main menu's callback, state and all

    def _action(self, twiml: str) -> str:
        gather = ET.fromstring(twiml).find(".//Gather")  # noqa: S314 - our own answer
        assert gather is not None, twiml
        return gather.get("action", "").removeprefix(self._public)

    def _signed(self, path: str, extra: dict[str, str]) -> str:
        params = {
            "AccountSid": "AC" + "0" * 32,
            "CallSid": self.call_sid,
            "From": "+447700900999",
            "Caller": "+447700900999",
            "To": "+448000000000",
            **extra,
        }
        return self._post(
            path, params, self._validator.compute_signature(self._public + path, params)
        )

    def step(self) -> str:
        return self._signed(self._menu, {"Digits": "*"})

    def bare(self) -> str:
        """The very same request (query, form, signature header) to the bare route."""
        path = "/bare" + self._menu[self._menu.index("?") :]
        params = {
            "AccountSid": "AC" + "0" * 32,
            "CallSid": self.call_sid,
            "From": "+447700900999",
            "Caller": "+447700900999",
            "To": "+448000000000",
            "Digits": "*",
        }
        return self._post(path, params, self._validator.compute_signature(path, params))


def measure(
    full: Callable[[], object], bare: Callable[[], object], count: int
) -> tuple[list[float], list[float]]:
    """Time ``full`` and ``bare`` alternately, so that a busy machine slows both alike."""
    for _ in range(min(200, count // 5)):  # warm caches, pools and the JIT-less interpreter
        full()
        bare()
    timings: tuple[list[float], list[float]] = ([], [])
    for _ in range(count):
        for run_once, into in ((full, timings[0]), (bare, timings[1])):
            started = time.perf_counter()
            run_once()
            into.append((time.perf_counter() - started) * 1e6)
    return timings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def attach_bare_route(app: Flask) -> dict[str, str]:
    """Add the bare route before the first request; fill in its TwiML once it is known."""
    holder = {"body": ""}
    app.add_url_rule(
        "/bare", "bare", lambda: Response(holder["body"], mimetype="text/xml"), methods=["POST"]
    )
    return holder


def run_backend(
    name: str, database_url: str, count: int, folder: Path
) -> list[tuple[str, str, float, float, float]]:
    rows = []
    # In-process: Flask's test client, no sockets.
    app = build(database_url, "https://hotline.example.org", folder / "in-process")
    bare_body = attach_bare_route(app)
    client = app.test_client()

    def wsgi_post(path: str, params: dict[str, str], signature: str) -> str:
        return client.post(path, data=params, headers={"X-Twilio-Signature": signature}).get_data(
            as_text=True
        )

    caller = MenuCaller(wsgi_post, "https://hotline.example.org")
    bare_body["body"] = caller.step()
    full, bare = measure(caller.step, caller.bare, count)
    rows.append(
        (
            name,
            "in-process",
            statistics.median(full),
            statistics.median(bare),
            statistics.median(full) / statistics.median(bare),
        )
    )

    # Over loopback HTTP, through a real server, as Twilio reaches us.
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    server_app = build(database_url.replace("bench1", "bench2"), public, folder / "served")
    server_bare_body = attach_bare_route(server_app)
    server = make_server("127.0.0.1", port, server_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    session = requests.Session()

    def http_post(path: str, params: dict[str, str], signature: str) -> str:
        return session.post(
            public + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=10
        ).text

    caller = MenuCaller(http_post, public)
    server_bare_body["body"] = caller.step()
    full, bare = measure(caller.step, caller.bare, count)
    server.shutdown()
    rows.append(
        (
            name,
            "loopback HTTP",
            statistics.median(full),
            statistics.median(bare),
            statistics.median(full) / statistics.median(bare),
        )
    )
    return rows


def postgres_url() -> str | None:
    try:
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/test", autocommit=True, connect_timeout=3
        ) as conn:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError:
        return None
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows += run_backend(
            "SQLite", f"sqlite:///{folder}/bench1.sqlite3", args.requests, Path(folder) / "sqlite"
        )
        pg = postgres_url()
        if pg:
            rows += run_backend("PostgreSQL", pg, args.requests, Path(folder) / "postgresql")
    print(
        f"Menu step, median of {args.requests} requests each (goal: full stack at most {GOAL}x bare)\n"
    )
    print(f"{'database':<11} {'path':<14} {'full stack µs':>14} {'bare route µs':>14} {'ratio':>7}")
    for name, path, full_us, bare_us, ratio in rows:
        flag = "" if ratio <= GOAL else "  above goal"
        print(f"{name:<11} {path:<14} {full_us:>14.0f} {bare_us:>14.0f} {ratio:>6.2f}x{flag}")


if __name__ == "__main__":
    main()
