"""Jobs wait for an outside service instead of failing while it is down.

``waiting_for`` names the service (store, keys, twilio) a job was put aside for: the
worker wakes exactly those jobs when the service answers again. Nothing about a call.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("recording_jobs", "call_log_erasures")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("waiting_for", sa.String(length=16), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("waiting_for")
