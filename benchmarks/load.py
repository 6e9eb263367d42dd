"""Open-loop load on the edge as deployed: gunicorn, the edge tier, PostgreSQL.

Starts ``ivr serve --workers 2 --threads 4`` (as infra/services.yaml runs the edge) on
loopback, on PostgreSQL at 127.0.0.1:5432 (database ``test``, a fresh schema dropped
afterwards), and sends it whole calls, correctly signed, at a fixed rate whatever its
answers' pace (open loop): the menu steps, the recording's action and status callbacks,
and the final call status. A request's latency runs from the moment it was due, so a
server that falls behind is charged for the wait. Requests that would exceed the
in-flight bound are not sent and count as errors.

    .venv/bin/python -m benchmarks.load [--rate 300] [--seconds 60]
"""

from __future__ import annotations

import argparse
import http.client
import os
import queue
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from cryptography.hazmat.primitives.asymmetric import rsa
from twilio.request_validator import RequestValidator

from ivr.crypto.keys import public_pem

REPO = Path(__file__).resolve().parent.parent
IVR = str(Path(sys.executable).with_name("ivr"))
ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
TOKEN = "load-benchmark-token"
ACCOUNT = "AC" + "0" * 32
GOAL_P99_MS = 25.0
MAX_IN_FLIGHT = 200
CLIENT_THREADS = 48
# Calls in progress at once: each call's next request comes this many requests later.
LANES = 30
# English, report, "other", anonymous; record; send.
KEYS_BEFORE_RECORDING = ("1", "1", "6", "1")


@dataclass(frozen=True)
class Step:
    kind: str  # menu, recording, status
    path: str  # path and query, as the service gave it to Twilio
    fields: dict[str, str]
    expect: int = 200  # TwiML; status callbacks get 204


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, ms: float | None, reason: str = "") -> None:
        with self.lock:
            if ms is None:
                self.errors[kind] = self.errors.get(kind, 0) + 1
                self.reasons[reason] = self.reasons.get(reason, 0) + 1
            else:
                self.latencies.setdefault(kind, []).append(ms)


