"""The statistics page and its publication-safe CSV at national scale: ten years of counters.

Fills ``stat_counts`` with 120 months (up to this one) of counters for the 49 forces of
ivr/data/forces.txt and 10 categories, about 3 million events in all, spread as a
national service's would be: most reports by phone, some online, a few on the fallback
page; one in twenty in Welsh; big forces more than small ones; days to dissemination
skewed towards the first week. Each event gets only the facts ``ivr.stats.figures.RECORDS``
says it is counted with; identical combinations make one row with its count. Then, on
SQLite (a temporary file) and on PostgreSQL (a fresh schema, dropped afterwards), it
times, as the median of several runs after a warm-up:

- the page, GET /console/statistics through the console's own app and routes, signed in
  as a manager: the default last twelve months, the same filtered to one force, and ten
  years for the whole country, after the manager has landed on the default page a dozen
  times (on PostgreSQL, the queries are then prepared and planned once for any months,
  as they are on a connection the console has used for a while);
- the export, ``publish()`` and ``.csv()`` as ``ivr stats export`` runs them: one force
  over the last twelve months, and the whole country over the same months.

Goals: a page under 200 ms, an export under 1 s, on both databases.

    .venv/bin/python -m benchmarks.stats [--events 3000000] [--runs 5]
        [--postgresql postgresql://postgres@127.0.0.1:5432/test] [--skip-postgresql]
"""

from __future__ import annotations

import argparse
import math
import random
import re
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from ivr import models as tables  # noqa: F401 - every table, for create_all
from ivr.app import create_app
from ivr.config import Config
from ivr.crypto.keys import ensure_local_key_pair
from ivr.flows.loader import load_flow_file
from ivr.models.reports import Force
from ivr.models.staff import Role, User
from ivr.models.stats import NOT_TIMED, UNKNOWN, Channel, StatCount, StatEvent
from ivr.platform.db import Base, Database, utcnow
from ivr.reports.workflow import LANGUAGES
from ivr.services import services
from ivr.staff import accounts
from ivr.stats.export import publish
from ivr.stats.figures import RECORDS, Filters, Period
from ivr.stats.labels import Labels

REPO = Path(__file__).resolve().parent.parent
SERVER = "postgresql://postgres@127.0.0.1:5432/test"
PASSWORD = "correct horse battery"
PAGE_GOAL_MS = 200.0
EXPORT_GOAL_MS = 1000.0
ONE_FORCE = "Dorset Police"
# Default page loads on the connection before timing: the service's steady state.
LANDINGS = 12
SEED = 2026

# How often each event happens for every report received (a decade's mix).
EVENT_SHARES = {
    StatEvent.RECEIVED: 1.0,
    StatEvent.SUBMITTED: 0.92,
    StatEvent.RETURNED: 0.18,
    StatEvent.APPROVED: 0.88,
    StatEvent.DISSEMINATED: 0.85,
    StatEvent.DESTROYED_UNSENT: 0.04,
    StatEvent.FOLLOW_UP_ASKED: 0.22,
    StatEvent.FOLLOW_UP_ANSWERED: 0.12,
    StatEvent.CALL_WITHOUT_REPORT: 0.55,
}
CHANNELS = {Channel.PHONE.value: 55, Channel.ONLINE.value: 40, Channel.FALLBACK.value: 5}
LANGUAGE_SHARES = {"en-GB": 95, "cy-GB": 5}
# A report found at Twilio made no choice of anonymity: UNKNOWN.
ANONYMITY = {"anonymous": 60, "contact": 35, UNKNOWN: 5}
# Ten category keys: the call flow's own and, as ten years of flow versions would leave
# behind, a few it no longer offers (the page labels those by their key).
EXTRA_CATEGORIES = ("drugs_supply", "misuse_of_systems", "bullying", "theft_or_fraud")
# Days from receipt to the first dissemination: mostly within the week, a tail to 60.
DAYS = {day: math.exp(-day / 7) for day in range(61)}

Row = tuple[str, StatEvent, str, str, str, str, str, int, int]
COLUMNS = ("month", "event", "channel", "language", "category", "force", "anonymity", "days")


def forces() -> list[str]:
    lines = (REPO / "ivr" / "data" / "forces.txt").read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def draw(
    rng: random.Random, event: StatEvent, dimension: str, shares: Mapping[str, float], n: int
) -> list[str]:
    """``n`` values of one fact, by their shares; UNKNOWN if ``event`` is not counted by it."""
    if dimension not in RECORDS[event]:
        return [UNKNOWN] * n
    return rng.choices(list(shares), weights=list(shares.values()), k=n)


