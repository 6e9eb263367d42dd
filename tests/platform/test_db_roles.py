"""Each tier signs in to PostgreSQL as its own role, which can do its work and no more.

The edge (webhooks, worker, online form, follow-up by phone) runs here as the edge's
real login: a whole call through ingest, an online report and a follow-up call succeed,
while reading a transcript, an online report's text, a user or the audit trail, and
writing the trail, are refused by the database itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, event, make_url, select, text
from sqlalchemy.exc import DBAPIError

from ivr.app import create_app
from ivr.cli import main
from ivr.cli.runtime import Runtime
from ivr.config import Config, Tier
from ivr.crypto.keys import PUBLIC_KEY_FILE
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.followup import PhoneEvent
from ivr.models.reports import Report, ReportSource
from ivr.models.staff import Role, User
from ivr.online import online_state
from ivr.platform import db_roles, migrate
from ivr.platform.db import Base, Database, make_engine, utcnow
from ivr.reports import followup, online, workflow
from ivr.services import Services, key_wrapper, object_store
from ivr.staff import audit
from ivr.worker.runner import build_worker
from tests.conftest import EmulatorCaller
from tests.followup.test_followup_console import spoken_reference
from tests.online.helpers import form_action, form_fields
from tests.staff.test_audit import KEY
from tests.worker.conftest import settle

EDGE_LOGIN, CONSOLE_LOGIN = "ivr_test_edge", "ivr_test_console"
INSUFFICIENT_PRIVILEGE = "42501"


def test_every_table_is_given_to_each_tier_on_purpose() -> None:
    assert set(db_roles.GRANTS) == set(Base.metadata.tables)
    for name, grants in db_roles.GRANTS.items():
        columns = {column.name for column in Base.metadata.tables[name].columns}
        for access in (grants.edge, grants.console):
            assert access.columns() - {"*"} <= columns, name


def test_the_edge_may_not_read_what_people_wrote() -> None:
    reports = db_roles.GRANTS["reports"].edge
    text_columns = {"transcript", "contact_transcript", "people", "what", "when_text"}
    text_columns |= {"where_text", "review_comment", "force", "handler_category"}
    assert not text_columns & {*reports.select, *reports.update}
    # It may name the handler's columns in an INSERT (the ORM sets them to NULL), no more
    assert not {name for name in text_columns if name in reports.insert} - {
        "force",
        "handler_category",
    }
    for table in ("users", "audit_events", "audit_head", "review_messages", "disseminations"):
        assert db_roles.GRANTS[table].edge == db_roles.NOTHING, table


@dataclass(frozen=True)
class Tiers:
    owner: Engine
    edge_url: str
    console_url: str
    schema: str


@pytest.fixture
def tiers(postgres_url: str) -> Iterator[Tiers]:
    """The schema built by the migrations as the owner, then each tier's login made."""
    migrate.upgrade(postgres_url)
    owner = make_engine(postgres_url)
    logins = [
        db_roles.Login(EDGE_LOGIN, "edge", "edge-password-for-tests"),
        db_roles.Login(CONSOLE_LOGIN, "console", "console-password-for-tests"),
    ]
    with owner.begin() as connection:
        schema = str(connection.exec_driver_sql("SELECT current_schema()").scalar_one())
        db_roles.apply(connection, schema, logins)
    url = make_url(postgres_url)

    def as_login(name: str) -> str:
        return url.set(username=name).render_as_string(hide_password=False)

    try:
        yield Tiers(owner, as_login(EDGE_LOGIN), as_login(CONSOLE_LOGIN), schema)
    finally:
        owner.dispose()


def refused(url: str, statement: str) -> bool:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    except DBAPIError as error:
        return getattr(error.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE
    finally:
        engine.dispose()
    return False


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT transcript FROM reports",
        "SELECT what, people, where_text, contact_transcript FROM reports",  # an online report's
        "SELECT force FROM reports",
        "SELECT * FROM reports",
        "UPDATE reports SET transcript = 'planted'",
        "SELECT totp_secret FROM users",
        "SELECT * FROM audit_events",
        "SELECT * FROM audit_head",
        "SELECT * FROM review_messages",
        "SELECT * FROM disseminations",
        "SELECT * FROM phone_events",  # the edge adds to its queue and reads nothing back
        "INSERT INTO audit_events (at, actor, action, detail) VALUES (now(), 'h', 'claim', '')",
        "DELETE FROM phone_events",
        "UPDATE phone_events SET action = 'followup_answered'",
        "UPDATE audit_head SET legacy_through = 1000",
        "UPDATE day_keys SET key = 'planted'",  # it would make a day's recordings unreadable
        "CREATE TABLE planted (x int)",
    ],
)
@pytest.mark.postgresql
def test_the_edge_role_is_refused(tiers: Tiers, statement: str) -> None:
    assert refused(tiers.edge_url, statement)


