"""flow versions: number, state, author, message

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ivr.platform.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("flow_versions", schema=None) as batch_op:
        # Versions served before this revision came from the file: kept for pinned calls, as
        # retired; the service publishes the file again on first use.
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column(
                "state",
                sa.Enum(
                    "draft",
                    "published",
                    "retired",
                    name="flowstate",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=False,
                server_default="retired",
            )
        )
        batch_op.add_column(
            sa.Column("author", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("message", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("changed_at", ivr.platform.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_flow_versions_name"), ["name"], unique=False)
    published = sa.text("state = 'published'")
    op.create_index(
        "uq_flow_versions_published",
        "flow_versions",
        ["name"],
        unique=True,
        postgresql_where=published,
        sqlite_where=published,
    )


def downgrade() -> None:
    op.drop_index("uq_flow_versions_published", table_name="flow_versions")
    with op.batch_alter_table("flow_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flow_versions_name"))
        batch_op.drop_column("changed_at")
        batch_op.drop_column("message")
        batch_op.drop_column("author")
        batch_op.drop_constraint(op.f("ck_flow_versions_flowstate"), type_="check")
        batch_op.drop_column("state")
        batch_op.drop_column("number")
