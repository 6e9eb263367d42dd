"""Each tier's PostgreSQL role: what the edge and the console may do to each table.

The migrations run as the owner. The edge (webhooks, ingest worker) and the console each
sign in as their own login, a member of a group role made here, and may do only what
``GRANTS`` says: the edge may not read a report's text, a user, the audit trail or the
review thread, nor write the audit trail (a follow-up call queues its events in
``phone_events`` instead). Every table is named, so a new table is a decision, not an
accident (a test checks the models against this map). ``apply`` makes PostgreSQL match
it, revoking whatever else either group held; run again, it changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

EDGE_GROUP = "ivr_edge"
CONSOLE_GROUP = "ivr_console"
Tier = Literal["edge", "console"]
GROUPS: Mapping[Tier, str] = {"edge": EDGE_GROUP, "console": CONSOLE_GROUP}

# Columns: ALL, none (()), or the names.
ALL: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class Access:
    """What one group may do to one table (column lists where the table is split)."""

    select: tuple[str, ...] = ()
    insert: tuple[str, ...] = ()
    update: tuple[str, ...] = ()
    delete: bool = False

    def statements(self, table: str, group: str) -> list[str]:
        found = []
        for privilege, columns in (
            ("SELECT", self.select),
            ("INSERT", self.insert),
            ("UPDATE", self.update),
        ):
            if columns == ALL:
                found.append(f'GRANT {privilege} ON TABLE "{table}" TO {group}')
            elif columns:
                listed = ", ".join(f'"{name}"' for name in columns)
                found.append(f'GRANT {privilege} ({listed}) ON TABLE "{table}" TO {group}')
        if self.delete:
            found.append(f'GRANT DELETE ON TABLE "{table}" TO {group}')
        return found

    @property
    def inserts(self) -> bool:
        return bool(self.insert)

    def columns(self) -> set[str]:
        return {name for names in (self.select, self.insert, self.update) for name in names}


NOTHING = Access()
EVERYTHING = Access(select=ALL, insert=ALL, update=ALL, delete=True)
READ = Access(select=ALL)

# What the edge reads of a report: never what people wrote (its text, the force, the
# category a handler chose), which the console alone reads.
REPORT_FACTS = (
    "id",
    "reference",
    "received_on",
    "source",
    "status",
    "language",
    "category",
    "anonymity",
    "contact_left",
    "has_audio",
    "duration_seconds",
    "silent",
    "queue_position",
    "claimed_by",
    "claimed_through",
    "submitted_by",
    "urgency",
    "sanitised",
    "disseminated_on",
    "last_active_on",
    "audio_purged",
)
# What the edge writes of a report: made by a call or the form, queued, a follow-up's hold.
# (The ORM names every column without a server default, as NULL if unset: so too the
# handler's columns, which the edge may set to nothing but never read.)
REPORT_EDGE_INSERT = (*REPORT_FACTS, "force", "handler_category")
REPORT_EDGE_UPDATE = (
    "status",
    "language",
    "category",
    "anonymity",
    "contact_left",
    "has_audio",
    "duration_seconds",
    "silent",
    "queue_position",
    "claimed_by",
    "claimed_through",
    "last_active_on",
)


@dataclass(frozen=True)
class TableGrants:
    edge: Access = NOTHING
    console: Access = EVERYTHING


GRANTS: Mapping[str, TableGrants] = {
    # Calls in flight and the jobs that fetch and store their recordings: the edge's own.
    "call_sessions": TableGrants(edge=EVERYTHING, console=NOTHING),
    # (the console reads the queues' states for /metrics)
    "recording_jobs": TableGrants(edge=EVERYTHING),
    "call_log_erasures": TableGrants(edge=EVERYTHING, console=READ),
    # Since when the edge's workers have waited for a service that is down (/metrics).
    "service_outages": TableGrants(edge=EVERYTHING, console=READ),
    # The edge worker deletes the object of a take the caller replaced, or one that failed
    # its check (it may delete the stored object itself too).
    "audio_objects": TableGrants(edge=EVERYTHING),
    "online_objects": TableGrants(edge=Access(select=ALL, insert=ALL)),
    # The online form's spent tokens: the edge spends one (INSERT), gives it back if its
    # report was not stored, and purges the expired (DELETE). The console needs none.
    "online_tokens_spent": TableGrants(
        edge=Access(select=ALL, insert=ALL, delete=True), console=NOTHING
    ),
    # The edge makes a day's key and marks it stale when it deletes an object of that day;
    # it may never replace a key (that would make the day's recordings unreadable).
    "day_keys": TableGrants(edge=Access(select=ALL, insert=ALL, update=("stale",))),
    "reports": TableGrants(
        edge=Access(select=REPORT_FACTS, insert=REPORT_EDGE_INSERT, update=REPORT_EDGE_UPDATE),
        console=Access(select=ALL, insert=ALL, update=ALL),
    ),
    # The anonymous follow-up by phone: the reference's digest and PIN hash, the question
    # the caller hears, their answer; and the queue of its audit events (add only).
    "followups": TableGrants(edge=Access(select=ALL, insert=ALL, update=ALL)),
    "followup_questions": TableGrants(edge=Access(select=ALL, update=("answered_on",))),
    "followup_answers": TableGrants(edge=Access(select=ALL, insert=ALL, update=ALL)),
    "followup_failures": TableGrants(edge=EVERYTHING),
    "phone_events": TableGrants(edge=Access(insert=("id", "on", "action"))),
    # What callers hear: the edge reads it, the console's ops team changes it.
    "flow_versions": TableGrants(edge=READ),
    "prompt_audio": TableGrants(edge=READ),
    "prompt_drafts": TableGrants(edge=NOTHING),
    "announcements": TableGrants(edge=READ),
    "flow_events": TableGrants(),
    # The console's alone: staff, the trail, the review thread, forces and disseminations.
    "users": TableGrants(),
    "audit_events": TableGrants(
        console=Access(
            select=ALL,
            # Never the id: the events before tags existed keep theirs (``legacy_through``).
            insert=("at", "actor", "action", "report_reference", "detail", "seq", "hash", "tag"),
            update=("seq", "hash"),
        )
    ),
    # The console may not move the mark of the events written before tags existed.
    "audit_head": TableGrants(
        console=Access(
            select=ALL, insert=("id", "last_seq", "last_hash"), update=("last_seq", "last_hash")
        )
    ),
    "review_messages": TableGrants(),
    "disseminations": TableGrants(),
    # The service's figures: the edge counts what it sees happen (a report queued, an
    # answer stored, a call that ended without one) and, to add one, reads the counter.
    "stat_counts": TableGrants(
        edge=Access(select=ALL, insert=ALL, update=("count",)),
        console=Access(select=ALL, insert=ALL, update=("count",)),
    ),
    # The online form lists the forces' names (never their units' addresses).
    "forces": TableGrants(
        edge=Access(select=("name",)), console=Access(select=ALL, insert=ALL, update=ALL)
    ),
}


@dataclass(frozen=True)
class Login:
    """A tier's sign-in: a LOGIN role in its tier's group, with its password."""

    name: str
    tier: Tier
    password: str = field(repr=False)


def statements(schema: str, tables: Iterable[str]) -> list[str]:
    """The SQL that makes both groups' privileges on ``schema`` exactly ``GRANTS``."""
    groups = ", ".join(GROUPS.values())
    found = [
        f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {groups}',
        f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "{schema}" FROM {groups}',
        f'REVOKE ALL ON SCHEMA "{schema}" FROM {groups}',
        # Nobody but the owner makes objects here (PUBLIC may, on PostgreSQL before 15).
        f'REVOKE CREATE ON SCHEMA "{schema}" FROM PUBLIC',
        f'GRANT USAGE ON SCHEMA "{schema}" TO {groups}',
    ]
    for table in tables:
        grants = GRANTS[table]
        for tier, group in GROUPS.items():
            access = grants.edge if tier == "edge" else grants.console
            found += access.statements(table, group)
    return found


