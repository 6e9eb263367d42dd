"""audio objects, job stages and leases

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audio_objects",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column(
            "part",
            sa.Enum(
                "report",
                "contact",
                name="recordingpart",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("object_name", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("key_ref", sa.String(length=200), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("silent", sa.Boolean(), nullable=False),
        sa.Column("gain_db", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_audio_objects_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audio_objects")),
        sa.UniqueConstraint("object_name", name=op.f("uq_audio_objects_object_name")),
    )
    with op.batch_alter_table("audio_objects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audio_objects_report_id"), ["report_id"], unique=False)

    with op.batch_alter_table("recording_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "stage",
                sa.Enum(
                    "fetch",
                    "stored",
                    "verified",
                    "erased",
                    "finished",
                    name="jobstage",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=False,
                # Jobs created before this revision start from the beginning.
                server_default="fetch",
            )
        )
        batch_op.add_column(sa.Column("object_name", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("audio_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_recording_jobs_audio_id_audio_objects"),
            "audio_objects",
            ["audio_id"],
            ["id"],
        )

    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duration_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("silent", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("silent")
        batch_op.drop_column("duration_seconds")

    with op.batch_alter_table("recording_jobs", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_recording_jobs_audio_id_audio_objects"), type_="foreignkey"
        )
        # SQLite's batch copy would otherwise keep a CHECK on the dropped column.
        batch_op.drop_constraint(op.f("ck_recording_jobs_jobstage"), type_="check")
        batch_op.drop_column("lease_owner")
        batch_op.drop_column("audio_id")
        batch_op.drop_column("object_name")
        batch_op.drop_column("stage")

    with op.batch_alter_table("audio_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audio_objects_report_id"))

    op.drop_table("audio_objects")
