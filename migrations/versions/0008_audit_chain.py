"""audit events are appended without a lock and sealed later into a keyed chain

Events written before this revision carried an unkeyed hash, which anyone with the
database could recompute; they are sealed again, under the audit key, by the first
sealer after the upgrade. Going down recomputes the old unkeyed chain.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
HEAD = sa.table("audit_head", sa.column("last_seq", sa.Integer), sa.column("last_hash", sa.String))
HEAD_BEFORE = sa.table("audit_head", sa.column("last_hash", sa.String))


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_seq"), ["seq"])
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.drop_column("previous_hash")
    op.execute("UPDATE audit_events SET hash = NULL")
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seq", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.alter_column("last_seq", existing_type=sa.Integer(), server_default=None)
    op.execute(sa.update(HEAD).values(last_seq=0, last_hash=GENESIS))


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_hash", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    events = sa.table(
        "audit_events",
        sa.column("id", sa.Integer),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor", sa.String),
        sa.column("action", sa.String),
        sa.column("report_reference", sa.String),
        sa.column("detail", sa.Text),
        sa.column("previous_hash", sa.String),
        sa.column("hash", sa.String),
    )
    previous = GENESIS
    for row in connection.execute(sa.select(events).order_by(events.c.id)).all():
        at = row.at if isinstance(row.at, datetime) else datetime.fromisoformat(str(row.at))
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        body = json.dumps(
            [at.isoformat(), row.actor, row.action, row.report_reference, row.detail],
            separators=(",", ":"),
        )
        digest = hashlib.sha256((previous + body).encode()).hexdigest()
        connection.execute(
            sa.update(events)
            .where(events.c.id == row.id)
            .values(previous_hash=previous, hash=digest)
        )
        previous = digest
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("previous_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_audit_events_seq"), type_="unique")
        batch_op.drop_column("seq")
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.drop_column("last_seq")
    op.execute(sa.update(HEAD_BEFORE).values(last_hash=previous))
