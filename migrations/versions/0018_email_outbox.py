"""An email to a force is pending until the mail server takes it, then sent.

``disseminations.delivery`` holds it ("pending", "sent"; empty for downloads). Emails
recorded before this were sent while the supervisor waited: they are marked sent.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("disseminations", sa.Column("delivery", sa.String(length=16), nullable=True))
    op.execute("UPDATE disseminations SET delivery = 'sent' WHERE method = 'email'")


def downgrade() -> None:
    with op.batch_alter_table("disseminations") as batch:
        batch.drop_column("delivery")
