"""call log erasures as durable jobs; reports whose audio failed

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ivr.platform.db

STATUSES = (
    "awaiting_audio",
    "queued",
    "submitted",
    "returned",
    "approved",
    "disseminated",
    "closed",
)

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_log_erasures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
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
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", ivr.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_expires", ivr.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "attempts >= 0", name=op.f("ck_call_log_erasures_attempts_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_log_erasures")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_call_log_erasures_call_sid")),
    )
    with op.batch_alter_table("call_log_erasures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_log_erasures_state"), ["state"], unique=False)
    # A report whose audio could not be stored is shown to supervisors as "audio failed".
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reports_reportstatus"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_reports_reportstatus"), _in(("audio_failed", *STATUSES))
        )


def downgrade() -> None:
    op.execute("UPDATE reports SET status = 'awaiting_audio' WHERE status = 'audio_failed'")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reports_reportstatus"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reports_reportstatus"), _in(STATUSES))
    with op.batch_alter_table("call_log_erasures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_log_erasures_state"))
    op.drop_table("call_log_erasures")


def _in(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{value}'" for value in values) + ")"
