"""Online reports: their encrypted text and attachments (issue 14).

Creates ``online_objects`` and lets a report's source be "online".

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES = ("menu", "fallback", "reconciled")


def _in(values: tuple[str, ...]) -> str:
    return "source IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def upgrade() -> None:
    op.create_table(
        "online_objects",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column(
            "part",
            sa.Enum(
                "text",
                "contact",
                "attachment",
                name="onlinepart",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("object_name", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("key_ref", sa.String(length=200), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("cleaned", sa.Boolean(), nullable=False),
        sa.Column("removed", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_online_objects_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_online_objects")),
        sa.UniqueConstraint("object_name", name=op.f("uq_online_objects_object_name")),
    )
    with op.batch_alter_table("online_objects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_online_objects_report_id"), ["report_id"])
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reports_reportsource"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reports_reportsource"), _in((*SOURCES, "online")))


def downgrade() -> None:
    # An online report cannot be expressed before this revision, and nothing reported may
    # be lost: refuse rather than delete or relabel it.
    online = op.get_bind().execute(sa.text("SELECT count(*) FROM reports WHERE source = 'online'"))
    if online.scalar():
        raise RuntimeError(
            "online reports exist: downgrading below 0012 would lose them. Close them first."
        )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reports_reportsource"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reports_reportsource"), _in(SOURCES))
    with op.batch_alter_table("online_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_online_objects_report_id"))
    op.drop_table("online_objects")
