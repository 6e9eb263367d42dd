"""Tiers apart: report text by server default, claims by the day, tagged audit events and
the queue of follow-up calls' events.

The edge's database role may not read a report's text nor write the audit trail
(``ivr.platform.db_roles``): the text columns get server defaults, so that the edge's INSERT need
not name them; every audit event is tagged with the audit key as the console writes it,
and events written before tags existed are marked as such by ``legacy_through``; a
follow-up call queues its events in ``phone_events`` instead. A claim is kept as the day
it holds through, never a time: going down, claims lapse.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ivr.platform.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT_COLUMNS = (
    "transcript",
    "contact_transcript",
    "people",
    "what",
    "when_text",
    "where_text",
    "review_comment",
)
PHONE_ACTIONS = (
    "followup_verified",
    "followup_refused",
    "followup_reference_given",
    "followup_answered",
)


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("claimed_through", sa.Date(), nullable=True))
        for name in TEXT_COLUMNS:
            batch.alter_column(name, existing_type=sa.Text(), server_default="")
    # A claim lapsing at 09:45 holds through that day: the time is dropped with the column.
    sqlite = op.get_bind().dialect.name == "sqlite"
    day = "substr(claim_expires, 1, 10)" if sqlite else "CAST(claim_expires AS DATE)"
    op.execute(
        f"UPDATE reports SET claimed_through = {day} WHERE claim_expires IS NOT NULL"  # noqa: S608 - no input
    )
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("claim_expires")
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("tag", sa.String(length=64), nullable=True))
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(
            sa.Column("legacy_through", sa.Integer(), nullable=False, server_default="0")
        )
    # Events already waiting were written before tags: they may still be sealed.
    op.execute(
        "UPDATE audit_head SET legacy_through = (SELECT COALESCE(MAX(id), 0) FROM audit_events)"
    )
    op.create_table(
        "phone_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                *PHONE_ACTIONS,
                name="phoneaction",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_events")),
    )


def downgrade() -> None:
    op.drop_table("phone_events")
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("legacy_through")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("tag")
    with op.batch_alter_table("reports") as batch:
        batch.add_column(
            sa.Column("claim_expires", ivr.platform.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.drop_column("claimed_through")
        for name in TEXT_COLUMNS:
            batch.alter_column(name, existing_type=sa.Text(), server_default=None)
