"""The languages each member of staff takes reports in; returned reports held by their authors.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("languages", sa.String(length=100), server_default="en-GB", nullable=False)
        )
    # A report returned before this revision waits, held by nobody: give it to its author,
    # as a return does from now on.
    op.execute(
        "UPDATE reports SET claimed_by = submitted_by "
        "WHERE status = 'returned' AND claimed_by IS NULL AND submitted_by IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("languages")
