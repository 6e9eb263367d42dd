"""the call flow's history, append-only, and recorded prompts as drafts (issue 12)

Each save, publish, rollback and prompt change becomes an event of its own, so no later
publish can overwrite an earlier message. Each stored version's author and message today
(its save, or its last publish) is carried into the history as its first event. Going
down drops the history; the versions keep the author and message they had.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import ivr.platform.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONS = sa.table(
    "flow_versions",
    sa.column("name", sa.String),
    sa.column("number", sa.Integer),
    sa.column("state", sa.String),
    sa.column("author", sa.String),
    sa.column("message", sa.Text),
    sa.column("changed_at", ivr.platform.db.UTCDateTime(timezone=True)),
)
EVENTS = sa.table(
    "flow_events",
    sa.column("flow", sa.String),
    sa.column("number", sa.Integer),
    sa.column("action", sa.String),
    sa.column("author", sa.String),
    sa.column("message", sa.Text),
    sa.column("at", ivr.platform.db.UTCDateTime(timezone=True)),
)
ACTIONS = (
    "save_draft",
    "publish",
    "rollback",
    "prompt_draft",
    "prompt_removal",
    "prompt_publish",
)


def upgrade() -> None:
    op.create_table(
        "flow_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("flow", sa.String(length=100), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                *ACTIONS, name="flowaction", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("at", ivr.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_events")),
    )
    op.create_index(op.f("ix_flow_events_flow"), "flow_events", ["flow"], unique=False)
    op.create_table(
        "prompt_drafts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("flow", sa.String(length=100), nullable=False),
        sa.Column("step", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("mimetype", sa.String(length=50), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_drafts")),
        sa.UniqueConstraint("flow", "step", "language", name="uq_prompt_drafts_step"),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            VERSIONS.c.name,
            VERSIONS.c.number,
            VERSIONS.c.state,
            VERSIONS.c.author,
            VERSIONS.c.message,
            VERSIONS.c.changed_at,
        )
        .where(VERSIONS.c.number > 0)
        .order_by(VERSIONS.c.changed_at, VERSIONS.c.number)
    ).all()
    now = datetime.now(UTC)  # a version saved before times were kept
    for name, number, state, author, message, changed_at in rows:
        bind.execute(
            EVENTS.insert().values(
                flow=name,
                number=number,
                action="save_draft" if state == "draft" else "publish",
                author=author,
                message=message,
                at=changed_at if changed_at is not None else now,
            )
        )


def downgrade() -> None:
    op.drop_table("prompt_drafts")
    op.drop_index(op.f("ix_flow_events_flow"), table_name="flow_events")
    op.drop_table("flow_events")
