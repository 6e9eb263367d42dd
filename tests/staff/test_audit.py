"""The audit chain: keyed, sealed without slowing writers, anchored outside the database.

The two attacks of an insider who holds the database (an admin or a DBA) but not the
console's audit key: rewriting an event and recomputing every later hash, and removing
the newest events and moving the head back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import stat
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, text

from ivr.cli import main
from ivr.cli.runtime import Runtime
from ivr.config import Config, ConfigError
from ivr.models.audit import AuditEvent, AuditHead
from ivr.outside.anchors import Anchor, FileAnchors, S3Anchors
from ivr.platform import migrate
from ivr.platform.db import Database, make_engine
from ivr.staff import audit

KEY = b"a" * 32
Recompute = Callable[[str, AuditEvent], str]


def write(db: Database, count: int, actor: str = "handler-one") -> None:
    with db.transaction() as session:
        for index in range(count):
            audit.record(session, actor, "view", f"R-AAAA-{index:04d}")


def body(event: AuditEvent) -> str:
    fields = [event.seq, event.id, event.at.isoformat(), event.actor, event.action]
    return json.dumps([*fields, event.report_reference, event.detail], separators=(",", ":"))


def plain_sha256(previous: str, event: AuditEvent) -> str:
    return hashlib.sha256((previous + body(event)).encode()).hexdigest()


def wrong_key(previous: str, event: AuditEvent) -> str:
    return hmac.new(b"w" * 32, (previous + body(event)).encode(), hashlib.sha256).hexdigest()


def rewrite_and_recompute(db: Database, seq: int, recompute: Recompute) -> None:
    """What an insider with the database can do: change an event, then fix every hash."""
    with db.transaction() as session:
        chain = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        previous = audit.GENESIS
        for event in chain:
            if event.seq == seq:
                event.detail = "nothing to see"
            event.hash = recompute(previous, event)
            previous = event.hash
        head = session.get(AuditHead, 1)
        assert head is not None
        head.last_hash = previous


def remove_newest(db: Database, keep: int) -> None:
    """Delete every event after place ``keep`` and move the head back to it."""
    with db.transaction() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq > keep))
        kept = session.scalars(select(AuditEvent).where(AuditEvent.seq == keep)).one()
        head = session.get(AuditHead, 1)
        assert head is not None and kept.hash is not None
        head.last_seq, head.last_hash = keep, kept.hash


def test_a_fresh_chain_verifies_once_sealed(db: Database) -> None:
    write(db, 5)
    assert audit.seal(db, KEY) == 5
    verdict = audit.verify(db, KEY)
    assert verdict.ok and verdict.events == 5
    assert verdict.checkpoint is not None and verdict.checkpoint.seq == 5
    assert audit.seal(db, KEY) == 0  # nothing waits


def test_writing_an_event_takes_no_lock_on_the_head(db: Database) -> None:
    write(db, 1)
    audit.seal(db, KEY)
    with db.reading() as session:
        before = session.get(AuditHead, 1)
        assert before is not None
        seen = (before.last_seq, before.last_hash)
    write(db, 3)  # writers only insert: the head is the sealer's alone
    with db.reading() as session:
        after = session.get(AuditHead, 1)
        assert after is not None and (after.last_seq, after.last_hash) == seen
        waiting = session.scalars(select(AuditEvent).where(AuditEvent.seq.is_(None))).all()
        assert len(waiting) == 3 and all(event.hash is None for event in waiting)


def test_an_event_committed_late_takes_the_next_place_and_breaks_nothing(db: Database) -> None:
    # Event 50 commits after event 100 was sealed, as a slow transaction would on PostgreSQL
    for event_id in (100, 50):
        with db.transaction() as session:
            late = audit.tagged_event(KEY, datetime.now(UTC), "h", "claim")
            late.id = event_id
            session.add(late)
        audit.seal(db, KEY)
    verdict = audit.verify(db, KEY)
    assert verdict.ok and verdict.events == 2
    with db.reading() as session:
        assert session.scalar(select(AuditEvent.seq).where(AuditEvent.id == 50)) == 2


@pytest.mark.parametrize("recompute", [plain_sha256, wrong_key], ids=["sha256", "wrong-key"])
def test_a_rewritten_event_with_the_chain_recomputed_without_the_key_is_caught(
    db: Database, recompute: Recompute
) -> None:
    write(db, 5)
    audit.seal(db, KEY)
    rewrite_and_recompute(db, 3, recompute)
    broken = audit.verify(db, KEY)
    assert not broken.ok and broken.reason == audit.CHANGED
    with db.reading() as session:
        first = session.scalar(select(AuditEvent.id).where(AuditEvent.seq == 1))
    assert broken.first_bad == first  # the attacker recomputed event 1 too: it fails first


def test_removing_the_newest_events_and_moving_the_head_back_is_caught_by_an_anchor(
    db: Database, tmp_path: Path
) -> None:
    anchors = FileAnchors(tmp_path / "anchors.jsonl")
    trail = audit.AuditTrail(db, KEY, anchors, timedelta(minutes=10))
    write(db, 5)
    assert trail.anchor() == anchors.read()[-1] and anchors.read()[-1].seq == 5
    remove_newest(db, keep=3)
    # The database alone now looks whole: the anchor outside it is what tells
    assert audit.verify(db, KEY).ok
    broken = trail.verify()
    assert not broken.ok and "names event 5" in broken.reason and "ends at 3" in broken.reason


def test_removing_events_and_resealing_past_the_anchor_is_caught_too(
    db: Database, tmp_path: Path
) -> None:
    anchors = FileAnchors(tmp_path / "anchors.jsonl")
    trail = audit.AuditTrail(db, KEY, anchors, timedelta(minutes=10))
    write(db, 5)
    trail.anchor()
    remove_newest(db, keep=3)
    write(db, 4)  # new events take places 4 to 7: place 5 now holds another event
    broken = trail.verify()
    assert not broken.ok and "differs from the anchor" in broken.reason


def test_removing_an_event_in_the_middle_is_caught(db: Database) -> None:
    write(db, 5)
    audit.seal(db, KEY)
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    broken = audit.verify(db, KEY)
    assert (broken.ok, broken.reason) == (False, audit.MISSING)


def test_the_anchor_file_is_private_appended_and_names_no_report(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "audit" / "anchors.jsonl"
    trail = audit.AuditTrail(db, KEY, FileAnchors(path), timedelta(minutes=10))
    write(db, 2)
    trail.anchor()
    trail.anchor()  # the head has not moved: nothing new to write
    write(db, 1)
    trail.anchor()
    lines = path.read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [2, 3]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(json.loads(lines[0])) == {"seq", "hash", "at"}
    assert "R-AAAA" not in path.read_text()
    assert json.loads(lines[0])["at"].endswith("Z") and len(json.loads(lines[0])["at"]) == 17


def test_anchors_are_written_only_when_due(db: Database, tmp_path: Path) -> None:
    anchors = FileAnchors(tmp_path / "anchors.jsonl")
    trail = audit.AuditTrail(db, KEY, anchors, timedelta(minutes=10))
    write(db, 1)
    trail.anchor_if_due()
    write(db, 1)
    trail.anchor_if_due()  # within ten minutes of the last: not yet
    assert [anchor.seq for anchor in anchors.read()] == [1]


def test_ivr_audit_verify_and_anchor_from_the_command_line(
    config: Config, db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "anchors.jsonl"
    runtime = Runtime(dataclasses.replace(config, audit_key=KEY, audit_anchor=str(path)))
    write(db, 4)

    def run(*args: str) -> Any:
        return CliRunner().invoke(main, ["audit", *args], obj=runtime)

    anchored = run("anchor")
    assert anchored.exit_code == 0 and "Anchored event 4." in anchored.output
    intact = run("verify")
    assert intact.exit_code == 0, intact.output
    assert "chain of 4 events is intact, checked against its anchors" in intact.output
    remove_newest(db, keep=2)
    broken = run("verify")
    assert broken.exit_code == 1
    assert "the audit chain is broken: the newest events were removed" in broken.output
    assert "names event 4, and the chain now ends at 2" in broken.output


def test_ivr_audit_verify_reports_a_rewrite(config: Config, db: Database) -> None:
    write(db, 3)
    runtime = Runtime(config)
    assert CliRunner().invoke(main, ["audit", "verify"], obj=runtime).exit_code == 0
    rewrite_and_recompute(db, 2, wrong_key)
    broken = CliRunner().invoke(main, ["audit", "verify"], obj=runtime)
    assert broken.exit_code == 1 and "the audit chain is broken at event" in broken.output
    assert "changed after it was sealed" in broken.output


def test_anchors_in_s3_survive_a_delete_under_object_lock(aws_endpoint: str, db: Database) -> None:
    s3 = boto3.client("s3", region_name="eu-west-2", endpoint_url=aws_endpoint)
    bucket = f"anchors-{id(db)}"
    s3.create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": "eu-west-2"},
        ObjectLockEnabledForBucket=True,
    )
    opened = S3Anchors.from_url(s3, f"s3://{bucket}/audit/?mode=governance&days=1")
    assert isinstance(opened, S3Anchors)
    trail = audit.AuditTrail(db, KEY, opened, timedelta(minutes=10))
    write(db, 3)
    trail.anchor()
    # Someone with the bucket's keys hides the anchor, then cannot destroy it
    s3.delete_object(Bucket=bucket, Key="audit/000000000003.json")
    version = s3.list_object_versions(Bucket=bucket, Prefix="audit/")["Versions"][0]
    with pytest.raises(s3.exceptions.ClientError):
        s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
    assert [anchor.seq for anchor in opened.read()] == [3]
    remove_newest(db, keep=1)
    assert "names event 3" in trail.verify().reason


def test_the_audit_key_belongs_to_the_console() -> None:
    edge = {"IVR_TIER": "edge", "IVR_SECRET_KEY": "s" * 32, "IVR_TWILIO_AUTH_TOKEN": "t"}
    with pytest.raises(ConfigError, match="IVR_AUDIT_KEY"):
        Config.from_env({**edge, "IVR_AUDIT_KEY": "a" * 32})
    console = {"IVR_TIER": "console", "IVR_CONSOLE_SECRET_KEY": "c" * 32}
    derived = Config.from_env(console).audit_chain_key
    assert derived != b"c" * 32 and len(derived) == 32  # for its one purpose only
    assert Config.from_env({**console, "IVR_AUDIT_KEY": "a" * 32}).audit_chain_key == KEY
    with pytest.raises(ConfigError, match="of its own"):
        Config.from_env({**console, "IVR_AUDIT_KEY": "c" * 32})


def test_an_unreadable_anchor_is_refused() -> None:
    with pytest.raises(Exception, match="unreadable"):
        Anchor.parse(b"not json")


def test_events_from_before_the_keyed_chain_are_sealed_after_the_upgrade(
    database_url: str,
) -> None:
    migrate.upgrade(database_url, "0007")
    engine = make_engine(database_url)
    insert = text(
        "INSERT INTO audit_events (at, actor, action, detail, previous_hash, hash)"
        " VALUES (:at, 'admin-one', 'user_add', '', :previous, :hash)"
    )
    with engine.begin() as connection:
        for index in range(2):
            connection.execute(
                insert, {"at": datetime.now(UTC), "previous": "p", "hash": f"old-{index}"}
            )
    migrate.upgrade(database_url)  # through 0008, which keys the chain, to today's schema
    db = Database(engine, audit_key=KEY)
    assert audit.seal(db, KEY) == 2 and audit.verify(db, KEY).ok
    # Going down puts back the unkeyed chain the old code checks
    migrate.downgrade(database_url, "0007")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT previous_hash, hash FROM audit_events ORDER BY id"))
        (first_previous, first), (second_previous, second) = rows.all()
        head = connection.execute(text("SELECT last_hash FROM audit_head")).scalar()
    assert (first_previous, second_previous, head) == (audit.GENESIS, first, second)
    engine.dispose()


def test_nothing_is_sealed_on_top_of_a_head_moved_back(db: Database) -> None:
    write(db, 3)
    audit.seal(db, KEY)
    with db.transaction() as session:  # the head moved back, the events left in place
        head = session.get(AuditHead, 1)
        first = session.scalars(select(AuditEvent).where(AuditEvent.seq == 1)).one()
        assert head is not None
        head.last_seq, head.last_hash = 1, first.hash or ""
    write(db, 1)
    assert audit.seal(db, KEY) == 0
    broken = audit.verify(db, KEY)
    assert (broken.ok, broken.reason) == (False, audit.REMOVED)


def test_every_anchor_for_a_place_must_match(db: Database, tmp_path: Path) -> None:
    anchors = FileAnchors(tmp_path / "anchors.jsonl")
    write(db, 2)
    audit.seal(db, KEY)
    with db.reading() as session:
        real = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == 2))
    assert real is not None
    anchors.append(Anchor(2, "f" * 64, "2026-11-29T10:00Z"))
    anchors.append(Anchor(2, real, "2026-11-29T10:10Z"))
    assert "differs from the anchor written 2026-11-29T10:00Z" in (
        audit.verify(db, KEY, anchors.read()).reason
    )


def test_a_console_process_seals_and_anchors_on_its_own(db: Database, tmp_path: Path) -> None:
    # Given a console process's sealer running, and staff actions being recorded
    anchors = FileAnchors(tmp_path / "anchors.jsonl")
    trail = audit.AuditTrail(db, KEY, anchors, timedelta(0))
    stop = threading.Event()
    sealer = threading.Thread(target=trail.keep_sealed, args=(stop, 0.05))
    sealer.start()
    try:
        with db.transaction() as session:
            audit.record(session, "sam", "claim", "R-AAAA-BBBB")
        # Then, with nobody opening the audit page, the event is sealed and anchored
        deadline = time.monotonic() + 60
        while not anchors.read() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        sealer.join()
    with db.transaction() as session:
        assert session.scalars(select(AuditEvent.seq)).one() is not None
    assert anchors.read()[-1].seq == 1
