"""Browser fixtures: Debian's Chromium, and the service with its console served over HTTP."""

from __future__ import annotations

import dataclasses
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from ivr.app import create_app
from ivr.config import Config
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.platform.db import Base, Database
from ivr.services import Services
from ivr.worker.runner import build_worker
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, IN_CI, EmulatorCaller, seed_forces
from tests.functional.hotline import hotline  # noqa: F401 - the fault stories' fixture
from tests.functional.servers import free_port
from tests.mailbox import Mailbox, smtp_server
from tests.worker.conftest import settle

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is required under CI=true (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-sync",
                "--disable-component-update",
                "--no-first-run",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def console(
    tmp_path: Path, key_pair: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[str, Config, Database, Mailbox, RunningEmulator, Any]]:
    """The service with its console, served over HTTP on loopback, with Twilio and SMTP stand-ins.

    Settings can be changed with indirect parametrisation:
    ``@pytest.mark.parametrize("console", [{"session_idle_minutes": 1}], indirect=True)``.
    """
    port = free_port()
    with smtp_server(tmp_path) as mailbox, RunningEmulator(ACCOUNT_SID, AUTH_TOKEN) as emulator:
        flows = tmp_path / "call_flows"
        shutil.copytree(Path(__file__).resolve().parents[2] / "call_flows", flows)
        config = Config(
            database_url=f"sqlite:///{tmp_path / 'ivr.sqlite3'}",
            public_url=f"http://127.0.0.1:{port}",
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            secret_key=b"k" * 32,
            console_secret_key=b"c" * 32,
            twilio_api_url=emulator.url,
            flows_dir=flows,
            storage_url=str(tmp_path / "recordings"),
            keys_dir=key_pair,
            smtp_url=f"smtp://127.0.0.1:{mailbox.port}",
            smtp_ca_file=mailbox.ca_file,
            log_level="WARNING",
        )
        config = dataclasses.replace(config, **getattr(request, "param", {}))
        db = Database.from_url(config.database_url)
        Base.metadata.create_all(db.engine)
        seed_forces(db)
        app = create_app(config, db=db)
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        # A caller leaves a report, and the worker queues it.
        EmulatorCaller(app, emulator).call("1,1,2,2,#,1,#")
        settle(build_worker(Services(config, db=db)), db)
        try:
            yield config.public_base, config, db, mailbox, emulator, app
        finally:
            server.shutdown()
