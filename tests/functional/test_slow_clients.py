"""Slow and oversized clients against a real ``ivr serve``: the webhooks keep answering."""

from __future__ import annotations

import re
import socket
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import requests

from ivr.config import Config
from ivr.dev.phone import EmulatorMedia, HttpTransport, Phone, scripted_keys
from tests.conftest import PLANTED_NUMBER, REPO, SAMPLES
from tests.functional.servers import (
    free_port,
    ivr,
    running,
    running_emulator,
    set_up_as_make_run,
)
from tests.online.helpers import form_action

pytestmark = pytest.mark.slow

STALLED = 50
# Of them, this many send a few MB before they stall, so they hold real memory: 45 of
# 2 MB is 90 MB of the process's 128 MB for uploads (more would be refused, not held).
HEAVY, HEAVY_BYTES = 45, 2 * 1024 * 1024
# Generous on purpose: the stalled sockets must outlast the whole test on a busy machine.
# (The rate floor would drop them after its grace: the front's own tests show that; here
# they must be held, as many slow senders at once would be.)
PATIENT = ["--header-timeout", "3600", "--body-timeout", "3600", "--body-min-rate", "0"]
BIG = 40 * 1024 * 1024  # within the form's cap: the front must wait for the body
# Twilio gives up on a voice webhook that has not answered in 15 s, and plays the
# fallback: each webhook of a call must answer within it (Twilio's limit, not ours).
TWILIO_WEBHOOK_SECONDS = 15.0


@contextmanager
def hotline(tmp_path: Path, *serve_args: str) -> Iterator[tuple[str, dict[str, str]]]:
    """The service as ``make run`` starts it, but with one web process of four threads."""
    web, emulator = free_port(), free_port()
    base = f"http://127.0.0.1:{web}"
    env = {
        "IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'ivr.sqlite3'}",
        "IVR_BIND": f"127.0.0.1:{web}",
        "IVR_PUBLIC_URL": base,
        "IVR_TWILIO_API_URL": f"http://127.0.0.1:{emulator}",
        "IVR_FLOWS_DIR": str(REPO / "call_flows"),
        "IVR_STORAGE_URL": str(tmp_path / "recordings"),
        "IVR_WORKER_POLL_SECONDS": "0.2",
    }
    set_up_as_make_run(env, tmp_path)
    args = ["serve", "--workers", "1", "--threads", "4", "--with-worker", *serve_args]
    with (
        running_emulator(emulator, env, tmp_path),
        running(args, env, tmp_path, f"{base}/healthz", tmp_path / "server.log"),
    ):
        yield base, env


def connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=60)


def stall_upload(base: str, action: str, length: int = BIG, sent: int = 0) -> socket.socket:
    """Send an upload's headers and its first bytes (``sent`` of a file), then nothing."""
    sock = connect(base)
    sock.sendall(
        f"POST {action} HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {length}\r\n\r\n--b\r\n".encode()
    )
    if sent:
        sock.sendall(
            b'Content-Disposition: form-data; name="attachment"; filename="a.pdf"\r\n'
            b"Content-Type: application/pdf\r\n\r\n" + b"%PDF" + b"x" * (sent - 4)
        )
    return sock


def still_waiting(sock: socket.socket) -> bool:
    """True if the server has neither answered nor closed this connection."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)  # an answer, or b"" for a closed connection
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)
    return False


def fresh_action(base: str) -> str:
    return form_action(requests.get(f"{base}/report", timeout=60).text)


class TimedTransport(HttpTransport):
    """Twilio's side of a call over HTTP, keeping how long each webhook took to answer."""

    def __init__(self) -> None:
        # Waits longer than Twilio would, so a slow answer is measured, not cut off.
        super().__init__(timeout=120)
        self.seconds: list[tuple[str, float]] = []

    def post(self, url: str, params: Mapping[str, str], signature: str) -> str:
        started = time.monotonic()
        try:
            return super().post(url, params, signature)
        finally:
            self.seconds.append((url, time.monotonic() - started))


def place_timed_call(env: dict[str, str], cwd: Path) -> tuple[str, list[tuple[str, float]]]:
    """Call as ``ivr call --keys 1,1,1,1,#,1`` does; return what was heard and each wait."""
    config = Config.from_env(env, root=cwd)  # as the service reads it: the same dev token
    transport = TimedTransport()
    log = Phone(
        transport,
        EmulatorMedia(env["IVR_TWILIO_API_URL"], timeout=120),
        public_base=env["IVR_PUBLIC_URL"],
        account_sid=config.twilio_account_sid,
        auth_token=config.twilio_auth_token,
        keys=scripted_keys("1,1,1,1,#,1"),
        audio=(SAMPLES / "report-en.wav").read_bytes(),
        caller=PLANTED_NUMBER,
    ).call()
    assert log.ended
    return log.text(), transport.seconds


