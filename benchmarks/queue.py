"""Claim latency with 100,000 queued reports and 50 concurrent claimers, on PostgreSQL.

Each claimer is a handler pressing "Take next" in a loop, through the same function the
console uses (claim, audit event, commit), on its own connection. Meanwhile the console's
sealer chains the new audit events every second, as it does in service. Prints p50 and
p99 latency and the number of reports claimed twice (must be 0). Goals: p99 under 10 ms
at handlers' pace, at least 500 claims/s at saturation. Two rows, measured in the same
run: claimers claiming back to back (the service at saturation), and the same claimers
pausing about a second between claims, as handlers do. Then the whole chain is checked.

    # run as a module: a script here named queue.py would shadow the standard library
    .venv/bin/python -m benchmarks.queue [--reports 100000] [--claimers 50] [--claims 40]
        [--processes 5]
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import threading
import time
import uuid
from collections import Counter
from datetime import date
from typing import Any

import psycopg
from sqlalchemy import insert, select

from ivr.models.reports import Report, ReportSource, ReportStatus, new_reference
from ivr.models.staff import Role, User
from ivr.platform.db import Base, Database
from ivr.reports.workflow import claim_next
from ivr.staff import audit

SERVER = "postgresql://postgres@127.0.0.1:5432/test"
AUDIT_KEY = b"benchmark audit key, 32 bytes long"


def fresh_schema() -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return (
        schema,
        f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}",
    )


def fill(db: Database, reports: int, claimers: int) -> list[User]:
    Base.metadata.create_all(db.engine)
    with db.transaction() as session:
        session.add_all(
            User(
                name=f"handler-{i}",
                role=Role.HANDLER,
                failed_sign_ins=0,
                session_epoch=0,
                active=True,
            )
            for i in range(claimers)
        )
    batch = 10_000
    with db.engine.begin() as connection:
        for start in range(0, reports, batch):
            connection.execute(
                insert(Report),
                [
                    {
                        "id": str(uuid.uuid4()),
                        "reference": new_reference(),
                        "received_on": date(2026, 11, 1),
                        "source": ReportSource.MENU,
                        "status": ReportStatus.QUEUED,
                        "queue_position": i,
                        "transcript": "",
                        "contact_transcript": "",
                        "people": "",
                        "what": "",
                        "when_text": "",
                        "where_text": "",
                        "review_comment": "",
                        "contact_left": False,
                        "has_audio": True,
                        "silent": False,
                        "sanitised": False,
                        "audio_purged": False,
                    }
                    for i in range(start, min(start + batch, reports))
                ],
            )
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    with db.transaction() as session:
        return list(session.scalars(select(User)))


def run_claimers(
    url: str, users: list[User], claims: int, pause: float, processes: int
) -> tuple[list[float], list[str], float]:
    """All claimers start together; each claims ``claims`` times, pausing about ``pause`` s.

    The claimers are spread over ``processes`` processes, as the console's requests are
    over its server's worker processes: in one process, 50 threads queue for Python's
    interpreter lock (about 1.7 ms of Python per claim), not for the database.
    """
    context = multiprocessing.get_context("fork")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    groups = [users[i::processes] for i in range(processes)]
    workers = [
        context.Process(
            target=claim_in_process, args=(url, group, claims, pause, ready, go, results)
        )
        for group in groups
        if group
    ]
    for worker in workers:
        worker.start()
    for _ in users:
        ready.get()
    done = threading.Event()
    sealer = threading.Thread(target=seal_every_second, args=(url, done))
    sealer.start()
    wall = time.perf_counter()
    go.set()
    latencies: list[float] = []
    claimed: list[str] = []
    for _ in workers:
        took, got = results.get()
        latencies += took
        claimed += got
    wall = time.perf_counter() - wall
    for worker in workers:
        worker.join()
    done.set()
    sealer.join()
    return latencies, claimed, wall


def claim_in_process(
    url: str,
    users: list[User],
    claims: int,
    pause: float,
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    """One worker process: a thread per claimer, each on its own connection."""
    latencies: list[float] = []
    claimed: list[str] = []
    lock = threading.Lock()

    def claimer(user: User) -> None:
        db = Database.from_url(url)
        claim_next(db, user, 30)  # warm the connection
        ready.put(1)
        go.wait()
        for _ in range(claims):
            if pause:
                time.sleep(random.uniform(0, 2 * pause))
            begun = time.perf_counter()
            report = claim_next(db, user, 30)
            took = (time.perf_counter() - begun) * 1000
            with lock:
                latencies.append(took)
                if report is not None:
                    claimed.append(report)
        db.engine.dispose()

    threads = [threading.Thread(target=claimer, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((latencies, claimed))


def seal_every_second(url: str, done: threading.Event) -> None:
    """The console's sealer: it alone locks the chain's head, never a claimer."""
    db = Database.from_url(url)
    while not done.wait(1.0):
        audit.seal(db, AUDIT_KEY)
    db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--claimers", type=int, default=50)
    parser.add_argument("--claims", type=int, default=40, help="claims per claimer")
    parser.add_argument(
        "--processes", type=int, default=5, help="worker processes the claimers share"
    )
    args = parser.parse_args()
    schema, url = fresh_schema()
    try:
        started = time.perf_counter()
        users = fill(Database.from_url(url), args.reports, args.claimers)
        filled = time.perf_counter() - started
        print(
            f"Claim latency on PostgreSQL: {args.reports:,} queued reports, {args.claimers} concurrent "
            f"claimers in {args.processes} process(es) (filled in {filled:.0f} s; goals: p99 < 10 ms "
            "at handlers' pace, >= 500 claims/s at saturation, 0 doubles)\n"
        )
        print(
            f"{'claimers':<34} {'claims':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'claims/s':>9} {'doubles':>8}"
        )
        claimed: list[str] = []
        for label, pause in (
            ("back to back (saturation)", 0.0),
            ("pausing ~1 s between claims", 1.0),
        ):
            latencies, got, wall = run_claimers(url, users, args.claims, pause, args.processes)
            claimed += got
            doubles = sum(count - 1 for count in Counter(claimed).values() if count > 1)
            cuts = statistics.quantiles(latencies, n=100)
            print(
                f"{label:<34} {len(latencies):>7} {cuts[49]:>8.1f} {cuts[98]:>8.1f} {max(latencies):>8.1f} "
                f"{len(latencies) / wall:>9.0f} {doubles:>8}"
            )
        db = Database.from_url(url)
        sealed = audit.seal(db, AUDIT_KEY)
        verdict = audit.verify(db, AUDIT_KEY)
        print(
            f"\naudit chain: {verdict.events:,} events, intact: {verdict.ok} "
            f"({sealed} left for the final seal)"
        )
        db.engine.dispose()
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
