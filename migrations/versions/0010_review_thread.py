"""supervisors' review thread on a report (issue 12)

Each return, approval and comment becomes a message of its own. A report's one
``review_comment`` (what a supervisor said when returning it) is carried into the thread
as its first message, its author unknown, dated the report's last day of activity; the
column is then left empty. Going down puts the newest return message back in it.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPORTS = sa.table(
    "reports",
    sa.column("id", sa.String),
    sa.column("received_on", sa.Date),
    sa.column("last_active_on", sa.Date),
    sa.column("review_comment", sa.Text),
)
MESSAGES = sa.table(
    "review_messages",
    sa.column("id", sa.Integer),
    sa.column("report_id", sa.String),
    sa.column("author_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("on", sa.Date),
    sa.column("text", sa.Text),
)


def upgrade() -> None:
    op.create_table(
        "review_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "return",
                "approve",
                "comment",
                name="messagekind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_review_messages_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_review_messages_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_messages")),
    )
    op.create_index(
        op.f("ix_review_messages_report_id"), "review_messages", ["report_id"], unique=False
    )
    bind = op.get_bind()
    carried = bind.execute(
        sa.select(
            REPORTS.c.id,
            sa.func.coalesce(REPORTS.c.last_active_on, REPORTS.c.received_on),
            REPORTS.c.review_comment,
        ).where(REPORTS.c.review_comment != "")
    ).all()
    if carried:
        bind.execute(
            MESSAGES.insert(),
            [
                {"report_id": id_, "author_id": None, "kind": "return", "on": on, "text": text}
                for id_, on, text in carried
            ],
        )
        bind.execute(
            sa.update(REPORTS).where(REPORTS.c.review_comment != "").values(review_comment="")
        )


def downgrade() -> None:
    bind = op.get_bind()
    newest = (
        sa.select(MESSAGES.c.report_id, sa.func.max(MESSAGES.c.id).label("id"))
        .where(MESSAGES.c.kind == "return")
        .group_by(MESSAGES.c.report_id)
        .subquery()
    )
    for report_id, text in bind.execute(
        sa.select(MESSAGES.c.report_id, MESSAGES.c.text).join(newest, newest.c.id == MESSAGES.c.id)
    ).all():
        bind.execute(
            sa.update(REPORTS).where(REPORTS.c.id == report_id).values(review_comment=text)
        )
    op.drop_index(op.f("ix_review_messages_report_id"), table_name="review_messages")
    op.drop_table("review_messages")
