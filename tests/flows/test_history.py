"""The flow's history is append-only: no publish or rollback overwrites an earlier message."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from ivr.cli import main
from ivr.config import Config
from ivr.flows.loader import load_flow_file
from ivr.flows.versions import VersionError, events, publish, rollback, save_draft
from ivr.flows.versions import history as versions
from ivr.models.flows import FlowAction
from ivr.platform import migrate
from ivr.platform.db import Database, make_engine
from tests.flows.test_versions import changed, flows_cli


def test_every_save_publish_and_rollback_keeps_its_own_message(
    db: Database, flows_dir: Path
) -> None:
    # Given version 1, first published by the system
    publish(db, load_flow_file(flows_dir / "hotline.yaml"), "system", "first published")
    # and a draft saved with its own message
    path = changed(flows_dir, "Goodbye.", "Take care. Goodbye.")
    draft = save_draft(db, load_flow_file(path), "ops-one", "kinder goodbye")
    # When the draft is published with another message, then rolled back with a reason
    publish(db, load_flow_file(path), "ops-two", "approved by the lead")
    rollback(db, "hotline", 1, "ops-one", flows_dir, message="callers confused by the change")
    # Then every message survives, newest first, each with who did it
    with db.reading() as session:
        trail = [(e.number, e.action, e.author, e.message) for e in events(session, "hotline")]
        made = {v.number: (v.author, v.message) for v in versions(session, "hotline")}
    assert trail == [
        (1, FlowAction.ROLLBACK, "ops-one", "callers confused by the change"),
        (draft, FlowAction.PUBLISH, "ops-two", "approved by the lead"),
        (draft, FlowAction.SAVE_DRAFT, "ops-one", "kinder goodbye"),
        (1, FlowAction.PUBLISH, "system", "first published"),
    ]
    # and each version still names who made it and why
    assert made == {1: ("system", "first published"), 2: ("ops-one", "kinder goodbye")}


def test_a_publish_without_a_message_is_refused(db: Database, flows_dir: Path) -> None:
    with pytest.raises(VersionError, match="say what this publish changes"):
        publish(db, load_flow_file(flows_dir / "hotline.yaml"), "ops-one", "   ")
    with db.reading() as session:
        assert events(session, "hotline") == [] and versions(session, "hotline") == []


def test_migration_0011_carries_each_versions_author_and_message_into_the_history(
    database_url: str,
) -> None:
    # Given two versions stored before the history existed: v1 published, v2 a draft
    migrate.upgrade(database_url, "0010")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        for number, state, author, message in (
            (1, "published", "system", "first published from hotline.yaml"),
            (2, "draft", "ops-one", "kinder goodbye"),
        ):
            connection.execute(
                text(
                    "INSERT INTO flow_versions (content_hash, name, content, number, state,"
                    " author, message, changed_at) VALUES (:hash, 'hotline', '', :number,"
                    " :state, :author, :message, NULL)"
                ),
                {
                    "hash": str(number) * 64,
                    "number": number,
                    "state": state,
                    "author": author,
                    "message": message,
                },
            )
    # When the history's migration runs
    migrate.upgrade(database_url, "0011")
    # Then each version's author and message is its first event
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT number, action, author, message FROM flow_events ORDER BY number")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [
        (1, "publish", "system", "first published from hotline.yaml"),
        (2, "save_draft", "ops-one", "kinder goodbye"),
    ]


def test_the_history_command_lists_every_message_a_rollback_included(
    config: Config, db: Database, flows_dir: Path
) -> None:
    runner = flows_cli(config, flows_dir)
    hotline = str(flows_dir / "hotline.yaml")
    # Given version 1, then version 2, each published with its message
    runner.invoke(main, ["flows", "publish", hotline, "-m", "launch", "--author", "ops-one"])
    changed(flows_dir, "concerned. Goodbye.", "concerned. Take care.")
    runner.invoke(main, ["flows", "publish", hotline, "-m", "kinder", "--author", "ops-one"])
    # When version 1 is rolled back to, with a reason
    rolled = runner.invoke(
        main, ["flows", "rollback", "1", "--author", "ops-two", "-m", "callers hung up"]
    )
    assert "Version 1 is published again." in rolled.output
    # Then the history lists the rollback and both earlier publishes, newest first
    listing = runner.invoke(main, ["flows", "history"]).output
    events_part = listing.split("History (newest first):")[1].splitlines()[1:]
    assert ["rollback" in events_part[0], "callers hung up" in events_part[0]] == [True, True]
    assert "publish" in events_part[1] and "kinder" in events_part[1]
    assert "publish" in events_part[2] and "launch" in events_part[2]