@pytest.mark.postgresql
def test_the_console_role_may_not_move_the_legacy_mark_or_choose_an_event_id(
    tiers: Tiers,
) -> None:
    assert refused(tiers.console_url, "UPDATE audit_head SET legacy_through = 1000")
    assert refused(
        tiers.console_url,
        "INSERT INTO audit_events (id, at, actor, action, detail) VALUES (7, now(), 'h', 'x', '')",
    )


@pytest.mark.postgresql
def test_the_console_may_rewrite_the_day_keys_whole(tiers: Tiers) -> None:
    engine = make_engine(tiers.console_url)
    owner = "(SELECT relowner FROM pg_class WHERE oid = 'day_keys'::regclass)"
    try:
        with engine.connect() as connection:
            held = f"SELECT pg_has_role(current_user, {owner}, 'USAGE')"
            assert connection.execute(text(held)).scalar() is True
    finally:
        engine.dispose()
    assert refused(tiers.edge_url, "ALTER TABLE day_keys ADD COLUMN planted int")


@pytest.mark.postgresql
def test_each_tier_may_see_which_revision_the_schema_is_at(tiers: Tiers) -> None:
    for url in (tiers.edge_url, tiers.console_url):
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        finally:
            engine.dispose()


def edge_config(config: Config, tmp_path: Path, url: str) -> Config:
    keys = tmp_path / "edge-keys"
    keys.mkdir(exist_ok=True)
    (keys / PUBLIC_KEY_FILE).write_bytes((config.keys_dir / PUBLIC_KEY_FILE).read_bytes())
    return dataclasses.replace(
        config, tier=Tier.EDGE, console_secret_key=b"", keys_dir=keys, database_url=url
    )


def console_config(config: Config, url: str) -> Config:
    return dataclasses.replace(
        config, tier=Tier.CONSOLE, secret_key=b"", twilio_auth_token="", database_url=url
    )


@pytest.mark.postgresql
def test_the_edge_does_its_work_as_its_own_role_and_the_console_as_its_own(
    tiers: Tiers,
    ingest_config: Config,
    emulator: RunningEmulator,
    tmp_path: Path,
) -> None:
    if not ingest_config.database_url.startswith("postgresql"):
        pytest.skip("the tiers' roles are PostgreSQL's")
    edge = edge_config(ingest_config, tmp_path, tiers.edge_url)
    edge_db = Database.from_url(edge.database_url)
    console = console_config(ingest_config, tiers.console_url)
    console_services = Services(console)
    console_db = console_services.db
    try:
        # The console publishes the flow (the edge may not: publishing is audited)
        console_services.flows.current()
        app = create_app(edge, db=edge_db)
        worker = build_worker(Services(edge, db=edge_db))
        caller = EmulatorCaller(app, emulator)
        # A caller reports and takes a follow-up reference; the edge's worker ingests it
        first = caller.call("1,1,1,1,#,1,1,2,4826#,4826#")
        reference = spoken_reference(" ".join(said for _, said in first.heard))
        settle(worker, edge_db)
        # Someone sends a report through the online form, with a PIN
        receipt = online.receive(
            edge_db,
            object_store(edge),
            key_wrapper(edge),
            online.OnlineSubmission(
                language="en-GB", category=None, answers={"what": "Jane Planted"}, pin="123456"
            ),
        )
        assert receipt.follow_up_reference is not None
        # And through the form itself: its proof is spent, once, in the edge's own table
        page = app.test_client().get("/report").get_data(as_text=True)
        solved = {"category": "other", "anonymity": "anonymous", "what": "Jane Planted"}
        solved |= form_fields(page)
        sent = app.test_client().post(form_action(page), data=solved)
        assert sent.status_code == 200
        assert app.test_client().post(form_action(page), data=solved).status_code == 400
        assert online_state(app).guard.purge_spent() == 0
        # The console, as its own role, takes the call's report, writes it up, asks a question
        with console_db.transaction() as session:
            supervisor = User(name="sam", role=Role.SUPERVISOR, failed_sign_ins=0, session_epoch=0)
            session.add(supervisor)
        phoned = workflow.claim_next(console_db, supervisor)
        assert phoned is not None
        with console_db.transaction() as session:
            report = session.scalars(select(Report).where(Report.reference == phoned)).one()
            if report.source is ReportSource.ONLINE:  # oldest first: either may come first
                phoned = workflow.claim_next(console_db, supervisor)
                report = session.scalars(select(Report).where(Report.reference == phoned)).one()
            workflow.save(session, report, supervisor, {"transcript": "Jane Planted said"})
            followup.ask(session, report, supervisor, "Which station was it?")
        # The caller calls back, keys reference and PIN, hears the question and answers
        second = caller.call(f"1,4,{reference}#,4826#,#")
        assert "Which station was it?" in " ".join(said for _, said in second.heard)
        settle(worker, edge_db)
        # Then the answer is back with the asker, by the day, and the console seals its events
        with console_db.reading() as session:
            answered = session.scalars(select(Report).where(Report.reference == phoned)).one()
            assert answered.claimed_by == supervisor.id
            assert isinstance(answered.claimed_through, date)
            assert answered.transcript == "Jane Planted said"
            assert session.scalars(select(PhoneEvent)).all() != []
        tomorrow = utcnow().date() + timedelta(days=1)
        assert audit.move_phone_events(console_db, console.audit_chain_key, tomorrow) > 0
        assert console_services.audit_trail.verify().ok
    finally:
        edge_db.engine.dispose()
        console_db.engine.dispose()