def _scram_verifier(connection: Connection, login: Login) -> str:
    """Hash the login's password here, as libpq does for psql's \\password.

    The server then receives only the SCRAM-SHA-256 verifier, never the password, so a
    statement log (log_statement = ddl or all) holds nothing that signs in.
    """
    raw = connection.connection.dbapi_connection
    pgconn = getattr(raw, "pgconn", None)
    if pgconn is None:
        raise RuntimeError("ivr db roles needs PostgreSQL through psycopg")
    verifier: bytes = pgconn.encrypt_password(
        login.password.encode(), login.name.encode(), b"scram-sha-256"
    )
    return verifier.decode()


def apply(connection: Connection, schema: str, logins: Iterable[Login] = ()) -> None:
    """Make the groups (and logins) and give them exactly ``GRANTS`` on ``schema``'s tables.

    Run by the migration owner, in one transaction; running it again changes nothing.
    Concurrent runs take turns (roles are the whole server's, not one database's).
    """
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('ivr.platform.db_roles'))"))
    for group in GROUPS.values():
        _ensure_role(connection, group, "NOLOGIN")
    for login in logins:
        _ensure_role(connection, login.name, "LOGIN")
        verifier = connection.execute(
            text("SELECT quote_literal(:verifier)"),
            {"verifier": _scram_verifier(connection, login)},
        ).scalar_one()
        # As the driver's own SQL: the verifier's colons are not bind parameters.
        connection.exec_driver_sql(f'ALTER ROLE "{login.name}" LOGIN PASSWORD {verifier}')
        for tier, group in GROUPS.items():
            verb = "GRANT" if tier == login.tier else "REVOKE"
            link = "TO" if verb == "GRANT" else "FROM"
            connection.execute(text(f'{verb} {group} {link} "{login.name}"'))
    tables = _tables(connection, schema)
    migrated = "alembic_version" in tables
    tables = [table for table in tables if table != "alembic_version"]
    unknown = sorted(set(tables) - set(GRANTS))
    if unknown:
        raise ValueError(f"no grants are declared for {', '.join(unknown)} (ivr.platform.db_roles)")
    for statement in statements(schema, tables):
        connection.execute(text(statement))
    if migrated:  # `ivr doctor` on either tier checks the schema's revision
        groups = ", ".join(GROUPS.values())
        connection.execute(text(f'GRANT SELECT ON "{schema}".alembic_version TO {groups}'))
    if "day_keys" in tables:
        # Retention rewrites the day keys whole (VACUUM FULL), so that a replaced key leaves
        # no dead row; PostgreSQL lets only the owner do that, so the console's group owns
        # this table (the migration owner, a member, still migrates it).
        connection.execute(text(f"GRANT {CONSOLE_GROUP} TO CURRENT_USER"))
        connection.execute(text(f'ALTER TABLE "{schema}".day_keys OWNER TO {CONSOLE_GROUP}'))
    for table in tables:
        for tier, group in GROUPS.items():
            access = GRANTS[table].edge if tier == "edge" else GRANTS[table].console
            if access.inserts:
                _grant_sequences(connection, schema, table, group)


