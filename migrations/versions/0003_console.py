"""console: users, report work, forces, disseminations, audit

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

import ivr
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

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", ivr.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("report_reference", sa.String(length=16), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("previous_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_events_report_reference"), ["report_reference"], unique=False
        )

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "forces",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("ccu_email", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_forces")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "handler",
                "supervisor",
                "ops",
                "admin",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("enrolment_token_hash", sa.String(length=64), nullable=True),
        sa.Column("enrolment_expires", ivr.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_sign_ins", sa.Integer(), nullable=False),
        sa.Column("locked_until", ivr.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("enrolment_token_hash", name=op.f("uq_users_enrolment_token_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "disseminations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("force", sa.String(length=100), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_disseminations_report_id_reports")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_disseminations_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disseminations")),
    )
    with op.batch_alter_table("disseminations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disseminations_report_id"), ["report_id"], unique=False
        )

    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue_position", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("claim_expires", ivr.platform.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("submitted_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("transcript", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("contact_transcript", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("force", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("handler_category", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("people", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("what", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("when_text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("where_text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column(
                "urgency",
                sa.Enum(
                    "routine",
                    "urgent",
                    "risk_to_life",
                    name="urgency",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=False,
                server_default="routine",
            )
        )
        batch_op.add_column(
            sa.Column("sanitised", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("review_comment", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("disseminated_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("audio_purged", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(
            batch_op.f("ix_reports_queue_position"), ["queue_position"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_reports_submitted_by_users"), "users", ["submitted_by"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_reports_claimed_by_users"), "users", ["claimed_by"], ["id"]
        )
        # The report's life now goes on past the queue.
        batch_op.drop_constraint(op.f("ck_reports_reportstatus"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reports_reportstatus"), _in(STATUSES))

    unclaimed = sa.text("status IN ('queued', 'returned') AND claimed_by IS NULL")
    op.create_index(
        "ix_reports_unclaimed",
        "reports",
        ["received_on", "queue_position", "reference"],
        postgresql_where=unclaimed,
        sqlite_where=unclaimed,
    )

    forces = sa.table("forces", sa.column("name", sa.String))
    op.bulk_insert(forces, [{"name": name} for name in _forces()])
    head = sa.table("audit_head", sa.column("id", sa.Integer), sa.column("last_hash", sa.String))
    op.bulk_insert(head, [{"id": 1, "last_hash": "0" * 64}])  # the start of the audit chain


def _in(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _forces() -> list[str]:
    text = (Path(ivr.__file__).parent / "data" / "forces.txt").read_text()
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def downgrade() -> None:
    op.drop_index("ix_reports_unclaimed", table_name="reports")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reports_reportstatus"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reports_reportstatus"), _in(STATUSES[:2]))
        batch_op.drop_constraint(op.f("ck_reports_urgency"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_reports_claimed_by_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_reports_submitted_by_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_reports_queue_position"))
        batch_op.drop_column("audio_purged")
        batch_op.drop_column("disseminated_on")
        batch_op.drop_column("review_comment")
        batch_op.drop_column("sanitised")
        batch_op.drop_column("urgency")
        batch_op.drop_column("where_text")
        batch_op.drop_column("when_text")
        batch_op.drop_column("what")
        batch_op.drop_column("people")
        batch_op.drop_column("handler_category")
        batch_op.drop_column("force")
        batch_op.drop_column("contact_transcript")
        batch_op.drop_column("transcript")
        batch_op.drop_column("submitted_by")
        batch_op.drop_column("claim_expires")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("queue_position")

    with op.batch_alter_table("disseminations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disseminations_report_id"))

    op.drop_table("disseminations")
    op.drop_table("users")
    op.drop_table("forces")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_report_reference"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