@pytest.mark.postgresql
def test_an_event_written_without_the_console_key_is_never_sealed(tiers: Tiers) -> None:
    console = Database.from_url(
        make_url(tiers.console_url).render_as_string(hide_password=False), audit_key=KEY
    )
    try:
        with console.transaction() as session:
            audit.record(session, "sam", "claim", "R-AAAA-BBBB")
        # Someone who holds a database login but not the key writes an event
        with tiers.owner.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO audit_events (at, actor, action, detail)"
                    " VALUES (now(), 'sam', 'approve', '')"
                )
            )
        assert audit.seal(console, KEY) == 1
        verdict = audit.verify(console, KEY)
        assert not verdict.ok and verdict.reason == audit.FORGED
    finally:
        console.engine.dispose()


@pytest.mark.postgresql
def test_ivr_db_roles_makes_the_logins_and_can_run_again(
    tiers: Tiers, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IVR_EDGE_DB_PASSWORD", "another-edge-password")
    owner_url = tiers.owner.url.render_as_string(hide_password=False)
    runtime = Runtime(dataclasses.replace(config, database_url=owner_url))
    args = ["db", "roles", "--edge-login", EDGE_LOGIN]
    sent: list[str] = []

    def capture(
        _conn: object, _cursor: object, statement: str, parameters: object, *_: object
    ) -> None:
        sent.append(f"{statement} {parameters}")

    event.listen(Engine, "before_cursor_execute", capture)
    try:
        for _ in range(2):
            result = CliRunner().invoke(main, args, obj=runtime)
            assert result.exit_code == 0, result.output
            assert f"{EDGE_LOGIN} (edge)" in result.output
    finally:
        event.remove(Engine, "before_cursor_execute", capture)
    # Only the password's SCRAM verifier reaches the server, never the password itself
    assert any("SCRAM-SHA-256$" in line for line in sent)
    assert not any("another-edge-password" in line for line in sent)
    assert refused(tiers.edge_url, "SELECT transcript FROM reports")
    monkeypatch.delenv("IVR_EDGE_DB_PASSWORD")
    result = CliRunner().invoke(main, args, obj=runtime)
    assert result.exit_code != 0 and "IVR_EDGE_DB_PASSWORD" in result.output


def test_ivr_db_roles_does_nothing_on_sqlite(config: Config, tmp_path: Path) -> None:
    runtime = Runtime(dataclasses.replace(config, database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    result = CliRunner().invoke(main, ["db", "roles"], obj=runtime)
    assert result.exit_code == 0 and "Nothing to do" in result.output