class Client:
    """One keep-alive connection, signing every request as Twilio does."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self._port = port
        self._validator = RequestValidator(TOKEN)
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        signature = self._validator.compute_signature(self.base + path, fields)
        body = urlencode(fields)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        }
        try:
            self._conn.request("POST", path, body=body, headers=headers)
            response = self._conn.getresponse()
            return response.status, response.read().decode()
        except (OSError, http.client.HTTPException):
            self._conn.close()  # reconnect on the next request
            self._conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=10)
            raise


def journey(client: Client) -> list[Step]:
    """Walk one call through the service, keeping each request as Twilio would send it."""
    call = {"AccountSid": ACCOUNT, "CallStatus": "in-progress", "From": "+447700900999"}
    steps = [Step("menu", "/twilio/voice", dict(call))]
    body = client.post("/twilio/voice", {**call, "CallSid": "CA" + "0" * 32})[1]
    for key in KEYS_BEFORE_RECORDING:
        path = _attribute(body, "Gather", "action")
        steps.append(Step("menu", path, {**call, "Digits": key}))
        body = client.post(path, {**call, "CallSid": "CA" + "0" * 32, "Digits": key})[1]
    action = _attribute(body, "Record", "action")
    status = _attribute(body, "Record", "recordingStatusCallback")
    recording = {"RecordingDuration": "42", "RecordingStatus": "completed"}
    steps.append(Step("recording", action, {**call, "Digits": "#", **recording}))
    steps.append(Step("recording", status, {"AccountSid": ACCOUNT, **recording}, 204))
    body = client.post(
        action, {**call, "CallSid": "CA" + "0" * 32, "RecordingSid": "RE" + "0" * 32, **recording}
    )[1]
    steps.append(Step("menu", _attribute(body, "Gather", "action"), {**call, "Digits": "1"}))
    steps.append(Step("status", "/twilio/status", {**call, "CallStatus": "completed"}, 204))
    return steps


def _attribute(twiml: str, verb: str, name: str) -> str:
    found = ET.fromstring(twiml).find(f".//{verb}")  # noqa: S314 - our own service's answer
    if found is None:
        raise RuntimeError(f"expected <{verb}> in {twiml}")
    url = found.get(name, "")
    return url[url.index("/twilio/") :]


@dataclass
class Lane:
    step: int
    call_sid: str = field(default_factory=lambda: "CA" + secrets.token_hex(16))
    recording_sid: str = field(default_factory=lambda: "RE" + secrets.token_hex(16))


def schedule(steps: list[Step], total: int) -> Iterator[tuple[Step, dict[str, str]]]:
    """Interleave LANES calls, each at a different step, so that the mix stays even.

    Lane ``i`` starts its first call at step ``i``; when a call ends, its lane starts a
    new one. Consecutive requests are thus of every kind in turn (as many calls at
    different points would send them), and one call's requests are LANES apart.
    """
    lanes = [Lane(i % len(steps)) for i in range(LANES)]
    for n in range(total):
        lane = lanes[n % LANES]
        step = steps[lane.step]
        fields = {**step.fields, "CallSid": lane.call_sid}
        if step.kind == "recording":
            fields["RecordingSid"] = lane.recording_sid
        yield step, fields
        lane.step += 1
        if lane.step == len(steps):
            lanes[n % LANES] = Lane(0)


def drive(port: int, steps: list[Step], rate: float, seconds: float) -> tuple[Results, float]:
    """Send ``rate`` requests a second for ``seconds``; return results and the send span."""
    results = Results()
    work: queue.Queue[tuple[float, Step, dict[str, str]] | None] = queue.Queue()
    in_flight = threading.Semaphore(MAX_IN_FLIGHT)

    def run() -> None:
        client = Client(port)
        while (item := work.get()) is not None:
            due, step, fields = item
            try:
                status, _ = client.post(step.path, fields)
                elapsed = (time.perf_counter() - due) * 1000
                results.record(
                    step.kind, elapsed if status == step.expect else None, f"HTTP {status}"
                )
            except Exception as error:
                results.record(step.kind, None, type(error).__name__)
            finally:
                in_flight.release()

    threads = [threading.Thread(target=run, daemon=True) for _ in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    total = int(rate * seconds)
    started = time.perf_counter()
    for n, (step, fields) in enumerate(schedule(steps, total)):
        due = started + n / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        if not in_flight.acquire(blocking=False):
            results.record(step.kind, None, f"over {MAX_IN_FLIGHT} in flight")
            continue
        work.put((due, step, fields))
    span = time.perf_counter() - started
    for _ in threads:
        work.put(None)
    for thread in threads:
        thread.join(timeout=30)
    return results, span


@contextmanager
def fresh_schema() -> Iterator[str]:
    name = f"load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its children (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


@contextmanager
def edge(database_url: str, folder: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """The edge tier's web processes, as deployed."""
    key = public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)).decode()
    env = {name: value for name, value in os.environ.items() if not name.startswith("IVR_")}
    env.update(
        IVR_TIER="edge",
        IVR_DATABASE_URL=database_url,
        IVR_PUBLIC_URL=f"http://127.0.0.1:{port}",
        IVR_BIND=f"127.0.0.1:{port}",
        IVR_TWILIO_ACCOUNT_SID=ACCOUNT,
        IVR_TWILIO_AUTH_TOKEN=TOKEN,
        IVR_SECRET_KEY=secrets.token_hex(32),
        IVR_RECORDINGS_PUBLIC_KEY=key,
        IVR_TWILIO_API_URL="http://127.0.0.1:9",  # nothing: this measures the webhooks
        IVR_FLOWS_DIR=str(REPO / "call_flows"),
        IVR_SPOOL_DIR=str(folder / "spool"),
        IVR_LOG_LEVEL="INFO",
    )
    migrated = subprocess.run(
        [IVR, "db", "upgrade"], env=env, cwd=folder, capture_output=True, text=True, check=False
    )
    if migrated.returncode:
        raise SystemExit(f"ivr db upgrade failed:\n{migrated.stderr}")
    with (folder / "edge.log").open("wb") as output:
        server = subprocess.Popen(
            [IVR, "serve", "--workers", "2", "--threads", "4"],
            env=env,
            cwd=folder,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(port, server)
            yield server
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("ivr serve exited; see its log")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("ivr serve did not come up within 60 s")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def report(results: Results, span: float, rate: float, seconds: float, cpu: float) -> None:
    kinds = ["menu", "recording", "status"]
    everything = [ms for kind in kinds for ms in results.latencies.get(kind, [])]
    errors = sum(results.errors.values())
    print(
        f"Open-loop load: {rate:.0f} requests/s for {seconds:.0f} s against the edge "
        "(ivr serve, gunicorn 2 workers x 4 threads, PostgreSQL), loopback\n"
    )
    print(f"{'kind':<10} {'answered':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind, timings in [*((k, results.latencies.get(k, [])) for k in kinds), ("all", everything)]:
        failed = errors if kind == "all" else results.errors.get(kind, 0)
        if timings:
            print(
                f"{kind:<10} {len(timings):>9} {failed:>7} {statistics.median(timings):>8.1f} "
                f"{percentile(timings, 99):>8.1f} {max(timings):>8.1f}"
            )
    sent = len(everything) + errors
    achieved = sent / span if span else 0.0
    print(f"\nachieved rate: {achieved:.1f} requests/s (asked {rate:.0f})")
    # What the service itself spent, whatever else the machine was doing meanwhile.
    print(
        f"service CPU: {cpu * 1000 / max(1, sent):.2f} ms per request "
        f"({cpu / span:.2f} of {os.cpu_count()} cores); "
        f"load average now {os.getloadavg()[0]:.1f}"
    )
    if results.reasons:
        print("errors: " + ", ".join(f"{n} x {why}" for why, n in results.reasons.items()))
    p99 = percentile(everything, 99) if everything else float("inf")
    met = p99 <= GOAL_P99_MS and errors == 0
    verdict = "met" if met else "MISSED"
    print(f"goal (p99 <= {GOAL_P99_MS:.0f} ms, 0 errors): {verdict} (p99 {p99:.1f} ms)")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=300.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to send")
    args = parser.parse_args()
    port = _free_port()
    with (
        tempfile.TemporaryDirectory() as folder,
        fresh_schema() as database_url,
        edge(database_url, Path(folder), port) as server,
    ):
        steps = journey(Client(port))
        # A few calls first: connections, caches and the flow in every process.
        drive(port, steps, rate=min(args.rate, 100.0), seconds=2.0)
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        cpu, own = cpu_seconds(server.pid), time.process_time()
        results, span = drive(port, steps, args.rate, args.seconds)
        cpu, own = cpu_seconds(server.pid) - cpu, time.process_time() - own
    report(results, span, args.rate, args.seconds, cpu)
    print(f"(this load generator itself used {own / span:.2f} cores)")


if __name__ == "__main__":
    main()
