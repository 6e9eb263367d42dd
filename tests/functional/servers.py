"""Start the service's own processes on loopback ports for functional tests, and stop them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

IVR = str(Path(sys.executable).with_name("ivr"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# A busy two-core CI machine can take many times longer than a laptop to start a server.
START_SECONDS = 120.0


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], seconds: float = START_SECONDS
) -> None:
    """Wait until ``url`` answers below 500, for as long as the process lives.

    Any failure to answer (refused, reset, a read timeout while the process imports and
    migrates) or a 5xx while it starts means "not yet", until the deadline.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {process.returncode}")
        try:
            if requests.get(url, timeout=10).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {seconds:.0f} s")


@contextmanager
def running(
    args: list[str], env: dict[str, str], cwd: Path, ready_url: str, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(
            [IVR, *args],
            env={**os.environ, **env},
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            # Its own process group: gunicorn's workers can be killed with their master.
            start_new_session=True,
        )
        try:
            wait_until_up(ready_url, process)
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    kill_group(process)
            kill_group(process)  # any worker its master left behind


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """``kill -9`` the process and everything it started (e.g. gunicorn and its workers)."""
    with contextlib.suppress(ProcessLookupError):  # already gone, every one of them
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def ivr(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [IVR, *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def set_up_as_make_run(env: dict[str, str], cwd: Path) -> None:
    """Migrate the database and make the key pair, as ``make run`` does before serving."""
    for command in (["db", "upgrade"], ["keys", "init"]):
        done = ivr(command, env, cwd)
        assert done.returncode == 0, done.stderr


def serving_with_worker(env: dict[str, str], cwd: Path, base: str, log: str = "server.log") -> Any:
    """``ivr serve --with-worker`` as ``make run`` starts it, logging to ``cwd/log``."""
    return running(
        ["serve", "--workers", "2", "--with-worker"], env, cwd, f"{base}/healthz", cwd / log
    )


def running_emulator(port: int, env: dict[str, str], cwd: Path) -> Any:
    """The Twilio emulator as its own process, as ``make run`` starts it."""
    return running(
        ["twilio-emulator", "--port", str(port)],
        env,
        cwd,
        f"http://127.0.0.1:{port}/_emulator/state",
        cwd / "emulator.log",
    )
