"""A deploy replaces the process a call is on, mid-call, and the call goes on.

Two real ``ivr serve`` processes on one database: the call begins on the old one; once
the caller has keyed a PIN (sealed in the callback URL), the new one starts, with the
call-state key rotated as a deploy may do, and the old one is stopped. Twilio's next
request reaches the new process, which knows the call only from its URL.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from ivr.config import DEV_ACCOUNT_SID
from ivr.dev.phone import EmulatorMedia, HttpTransport, Phone, scripted_keys
from tests.conftest import PLANTED_NUMBER, REPO, SAMPLES
from tests.functional.servers import free_port, running, running_emulator, set_up_as_make_run

pytestmark = pytest.mark.slow

OLD_KEY = "o" * 32
NEW_KEY = "n" * 32
REPORT_THEN_REFERENCE = "1,1,1,1,#,1,1,2,4826,4826"


class RollingDeploy(HttpTransport):
    """Twilio's requests for one call, to whichever process serves the hotline now."""

    def __init__(self, old_port: int, start_new: contextlib.AbstractContextManager[int]) -> None:
        super().__init__(timeout=60)
        self.port = old_port
        self._start_new = start_new
        self.replaced_mid_call = False
        self.stack = contextlib.ExitStack()
        self.old_stack = contextlib.ExitStack()

    def post(self, url: str, params: Mapping[str, str], signature: str) -> str:
        parts = urlsplit(url)
        body = super().post(
            urlunsplit(parts._replace(netloc=f"127.0.0.1:{self.port}")), params, signature
        )
        if not self.replaced_mid_call and "&amp;s=" in body:  # a PIN now travels sealed
            self.port = self.stack.enter_context(self._start_new)  # the new task is up...
            self.old_stack.close()  # ...and the old one is stopped
            self.replaced_mid_call = True
        return body


def test_a_call_survives_its_process_being_replaced_by_a_new_one(tmp_path: Path) -> None:
    old_port, new_port, emulator = free_port(), free_port(), free_port()
    database = tmp_path / "var" / "ivr.sqlite3"
    public = f"http://127.0.0.1:{old_port}"  # what Twilio calls: the load balancer's name
    env = {
        "IVR_DATABASE_URL": f"sqlite:///{database}",
        "IVR_PUBLIC_URL": public,
        "IVR_TWILIO_API_URL": f"http://127.0.0.1:{emulator}",
        "IVR_FLOWS_DIR": str(REPO / "call_flows"),
        "IVR_STORAGE_URL": str(tmp_path / "recordings"),
        "IVR_WORKER_POLL_SECONDS": "0.2",
    }
    set_up_as_make_run(env, tmp_path)

    def serve(port: int, **extra: str) -> contextlib.AbstractContextManager[object]:
        return running(
            ["serve", "--workers", "1", "--with-worker"],
            {**env, "IVR_BIND": f"127.0.0.1:{port}", **extra},
            tmp_path,
            f"http://127.0.0.1:{port}/healthz",
            tmp_path / f"server-{port}.log",
        )

    @contextlib.contextmanager
    def new_process() -> Iterator[int]:
        # The new build's task: the call-state key rotated, the old one kept as previous
        with serve(new_port, IVR_URL_STATE_KEY=NEW_KEY, IVR_URL_STATE_PREVIOUS_KEY=OLD_KEY):
            yield new_port

    with running_emulator(emulator, env, tmp_path):
        transport = RollingDeploy(old_port, new_process())
        with transport.stack:
            transport.old_stack.enter_context(serve(old_port, IVR_URL_STATE_KEY=OLD_KEY))
            phone = Phone(
                transport,
                EmulatorMedia(f"http://127.0.0.1:{emulator}"),
                public_base=public,
                account_sid=DEV_ACCOUNT_SID,
                auth_token=(tmp_path / "var" / "dev-twilio-auth-token").read_text().strip(),
                keys=scripted_keys(REPORT_THEN_REFERENCE),
                audio=(SAMPLES / "report-en.wav").read_bytes(),
                caller=PLANTED_NUMBER,
            )
            # When a caller reports and takes a reference while the deploy replaces the task
            log = phone.call()
            # Then the call was moved mid-way, and the caller noticed nothing
            assert transport.replaced_mid_call
            heard = log.text()
            assert "Your follow-up reference is ready" in heard
            # And the new task's worker stores the report as usual
            deadline = time.monotonic() + 120
            while queued(database) != 1:
                assert time.monotonic() < deadline, "the report was never queued"
                time.sleep(0.2)


def queued(database: Path) -> int:
    with sqlite3.connect(database) as db:
        found: int = db.execute("SELECT count(*) FROM reports WHERE status = 'queued'").fetchone()[
            0
        ]
    return found
