"""Spent online form tokens, shared by every web process.

A solved form is spent once across every process, not once in each: the token's keyed
digest is the key, so the second process's INSERT fails. The day it was spent, never a
time, lets the rows be purged once the token has expired anyway.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "online_tokens_spent",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_online_tokens_spent")),
    )


def downgrade() -> None:
    op.drop_table("online_tokens_spent")
