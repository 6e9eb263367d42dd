"""Deleted references do not linger in SQLite's files, even while someone is reading."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from ivr.platform.db import Database

MARKER = "CA" + "5e" * 16  # shaped like a CallSid


@pytest.fixture
def database(tmp_path: Path) -> Database:
    db = Database.from_url(f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    with db.transaction() as session:
        session.execute(text("CREATE TABLE refs (sid TEXT)"))
        session.execute(text("INSERT INTO refs VALUES (:sid)"), {"sid": MARKER})
    assert db.scrub()
    return db


def on_disk(tmp_path: Path) -> bytes:
    return b"".join(path.read_bytes() for path in tmp_path.glob("ivr.sqlite3*"))


def test_a_scrub_blocked_by_a_reader_says_so_and_succeeds_once_it_goes(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a reader holding a snapshot from before the reference was dropped
    reader = sqlite3.connect(
        tmp_path / "ivr.sqlite3", isolation_level=None, check_same_thread=False
    )
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM refs").fetchone() == (1,)
    with database.transaction() as session:
        session.execute(text("DELETE FROM refs"))
    # When the scrub runs while the reader is still there
    assert database.scrub(wait_seconds=0.1) is False
    # Then it says it could not finish, and the dropped reference is still in the log
    assert "db.scrub_incomplete" in caplog.text
    assert MARKER.encode() in on_disk(tmp_path)
    # And once the reader finishes, within the time the scrub waits, it succeeds
    releaser = threading.Timer(0.3, lambda: reader.execute("COMMIT"))
    releaser.start()
    assert database.scrub(wait_seconds=30)
    releaser.join()
    reader.close()
    assert MARKER.encode() not in on_disk(tmp_path)
