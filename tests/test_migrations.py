"""Migrations build exactly the models' schema, and every revision goes down and up."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from ivr.platform import migrate
from ivr.platform.db import Base, make_engine


def test_upgrade_head_gives_exactly_the_models_schema(database_url: str) -> None:
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_every_revision_goes_down_and_up_again(database_url: str) -> None:
    revisions = list(
        ScriptDirectory.from_config(migrate.alembic_config(database_url)).walk_revisions()
    )
    for revision in reversed(revisions):  # oldest first
        migrate.upgrade(database_url, revision.revision)
        migrate.downgrade(database_url, revision.down_revision or "base")
        migrate.upgrade(database_url, revision.revision)
    engine = make_engine(database_url)
    assert set(inspect(engine).get_table_names()) == {*Base.metadata.tables, "alembic_version"}
    migrate.downgrade(database_url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_a_report_whose_audio_failed_survives_upgrade_and_is_waiting_again_after_downgrade(
    database_url: str,
) -> None:
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    report = {"id": "r1", "reference": "R-AAAA-AAAA", "received_on": "2026-01-01"}
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO reports (id, reference, received_on, source, status, contact_left,"
                " has_audio, silent, transcript, contact_transcript, people, what, when_text,"
                " where_text, urgency, sanitised, review_comment, audio_purged) VALUES (:id,"
                " :reference, :received_on, 'menu', 'audio_failed', false, true, false, '', '',"
                " '', '', '', '', 'routine', false, '', false)"
            ),
            report,
        )
    migrate.downgrade(database_url, "0006")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT status FROM reports")).scalar() == "awaiting_audio"
    engine.dispose()
