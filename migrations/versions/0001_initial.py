"""calls, flow versions, reports and recording jobs

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ivr.platform.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flow_versions",
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("content_hash", name=op.f("pk_flow_versions")),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "menu",
                "fallback",
                "reconciled",
                name="reportsource",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "awaiting_audio",
                "queued",
                name="reportstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("category", sa.String(length=50), nullable=True),
        sa.Column(
            "anonymity",
            sa.Enum(
                "anonymous",
                "contact",
                name="anonymity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("contact_left", sa.Boolean(), nullable=False),
        sa.Column("has_audio", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("reference", name=op.f("uq_reports_reference")),
    )
    op.create_table(
        "call_sessions",
        sa.Column("call_key", sa.String(length=64), nullable=False),
        sa.Column("flow_hash", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=100), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column(
            "choices",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("report_id", sa.String(length=36), nullable=True),
        sa.Column("last_reply", sa.Text(), nullable=False),
        sa.Column("expires_at", ivr.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["flow_hash"],
            ["flow_versions.content_hash"],
            name=op.f("fk_call_sessions_flow_hash_flow_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_call_sessions_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("call_key", name=op.f("pk_call_sessions")),
    )
    op.create_table(
        "recording_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("recording_key", sa.String(length=64), nullable=False),
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
        sa.Column("take", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "done",
                "failed",
                "discarded",
                name="jobstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("ended_by_hangup", sa.Boolean(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("recording_sid", sa.String(length=64), nullable=True),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("call_ended", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", ivr.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_expires", ivr.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_recording_jobs_attempts_not_negative")),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_recording_jobs_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_jobs")),
        sa.UniqueConstraint("recording_key", name=op.f("uq_recording_jobs_recording_key")),
    )
    with op.batch_alter_table("recording_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recording_jobs_report_id"), ["report_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_recording_jobs_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recording_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recording_jobs_state"))
        batch_op.drop_index(batch_op.f("ix_recording_jobs_report_id"))

    op.drop_table("recording_jobs")
    op.drop_table("call_sessions")
    op.drop_table("reports")
    op.drop_table("flow_versions")