def generate(months: list[str], events: int, categories: list[str]) -> list[Row]:
    """The counters' rows, each combination once with how many times it happened."""
    rng = random.Random(SEED)
    real = [name for name in forces() if name != "Unknown"]
    assert len(real) == 49, len(real)
    shuffled = real[:]
    rng.shuffle(shuffled)
    # The biggest force takes about eight times the reports of the median one.
    force_weights = {name: 1 / (rank + 1) ** 0.8 for rank, name in enumerate(shuffled)}
    category_weights = {key: 1 / (rank + 1) ** 0.7 for rank, key in enumerate(categories)}
    # The service grows from 60% to 140% of its mean volume, with a season and noise.
    volume = [
        (0.6 + 0.8 * i / max(1, len(months) - 1))
        * (1 + 0.1 * math.sin(2 * math.pi * i / 12))
        * rng.uniform(0.9, 1.1)
        for i in range(len(months))
    ]
    weights = {
        (i, event): volume[i] * share
        for i in range(len(months))
        for event, share in EVENT_SHARES.items()
    }
    whole = sum(weights.values())
    rows: list[Row] = []
    for (i, event), weight in weights.items():
        n = round(events * weight / whole)
        if n == 0:
            continue
        channels = draw(rng, event, "channel", CHANNELS, n)
        if event is StatEvent.CALL_WITHOUT_REPORT:
            channels = [Channel.PHONE.value] * n  # only calls end at the menu
        combos = Counter(
            zip(
                channels,
                draw(rng, event, "language", LANGUAGE_SHARES, n),
                draw(rng, event, "category", category_weights, n),
                draw(rng, event, "force", force_weights, n),
                draw(rng, event, "anonymity", ANONYMITY, n),
                (
                    rng.choices(list(DAYS), weights=list(DAYS.values()), k=n)
                    if event is StatEvent.DISSEMINATED
                    else [NOT_TIMED] * n
                ),
                strict=True,
            )
        )
        rows.extend((months[i], event, *combo, total) for combo, total in combos.items())
    rows.sort(key=lambda row: (row[0], row[1].value, *row[2:7], row[7]))
    return rows


def fill(db: Database, rows: list[Row]) -> None:
    Base.metadata.create_all(db.engine)
    with db.transaction() as session:
        session.add_all(Force(name=name) for name in forces())
    batch = 20_000
    with db.engine.begin() as connection:
        for start in range(0, len(rows), batch):
            connection.execute(
                insert(StatCount),
                [
                    dict(zip((*COLUMNS, "count"), row, strict=True))
                    for row in rows[start : start + batch]
                ],
            )
    if db.engine.dialect.name == "postgresql":
        # What autovacuum would have done long before: planner statistics, visibility map.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE stat_counts")


def build(folder: Path, url: str) -> tuple[Config, Database]:
    """The console as sign_in.py builds it: its own keys, local stand-ins for Twilio."""
    keys = folder / "keys"
    keys.mkdir()
    ensure_local_key_pair(keys)
    config = Config(
        database_url=url,
        public_url="https://hotline.example.org",
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token="benchmark-auth-token",  # noqa: S106 - a local stand-in, no secret
        secret_key=b"k" * 32,
        console_secret_key=b"c" * 32,
        twilio_api_url="http://127.0.0.1:9",
        flows_dir=REPO / "call_flows",
        storage_url=str(folder / "recordings"),
        keys_dir=keys,
        spool_dir=folder / "spool",
        log_level="WARNING",
        audit_key=b"a" * 32,
    )
    return config, Database.from_url(config.database_url, audit_key=config.audit_chain_key)