def _tables(connection: Connection, schema: str) -> list[str]:
    rows = connection.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = :schema ORDER BY tablename"),
        {"schema": schema},
    )
    return [str(name) for name in rows.scalars()]


def _grant_sequences(connection: Connection, schema: str, table: str, group: str) -> None:
    """Let ``group`` draw ids for its inserts: only the sequences of tables it adds to."""
    sequences = connection.execute(
        text(
            "SELECT pg_get_serial_sequence(quote_ident(:schema) || '.' || quote_ident(:table),"
            " column_name) FROM information_schema.columns"
            " WHERE table_schema = :schema AND table_name = :table"
        ),
        {"schema": schema, "table": table},
    ).scalars()
    for sequence in sequences:
        if sequence is not None:
            connection.execute(text(f"GRANT USAGE ON SEQUENCE {sequence} TO {group}"))


def _ensure_role(connection: Connection, name: str, kind: str) -> None:
    """Create the role unless it exists; another process may be creating it at once."""
    exists = connection.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": name}
    ).scalar()
    if exists:
        return
    savepoint = connection.begin_nested()
    try:
        connection.execute(text(f'CREATE ROLE "{name}" {kind}'))
    except DBAPIError as error:
        savepoint.rollback()
        # duplicate_object (42710), or unique_violation (23505) on pg_authid in a race
        if getattr(error.orig, "sqlstate", None) not in {"42710", "23505"}:
            raise
    else:
        savepoint.commit()
