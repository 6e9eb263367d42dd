"""Cost of ingesting a recording: fetch, clean, encrypt, store, verify, erase, queue.

For 1-, 10- and 60-minute phone recordings (8 kHz, 16-bit mono, like Twilio's), one job
runs through the real pipeline: media over HTTP from the Twilio emulator, pydub, the
envelope, the local store with fsync, read-back verification, the DELETEs. Next to it,
the floor: reading, AES-GCM encrypting and writing the same bytes, measured in the same
run. Peak memory is Python's allocation peak during the job (tracemalloc, second pass);
the emulator runs in a process of its own, as Twilio is not part of ours.

    .venv/bin/python -m benchmarks.ingest [--minutes 1 10 60]
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

import requests
from pydub import AudioSegment

from ivr.crypto import envelope
from ivr.crypto.keys import LocalKeyWrapper, ensure_local_key_pair
from ivr.dev.phone import EmulatorMedia
from ivr.outside.storage import LocalStore
from ivr.outside.twilio_api import TwilioRest
from ivr.platform.db import Base, Database
from ivr.telephony.jobs import JobQueue, RetryPolicy
from ivr.worker.ingest import Ingester
from ivr.worker.reconcile import reconcile

REPO = Path(__file__).resolve().parent.parent
ACCOUNT, TOKEN = "AC" + "b" * 32, "benchmark-token"
GOALS = "goals: 10 min under 2 s; within 3x the floor; peak memory under 3x the decoded audio"


def recording(minutes: int) -> bytes:
    """A spoken report repeated, with pauses, to ``minutes`` long."""
    speech = AudioSegment.from_wav(REPO / "ivr" / "samples" / "report-en.wav")
    unit = speech + AudioSegment.silent(1300, frame_rate=speech.frame_rate)
    target = minutes * 60_000
    audio = unit * (target // len(unit) + 1)
    out = io.BytesIO()
    audio[:target].export(out, format="wav")
    return out.getvalue()


class EmulatorProcess:
    """The Twilio emulator in a process of its own, as Twilio is: not counted as ours."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> EmulatorProcess:
        env = {
            **os.environ,
            "IVR_TWILIO_ACCOUNT_SID": ACCOUNT,
            "IVR_TWILIO_AUTH_TOKEN": TOKEN,
            "IVR_SECRET_KEY": "s" * 32,
        }
        ivr = str(Path(sys.executable).with_name("ivr"))
        self._process = subprocess.Popen(
            [ivr, "twilio-emulator", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                requests.get(f"{self.url}/_emulator/state", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("the emulator did not start")

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.wait()


def one_job(
    folder: Path, emulator: EmulatorProcess, wav: bytes, traced: bool
) -> tuple[float, float, int]:
    """Run one ingest job; return (wall seconds, CPU seconds, peak bytes allocated)."""
    db = Database.from_url(f"sqlite:///{folder / 'bench.sqlite3'}")
    Base.metadata.create_all(db.engine)
    ensure_local_key_pair(folder / "keys")
    twilio = TwilioRest(emulator.url, ACCOUNT, TOKEN)
    EmulatorMedia(emulator.url).store("CA" + os.urandom(16).hex(), wav)
    reconcile(db, twilio, b"s" * 32, timedelta(0))
    queue = JobQueue(db, timedelta(minutes=5), RetryPolicy())
    ingester = Ingester(
        db,
        queue,
        twilio,
        LocalStore(folder / "recordings"),
        LocalKeyWrapper((folder / "keys" / "recordings-public.pem").read_bytes()),
    )
    job_id = queue.claim("bench")
    assert job_id is not None
    if traced:
        tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    ingester.run(job_id, "bench")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = 0
    if traced:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    db.engine.dispose()
    return wall, cpu, peak


def floor(folder: Path, wav: bytes) -> float:
    """Read the bytes from disk, AES-GCM encrypt them in chunks, write and fsync them."""
    source, target = folder / "floor-in.wav", folder / "floor-out.bin"
    source.write_bytes(wav)
    started = time.perf_counter()
    data = source.read_bytes()
    with target.open("wb") as handle:
        for sealed in envelope.encrypt(os.urandom(32), [data], fingerprint=bytes(8)):
            handle.write(sealed)
        handle.flush()
        os.fsync(handle.fileno())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=int, nargs="+", default=[1, 10, 60])
    args = parser.parse_args()
    rows = []
    with EmulatorProcess() as emulator:
        for minutes in args.minutes:
            wav = recording(minutes)
            decoded = len(wav) - 44
            with tempfile.TemporaryDirectory() as timed, tempfile.TemporaryDirectory() as traced:
                wall, cpu, _ = one_job(Path(timed), emulator, wav, traced=False)
                _, _, peak = one_job(Path(traced), emulator, wav, traced=True)
                bottom = floor(Path(timed), wav)
            rows.append((minutes, wall, cpu, peak, decoded, bottom))
    print(f"Ingest of one recording, full pipeline ({GOALS})\n")
    print(
        f"{'audio':>6} {'wall s':>7} {'cpu s':>7} {'x real':>7} {'floor s':>8} {'x floor':>8} "
        f"{'peak MB':>8} {'audio MB':>9} {'x audio':>8}"
    )
    for minutes, wall, cpu, peak, decoded, bottom in rows:
        print(
            f"{minutes:>4}min {wall:>7.2f} {cpu:>7.2f} {minutes * 60 / wall:>6.0f}x {bottom:>8.3f} "
            f"{wall / bottom:>7.1f}x {peak / 1e6:>8.1f} {decoded / 1e6:>9.1f} {peak / decoded:>7.2f}x"
        )


if __name__ == "__main__":
    main()
