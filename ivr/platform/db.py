"""Engine, sessions and the shared column types every model uses."""

from __future__ import annotations

import enum
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    DateTime,
    Engine,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    create_engine,
    event,
    inspect,
    make_url,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import (
    DeclarativeBase,
    Load,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import JSON, TypeDecorator

from ivr.platform.logs import event as log_event
from ivr.platform.private_files import open_private, private_folder

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_SECONDS = 30
PG_CONNECT_TIMEOUT_SECONDS = 5

# Named constraints make migrations reproducible across SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def string_enum(cls: type[enum.Enum], length: int = 32) -> Enum:
    """Store an enum by value, as a plain string column with a named check."""
    return Enum(
        cls,
        name=cls.__name__.lower(),
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
        length=length,
    )


# The deferred group of what people wrote in a report (``ivr.models.reports.Report``): only the
# console's database role may read those columns (``ivr.platform.db_roles``).
REPORT_TEXT = "report_text"
# Where a session finds the key that tags the audit events it writes (``ivr.staff.audit``).
AUDIT_KEY_INFO = "ivr.audit_key"

# JSON on SQLite, JSONB on PostgreSQL.
JSONDict = JSON().with_variant(postgresql.JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}  # noqa: RUF012 - SQLAlchemy's own API


# A sealed object's own columns come after those of the table's kind of part, where the
# migrations put them: SQLAlchemy would otherwise place a mixin's columns last.
AFTER_SEALED = 2


class SealedObject:
    """The row that keeps one object sealed in the store: its name, checksum and key.

    A recording (``models.AudioObject``) and an online report's part
    (``ivr.models.online.OnlineObject``) are sealed and opened alike, by ``ivr.crypto.vault``.
    The wrapped key is sealed under its day's key (``ivr.models.keys.DayKey``): retention
    deletes the row and replaces that key, so no copy of the row can open the object.
    """

    id: Mapped[str] = mapped_column(
        String(36), primary_key=True, default=lambda: str(uuid.uuid4()), sort_order=-1
    )
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True, sort_order=-1)
    object_name: Mapped[str] = mapped_column(String(64), unique=True, sort_order=1)
    size: Mapped[int] = mapped_column(Integer, sort_order=1)
    sha256: Mapped[str] = mapped_column(String(64), sort_order=1)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary, sort_order=1)
    key_ref: Mapped[str] = mapped_column(String(200), sort_order=1)
    chunk_size: Mapped[int] = mapped_column(Integer, sort_order=1)

    @property
    def key_part(self) -> str:
        """Return the part its data key is bound to (``crypto.keys.object_context``)."""
        raise NotImplementedError


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine tuned for the backend: WAL and a busy timeout on SQLite."""
    if url.startswith("sqlite"):
        _create_private_database_file(url)
        connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
        if url in {"sqlite://", "sqlite:///:memory:"}:
            kwargs.setdefault("poolclass", StaticPool)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if "connect_timeout" not in url:
        # An unreachable host that drops packets would hold a webhook for minutes (the
        # OS's default); Twilio gives up after 15 s. Fail fast: the edge spools instead.
        kwargs.setdefault("connect_args", {"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS})
    return create_engine(url, **kwargs)


def _with_report_text(state: ORMExecuteState) -> None:
    # One query loads a report whole on the console, as if the text were not deferred.
    if not state.is_select:
        return
    options = [
        Load(entity).undefer_group(REPORT_TEXT)
        for entity in _entities(state.statement)
        if any(prop.group == REPORT_TEXT for prop in inspect(entity).column_attrs)
    ]
    if options:
        state.statement = state.statement.options(*options)


def _entities(statement: Any) -> list[Any]:
    descriptions = getattr(statement, "column_descriptions", ())
    return [
        found["entity"]
        for found in descriptions
        if found.get("entity") is not None and found.get("expr") is found.get("entity")
    ]


def _create_private_database_file(url: str) -> None:
    """Create a SQLite file 0600 before SQLite does (its WAL and shm files follow its mode)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists():
        private_folder(path.parent)
        os.close(open_private(path))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite would begin a transaction only at the first write, so a read meant to lock
    # (SELECT ... FOR UPDATE, which SQLite ignores) would run outside it; we begin ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Zero deleted content, so a dropped Twilio reference does not linger in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock as each transaction starts: SQLite then serialises transactions,
    # which is what row locks give on PostgreSQL (call state, claims, the audit chain).
    # Reads through Database.reading() take no lock, so they can run beside a writer.
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The engine and a session factory, handed to whoever needs the database.

    The console's is given the audit key: its sessions tag the audit events they write
    and load a report's text with the report. Without it (the edge), a report is loaded
    without its text, which the edge's database role may not read.
    """

    def __init__(self, engine: Engine, *, audit_key: bytes | None = None) -> None:
        self.engine = engine
        self.audit_key: bytes | None = None
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        if audit_key:
            self.hold_audit_key(audit_key)

    def hold_audit_key(self, key: bytes) -> None:
        """Make this the console's database: its sessions tag audit events and read text."""
        if self.audit_key is None:
            self.sessions.configure(info={AUDIT_KEY_INFO: key})
            event.listen(self.sessions, "do_orm_execute", _with_report_text)
        elif self.audit_key != key:
            raise ValueError("this database already holds another audit key")
        self.audit_key = key

    @classmethod
    def from_url(cls, url: str, *, audit_key: bytes | None = None) -> Database:
        return cls(make_engine(url), audit_key=audit_key)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Yield a session inside one transaction, committed on success."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """Yield a session for reads only: no transaction, no lock (safe inside another)."""
        autocommit = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with autocommit as connection, self.sessions(bind=connection) as session:
            yield session

    def scrub(self, wait_seconds: float = 10.0) -> bool:
        """Make deleted data unrecoverable from the database's own files, where we can.

        SQLite keeps old page images in its write-ahead log until a checkpoint; truncating
        it after references are dropped means they do not outlive the rows. A reader that
        still holds an old snapshot blocks the truncation: the checkpoint waits for it up
        to ``wait_seconds``, and if it is still there the scrub is reported as incomplete
        (logged, and False returned) so that it is tried again, never silently skipped.
        (PostgreSQL reclaims dead rows by autovacuum; its disks are encrypted in production.)
        """
        if self.engine.dialect.name != "sqlite":
            return True
        # Outside any transaction (a checkpoint cannot run inside one).
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {max(0, int(wait_seconds * 1000))}")
            busy, _, _ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        finally:
            raw.close()
        if busy:
            log_event(logger, "db.scrub_incomplete", logging.WARNING, why="a reader held the log")
        return not busy

    def is_reachable(self) -> bool:
        try:
            with self.reading() as session:
                session.execute(text("SELECT 1"))
        except Exception:
            return False
        return True
