"""Since when work has waited for each outside service that is down (for /metrics).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ivr.platform.db

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_outages",
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("since", ivr.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("service", name=op.f("pk_service_outages")),
    )


def downgrade() -> None:
    op.drop_table("service_outages")
