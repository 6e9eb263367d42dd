"""Changing the audit key: the chain verifies across the change, and the old key alone
cannot add to it any more."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from ivr.cli import main
from ivr.config import Config
from ivr.models.audit import AuditEvent, AuditHead
from ivr.platform.db import Database
from ivr.staff import audit
from tests.worker.conftest import cli_env

OLD = b"o" * 32
NEW = b"n" * 32


@pytest.fixture
def consoles(config: Config, db: Database) -> Iterator[tuple[Database, Database]]:
    """The same database as a console on the old key sees it, and as one on the new key."""
    before = Database.from_url(config.database_url, audit_key=OLD)
    after = Database.from_url(config.database_url, audit_key=NEW)
    yield before, after
    before.engine.dispose()
    after.engine.dispose()


def write(db: Database, count: int, actor: str = "handler-one") -> None:
    with db.transaction() as session:
        for index in range(count):
            audit.record(session, actor, "view", f"R-AAAA-{index:04d}")


def chain_with_the_old_key(db: Database, event: AuditEvent) -> None:
    """What an insider holding only the old key can do: chain an event with the chain's
    own MAC (anyone who read this code could compute it), and move the head to it."""
    with db.transaction() as session:
        session.execute(AuditEvent.__table__.delete().where(AuditEvent.seq.is_(None)))
        head = session.get(AuditHead, 1)
        assert head is not None
        session.add(event)
        session.flush()
        event.seq = head.last_seq + 1
        event.hash = audit._mac(OLD, head.last_hash, event)
        head.last_seq, head.last_hash = event.seq, event.hash


def sealed(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).where(AuditEvent.seq.is_not(None))) or 0


def test_the_chain_verifies_across_a_change_of_key(consoles: tuple[Database, Database]) -> None:
    before, after = consoles
    # Given a chain sealed under the old key
    write(before, 3)
    assert audit.seal(before, OLD) == 3
    # When console processes restart with the new key (the old one kept as previous) and
    # staff go on working, the chain goes on under the old key until the rekey
    write(after, 2)
    assert audit.seal(after, NEW, [OLD]) == 2
    waiting = audit.verify(after, NEW, previous_keys=[OLD])
    assert not waiting.ok and "ivr audit rekey" in waiting.reason
    # When the operator rekeys, and work goes on
    assert audit.rekey(after, NEW, [OLD]) is True
    assert audit.rekey(after, NEW, [OLD]) is False  # once is enough
    write(after, 2)
    assert audit.seal(after, NEW, [OLD]) == 2
    # Then the whole chain verifies, across the change: 3 + 2 + the checkpoint + 2
    verdict = audit.verify(after, NEW, previous_keys=[OLD])
    assert verdict.ok, verdict.reason
    assert verdict.events == 8
    # And the checkpoint names the new key, never the key itself
    with after.reading() as session:
        (checkpoint,) = session.scalars(
            select(AuditEvent).where(AuditEvent.action == audit.REKEYED)
        )
    assert audit.key_id(NEW) in checkpoint.detail and NEW.decode() not in checkpoint.detail
    # Without the old key, the events before the change cannot be checked
    assert not audit.verify(after, NEW).ok


def test_someone_with_only_the_old_key_cannot_extend_the_chain(
    consoles: tuple[Database, Database],
) -> None:
    before, after = consoles
    write(before, 2)
    audit.seal(before, OLD)
    audit.rekey(after, NEW, [OLD])
    # An event written by someone holding the old key is never sealed, and is reported
    write(before, 1, actor="insider")
    assert audit.seal(after, NEW, [OLD]) == 0
    forged = audit.verify(after, NEW, previous_keys=[OLD])
    assert not forged.ok and forged.reason == audit.FORGED
    # And one they seal themselves, chained under the old key, breaks the chain
    chain_with_the_old_key(
        after, audit.tagged_event(OLD, audit.utcnow(), "insider", "view", "R-AAAA-9999")
    )
    broken = audit.verify(after, NEW, previous_keys=[OLD])
    assert not broken.ok and broken.reason == audit.CHANGED


def test_a_console_process_not_yet_given_the_new_key_seals_nothing(
    consoles: tuple[Database, Database],
) -> None:
    before, after = consoles
    write(before, 1)
    audit.seal(before, OLD)
    audit.rekey(after, NEW, [OLD])
    write(after, 1)
    # A process still on the old key finds the chain under a key it lacks: it leaves
    # the new event for the others, rather than seal it under the wrong key
    with pytest.raises(audit.UnknownAuditKey):
        audit.seal(before, OLD)
    assert sealed(after) == 2
    assert audit.seal(after, NEW, [OLD]) == 1 and audit.verify(after, NEW, previous_keys=[OLD]).ok


def test_the_operator_rekeys_from_the_command_line(
    config: Config, consoles: tuple[Database, Database]
) -> None:
    before, _ = consoles
    write(before, 2)
    audit.seal(before, OLD)
    env = cli_env(config, IVR_AUDIT_KEY=NEW.decode(), IVR_AUDIT_PREVIOUS_KEYS=OLD.decode())
    env["IVR_AUDIT_ANCHOR"] = str(config.spool_dir.parent / "anchors.jsonl")
    runner = CliRunner()
    moved = runner.invoke(main, ["audit", "rekey"], env=env)
    assert moved.exit_code == 0, moved.output
    assert f"sealed from here on under key {audit.key_id(NEW)}" in moved.output
    again = runner.invoke(main, ["audit", "rekey"], env=env)
    assert "already sealed under IVR_AUDIT_KEY" in again.output
    verified = runner.invoke(main, ["audit", "verify"], env=env)
    assert verified.exit_code == 0, verified.output
    assert "intact" in verified.output


def test_a_checkpoint_made_with_only_the_old_key_is_refused(
    consoles: tuple[Database, Database],
) -> None:
    before, after = consoles
    write(before, 2)
    audit.seal(before, OLD)
    # Someone holding only the old key writes a checkpoint naming the new key, sealed
    # (as they can only seal) under the old one
    naming_the_new_key = "sealed from here on under key " + audit.key_id(NEW)
    chain_with_the_old_key(
        before,
        audit.tagged_event(
            OLD, audit.utcnow(), "operations", audit.REKEYED, None, naming_the_new_key
        ),
    )
    verdict = audit.verify(after, NEW, previous_keys=[OLD])
    assert not verdict.ok and verdict.reason == audit.CHANGED