def place_call(env: dict[str, str], cwd: Path) -> tuple[str, float]:
    started = time.monotonic()
    done = ivr(["call", "--keys", "1,1,1,1,#,1", "--caller", PLANTED_NUMBER], env, cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout, time.monotonic() - started


def test_fifty_stalled_uploads_leave_the_webhooks_and_healthz_answering(tmp_path: Path) -> None:
    with hotline(tmp_path, *PATIENT) as (base, env), ExitStack() as held:
        # Given a call placed on a quiet service, for its normal time
        _, quiet = place_call(env, tmp_path)
        # And fifty uploads, each with a genuine form token, that send their headers (most
        # of them a few MB of a file too, held in the front's memory) and stall
        actions = [fresh_action(base) for _ in range(STALLED)]
        stalled = [
            held.enter_context(stall_upload(base, a, sent=HEAVY_BYTES if n < HEAVY else 0))
            for n, a in enumerate(actions)
        ]
        # And ten more connections that never finish their headers
        for _ in range(10):
            half = held.enter_context(connect(base))
            half.sendall(b"POST /report HTTP/1.1\r\nHost: x\r\nContent-Le")
            stalled.append(half)

        # When a caller reports, and the load balancer checks health, meanwhile
        heard, waits = place_timed_call(env, tmp_path)
        health = requests.get(f"{base}/healthz", timeout=60)

        # Then the call went its whole way, and every webhook answered before Twilio
        # would have given up on it and played the fallback
        assert "Thank you. Your report has been received." in heard
        slow = [(url, round(s, 1)) for url, s in waits if s >= TWILIO_WEBHOOK_SECONDS]
        assert slow == [], slow
        assert health.status_code == 200
        # And all the while every stalled upload is still open and waiting, unanswered
        assert all(still_waiting(sock) for sock in stalled)
        busy = sum(s for _, s in waits)
        print(f"call: {quiet:.1f} s quiet, {busy:.1f} s in webhooks with {len(stalled)} stalled")

    with sqlite3.connect(tmp_path / "var" / "ivr.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM reports WHERE source = 'online'").fetchone() == (0,)


def test_an_oversized_upload_and_a_bogus_token_are_refused_before_the_body(
    tmp_path: Path,
) -> None:
    with hotline(tmp_path, *PATIENT) as (base, _):
        # Given an upload that declares more than the form's five files of 10 MB could be
        oversized = stall_upload(base, fresh_action(base), length=60 * 1024 * 1024)
        # Then it is refused at once, without a byte of its body being waited for
        answer = oversized.recv(4096).decode()
        assert answer.startswith("HTTP/1.1 413"), answer
        assert "5 files of 10 MB" in oversized.recv(4096).decode() or "10 MB" in answer

        # Given an upload of 40 MB whose token is not one of ours, or is missing
        for action in ("/report?token=forged.token.here", "/report", "/report/cy?lang=cy"):
            bogus = stall_upload(base, action)
            # Then the form is shown again with a message, before the body is sent at all
            reply = receive_all(bogus)
            assert reply.startswith("HTTP/1.1 400"), reply[:200]
            assert 'id="form-error"' in reply
            assert re.search(r"not one of ours|o&#39;n rhai ni", reply)
            # And the server closes the connection rather than read what would follow
            assert "connection: close" in reply.lower()

        # Given a form post to a webhook far larger than any Twilio callback
        webhook = stall_upload(base, "/twilio/voice", length=1024 * 1024)
        assert webhook.recv(4096).decode().startswith("HTTP/1.1 413")


def test_a_connection_whose_headers_never_end_is_closed(tmp_path: Path) -> None:
    with hotline(tmp_path, "--header-timeout", "1") as (base, _):
        # Given a connection that starts its headers and never ends them
        half = connect(base)
        half.sendall(b"POST /report HTTP/1.1\r\nHost: x\r\n")
        # Then the server closes it (we wait as long as a busy machine needs)
        half.settimeout(120)
        assert half.recv(4096) == b""
        # While a complete request is still answered
        assert requests.get(f"{base}/healthz", timeout=60).status_code == 200


def receive_all(sock: socket.socket) -> str:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks).decode()
