"""Statistics: counters kept by month that outlive the reports, and a manager's role (issue 24).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("handler", "supervisor", "ops", "admin")
EVENTS = (
    "received",
    "submitted",
    "returned",
    "approved",
    "disseminated",
    "destroyed_unsent",
    "follow_up_asked",
    "follow_up_answered",
    "call_without_report",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def upgrade() -> None:
    op.create_table(
        "stat_counts",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column(
            "event",
            sa.Enum(
                *EVENTS, name="statevent", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("force", sa.String(length=100), nullable=False),
        sa.Column("anonymity", sa.String(length=16), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.CheckConstraint("length(month) = 7", name=op.f("ck_stat_counts_month_length")),
        sa.CheckConstraint("days >= -1", name=op.f("ck_stat_counts_days_or_untimed")),
        sa.CheckConstraint("count > 0", name=op.f("ck_stat_counts_count_positive")),
        sa.PrimaryKeyConstraint(
            "month",
            "event",
            "channel",
            "language",
            "category",
            "force",
            "anonymity",
            "days",
            name=op.f("pk_stat_counts"),
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.create_check_constraint(
            op.f("ck_stat_counts_month_only"), "stat_counts", "month ~ '^[0-9]{4}-[0-9]{2}$'"
        )
    op.create_index("ix_stat_counts_event_month", "stat_counts", ["event", "month"])
    op.create_index("ix_stat_counts_force_event_month", "stat_counts", ["force", "event", "month"])
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role"), _in("role", (*ROLES, "manager")))


def downgrade() -> None:
    # A manager's account cannot be expressed before this revision: refuse rather than
    # delete it or give its holder a role they were never given.
    managers = op.get_bind().execute(sa.text("SELECT count(*) FROM users WHERE role = 'manager'"))
    if managers.scalar():
        raise RuntimeError(
            "managers' accounts exist: downgrading below 0021 would lose them. Remove them first."
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role"), _in("role", ROLES))
    op.drop_index("ix_stat_counts_force_event_month", table_name="stat_counts")
    op.drop_index("ix_stat_counts_event_month", table_name="stat_counts")
    op.drop_table("stat_counts")
