"""The database goes away while people call: nobody notices, and nothing is lost.

The service runs as deployed on one machine (`ivr serve --with-worker`, PostgreSQL),
but reaches its database through a proxy the test cuts and restores. Ten people call
and record while it is cut; then it comes back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from tests.conftest import PLANTED_NUMBER, REPO, require_postgres
from tests.functional.proxy import tcp_proxy
from tests.functional.servers import (
    free_port,
    ivr,
    running_emulator,
    serving_with_worker,
    set_up_as_make_run,
)

pytestmark = pytest.mark.slow

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
CALLERS = 10
ENGLISH = ["call", "--keys", "1,1,2,1,#,1", "--caller", PLANTED_NUMBER]
WELSH_WITH_CONTACT = [
    "call",
    "--keys",
    "9,1,3,2,#,1,#",
    "--caller",
    PLANTED_NUMBER,
    "--audio",
    str(REPO / "ivr" / "samples" / "report-cy.wav"),
]
THANKS = ("Your report has been received.", "Rydym wedi derbyn eich adroddiad.")


@pytest.fixture
def schema() -> Iterator[str]:
    require_postgres()
    name = f"outage_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    try:
        yield name
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")


def eventually(
    condition: Callable[[], bool],
    seconds: float,
    what: str,
    state: Callable[[], object] = lambda: "",
) -> float:
    """Wait for ``condition``; return how long it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            pytest.fail(f"not within {seconds:.0f} s: {what} {state()}")
        time.sleep(0.25)
    return time.monotonic() - started


def test_callers_record_through_a_database_outage_and_nothing_is_lost(
    tmp_path: Path, schema: str
) -> None:
    with tcp_proxy(("127.0.0.1", 5432)) as database:
        # Given the service and its worker, reaching PostgreSQL through a proxy we can cut
        web, emulator = free_port(), free_port()
        spool = tmp_path / "spool"
        env = {
            "IVR_DATABASE_URL": (
                f"postgresql+psycopg://postgres@127.0.0.1:{database.port}/test"
                f"?connect_timeout=2&options=-csearch_path%3D{schema}"
            ),
            "IVR_BIND": f"127.0.0.1:{web}",
            "IVR_PUBLIC_URL": f"http://127.0.0.1:{web}",
            "IVR_TWILIO_API_URL": f"http://127.0.0.1:{emulator}",
            "IVR_FLOWS_DIR": str(REPO / "call_flows"),
            "IVR_STORAGE_URL": str(tmp_path / "recordings"),
            "IVR_SPOOL_DIR": str(spool),
            "IVR_WORKER_POLL_SECONDS": "0.2",
        }
        set_up_as_make_run(env, tmp_path)
        with (
            running_emulator(emulator, env, tmp_path),
            serving_with_worker(env, tmp_path, f"http://127.0.0.1:{web}"),
        ):
            eventually(lambda: healthy(web), 30, "the service is up on its database")
            # (each web process loads the published flow as it starts, then starts its worker)
            eventually(
                lambda: (tmp_path / "server.log").read_text().count("worker.started") == 2,
                30,
                "both web processes ready",
            )

            # When the database refuses connections
            database.cut()
            eventually(lambda: not healthy(web), 30, "the service sees its database gone")
            # And ten people call and record their reports meanwhile
            calls = place_calls(env, tmp_path)

            # Then every caller heard the whole journey and was thanked
            for call, journey in zip(calls, journeys(), strict=True):
                assert call.returncode == 0, call.stderr
                made = 2 if journey is WELSH_WITH_CONTACT else 1  # report, and contact details
                assert f"Recordings made: {made}" in call.stdout
                assert any(thanks in call.stdout for thanks in THANKS), call.stdout
                assert "not available right now" not in call.stdout  # not the fallback
            # And what they said waits at Twilio, what we were told waits in the spool
            assert len(twilio(emulator)["recordings"]) == 15
            assert (spool / "spool.jsonl").stat().st_size > 0
            assert PLANTED_NUMBER not in (spool / "spool.jsonl").read_text()

            # When the database comes back
            database.restore()
            # Then within a minute every report is queued, and Twilio holds nothing of theirs
            took = eventually(
                lambda: (
                    queued(schema) == CALLERS
                    and not twilio(emulator)["recordings"]
                    and len(twilio(emulator)["deleted_calls"]) == CALLERS
                ),
                60,
                "every report queued and every recording and call log erased at Twilio",
                lambda: (queued(schema), twilio(emulator)),
            )
            held = twilio(emulator)

        # Each report once, with its caller's choices and none of Twilio's references
        with psycopg.connect(ADMIN) as conn:
            conn.execute(f"SET search_path TO {schema}")
            assert conn.execute(
                "SELECT language, count(*), sum(contact_left::int) FROM reports "
                "WHERE status = 'queued' GROUP BY language ORDER BY language"
            ).fetchall() == [("cy-GB", 5, 5), ("en-GB", 5, 0)]
            assert conn.execute("SELECT count(*) FROM reports").fetchone() == (CALLERS,)
            assert conn.execute(
                "SELECT count(*) FROM recording_jobs "
                "WHERE recording_sid IS NOT NULL OR call_sid IS NOT NULL"
            ).fetchone() == (0,)
            dump = "\n".join(
                str(row)
                for (table,) in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (schema,),
                ).fetchall()
                # (table names from the catalogue, not from input)
                for row in conn.execute(f'SELECT * FROM "{table}"').fetchall()  # noqa: S608
            )
    # And no caller identifier or SID is left in the database, the spool or the logs
    sids = [*held["deleted_recordings"], *held["deleted_calls"]]
    assert len(sids) == 25
    logs = (tmp_path / "server.log").read_text()
    leftovers = "".join(path.read_text() for path in spool.iterdir() if path.is_file())
    for trace in [PLANTED_NUMBER, PLANTED_NUMBER.removeprefix("+"), *sids]:
        assert trace not in dump and trace not in logs and trace not in leftovers, trace
    print(f"recovered {took:.1f} s after the database came back")


def healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    except requests.RequestException:
        return False


def journeys() -> list[list[str]]:
    return [ENGLISH if n % 2 else WELSH_WITH_CONTACT for n in range(CALLERS)]


def place_calls(env: dict[str, str], cwd: Path) -> list[Any]:
    with ThreadPoolExecutor(max_workers=CALLERS) as pool:
        return list(pool.map(lambda args: ivr(args, env, cwd), journeys()))


def twilio(port: int) -> dict[str, list[str]]:
    state: dict[str, list[str]] = requests.get(
        f"http://127.0.0.1:{port}/_emulator/state", timeout=10
    ).json()
    return state


def queued(schema: str) -> int:
    with psycopg.connect(ADMIN) as conn:
        conn.execute(f"SET search_path TO {schema}")
        row = conn.execute("SELECT count(*) FROM reports WHERE status = 'queued'").fetchone()
    return int(row[0]) if row else 0