def signed_in_manager(app: Flask, db: Database) -> FlaskClient:
    """A client signed in through the real routes as a newly enrolled manager."""
    with db.transaction() as session:
        enrolment = accounts.add_user(session, "bench-manager", Role.MANAGER, "benchmark")
        user = session.get(User, enrolment.user_id)
        assert user is not None and user.totp_secret is not None
        totp = pyotp.TOTP(user.totp_secret)
        accounts.complete_enrolment(session, enrolment.token, PASSWORD, PASSWORD, totp.now())
    client = app.test_client()
    page = client.get("/console/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    # The next step's code: the enrolment used this one.
    step = totp.timecode(datetime.now(UTC)) + 1
    response = client.post(
        "/console/sign-in",
        data={
            "csrf_token": token.group(1),
            "name": "bench-manager",
            "password": PASSWORD,
            "code": totp.generate_otp(step),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    return client


def median_ms(action: Callable[[], object], runs: int) -> float:
    action()  # warm-up: the connection, the flow, the templates, the database's caches
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def page(client: FlaskClient, query: str) -> Callable[[], object]:
    def get() -> None:
        response = client.get(f"/console/statistics?{query}")
        text = response.get_data(as_text=True)
        assert response.status_code == 200, response.status_code
        assert 'class="flash' not in text and "is not one the figures know" not in text, query
        assert 'id="summary"' in text

    return get


def export(
    db: Database, period: Period, filters: Filters, threshold: int, labels: Labels
) -> Callable[[], object]:
    def run() -> None:
        with db.reading() as session:
            publication = publish(session, period, filters, threshold)
        text = publication.csv(labels)
        assert text.count("\n") > 100, text[:500]

    return run


def measure(
    name: str, url: str, rows: list[Row], runs: int, year: Period, decade: Period
) -> list[tuple[str, str, float, float]]:
    with tempfile.TemporaryDirectory() as folder:
        config, db = build(Path(folder), url)
        started = time.perf_counter()
        fill(db, rows)
        print(f"{name}: filled in {time.perf_counter() - started:.0f} s", flush=True)
        app = create_app(config, db=db)
        client = signed_in_manager(app, db)
        with app.app_context():
            labels = Labels(services().flows.current().flow.categories, LANGUAGES)
        threshold = config.stats_threshold
        force = f"force={ONE_FORCE.replace(' ', '+')}"
        cases = [
            (f"page: {year.label()}, national (default)", PAGE_GOAL_MS, page(client, "")),
            (f"page: {year.label()}, {ONE_FORCE}", PAGE_GOAL_MS, page(client, force)),
            (
                f"page: {decade.label()}, national",
                PAGE_GOAL_MS,
                page(client, f"from={decade.first}&to={decade.last}"),
            ),
            (
                f"export: {year.label()}, {ONE_FORCE}",
                EXPORT_GOAL_MS,
                export(db, year, Filters(force=ONE_FORCE), threshold, labels),
            ),
            (
                f"export: {year.label()}, national",
                EXPORT_GOAL_MS,
                export(db, year, Filters(), threshold, labels),
            ),
        ]
        # A manager lands on the default page; the console's pooled connection has served
        # it many times before anyone asks for ten years. On PostgreSQL that matters:
        # psycopg prepares a statement run five times, and PostgreSQL then plans it once
        # for any months (a generic plan), as it will in service.
        for _ in range(LANDINGS):
            cases[0][2]()
        results = []
        for what, goal, action in cases:
            results.append((name, what, median_ms(action, runs), goal))
        db.engine.dispose()
    return results


@contextmanager
def fresh_schema(server: str) -> Iterator[str]:
    """A schema of our own on ``server``, dropped afterwards; yields the app's URL for it."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        app = make_url(server).set(drivername="postgresql+psycopg")
        app = app.update_query_dict({"options": f"-csearch_path={schema}"})
        yield app.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3_000_000, help="summed over all counters")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each, after a warm-up")
    parser.add_argument("--postgresql", default=SERVER, help="server and database to use")
    parser.add_argument("--skip-postgresql", action="store_true")
    args = parser.parse_args()

    year = Period.year_to(utcnow().date())  # what the page shows by default
    back = int(year.last[:4]) * 12 + int(year.last[5:]) - 1 - (Period.LONGEST - 1)
    decade = Period(f"{back // 12:04d}-{back % 12 + 1:02d}", year.last)
    flow = load_flow_file(REPO / "call_flows" / "hotline.yaml").flow
    categories = [*flow.categories, *EXTRA_CATEGORIES]
    started = time.perf_counter()
    rows = generate(decade.months(), args.events, categories)
    events = sum(row[-1] for row in rows)
    print(
        f"Generated {len(rows):,} counter rows holding {events:,} events: {len(decade.months())} "
        f"months ({decade.label()}), 49 forces, {len(categories)} categories, "
        f"{len(StatEvent)} events ({time.perf_counter() - started:.0f} s)",
        flush=True,
    )

    results = []
    with tempfile.TemporaryDirectory() as folder:
        sqlite_url = f"sqlite:///{Path(folder) / 'stats.db'}"
        results += measure("SQLite", sqlite_url, rows, args.runs, year, decade)
    if not args.skip_postgresql:
        with fresh_schema(args.postgresql) as url:
            results += measure("PostgreSQL", url, rows, args.runs, year, decade)

    print(
        f"\nStatistics at national scale, median of {args.runs} runs after a warm-up (goals: "
        f"page < {PAGE_GOAL_MS:.0f} ms: GET /console/statistics as a manager, after "
        f"{LANDINGS} loads of the default page; export "
        f"publish() + csv() < {EXPORT_GOAL_MS:.0f} ms)\n"
    )
    width = max(len(what) for _, what, _, _ in results)
    print(f"{'database':<11} {'what':<{width}} {'median ms':>10} {'goal ms':>8} {'met':>6}")
    for name, what, ms, goal in results:
        met = "yes" if ms < goal else "MISSED"
        print(f"{name:<11} {what:<{width}} {ms:>10.1f} {goal:>8.0f} {met:>6}")


if __name__ == "__main__":
    main()
