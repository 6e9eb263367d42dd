"""Anonymous follow-up: references, PIN hashes, questions and answers (issue 13).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ivr.platform.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "followups",
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("reference_digest", sa.String(length=64), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_through", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_followups_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_followups")),
        sa.UniqueConstraint("reference_digest", name=op.f("uq_followups_reference_digest")),
    )
    op.create_table(
        "followup_questions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("asked_by", sa.Integer(), nullable=True),
        sa.Column("asked_on", sa.Date(), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["asked_by"], ["users.id"], name=op.f("fk_followup_questions_asked_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_followup_questions_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_questions")),
    )
    op.create_index(
        op.f("ix_followup_questions_report_id"), "followup_questions", ["report_id"], unique=False
    )
    op.create_table(
        "followup_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("stored", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["recording_jobs.id"],
            name=op.f("fk_followup_answers_job_id_recording_jobs"),
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["followup_questions.id"],
            name=op.f("fk_followup_answers_question_id_followup_questions"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_followup_answers_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_answers")),
        sa.UniqueConstraint("job_id", name=op.f("uq_followup_answers_job_id")),
    )
    op.create_index(
        op.f("ix_followup_answers_report_id"), "followup_answers", ["report_id"], unique=False
    )
    op.create_table(
        "followup_failures",
        sa.Column("hour", ivr.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", name=op.f("pk_followup_failures")),
    )


def downgrade() -> None:
    op.drop_table("followup_failures")
    op.drop_index(op.f("ix_followup_answers_report_id"), table_name="followup_answers")
    op.drop_table("followup_answers")
    op.drop_index(op.f("ix_followup_questions_report_id"), table_name="followup_questions")
    op.drop_table("followup_questions")
    op.drop_table("followups")
