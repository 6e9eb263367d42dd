"""every report has an end of life; wrapped keys are sealed under day keys

Each report gets the day of its last activity, from which retention counts. Each stored
wrapped data key is sealed again under a random key of its report's received day (see
``ivr.crypto.day_keys``), so that destroying that day key makes every copy of it
unreadable. Going down opens the seals again and drops the day keys.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ivr.crypto.day_keys import open_sealed, seal
from ivr.crypto.keys import object_context

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIO = sa.table(
    "audio_objects",
    sa.column("id", sa.String),
    sa.column("report_id", sa.String),
    sa.column("part", sa.String),
    sa.column("object_name", sa.String),
    sa.column("wrapped_key", sa.LargeBinary),
)
REPORTS = sa.table("reports", sa.column("id", sa.String), sa.column("received_on", sa.Date))
DAY_KEYS = sa.table(
    "day_keys",
    sa.column("day", sa.Date),
    sa.column("key", sa.LargeBinary),
    sa.column("stale", sa.Boolean),
)


def _stored() -> list[sa.Row[tuple[object, ...]]]:
    return list(
        op.get_bind().execute(
            sa.select(
                AUDIO.c.id,
                AUDIO.c.report_id,
                AUDIO.c.part,
                AUDIO.c.object_name,
                AUDIO.c.wrapped_key,
                REPORTS.c.received_on,
            ).join(REPORTS, REPORTS.c.id == AUDIO.c.report_id)
        )
    )


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_active_on", sa.Date(), nullable=True))
    op.create_table(
        "day_keys",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_day_keys")),
    )
    bind = op.get_bind()
    keys: dict[object, bytes] = {}
    for row in _stored():
        day = row.received_on
        if day not in keys:
            keys[day] = os.urandom(32)
            bind.execute(sa.insert(DAY_KEYS).values(day=day, key=keys[day], stale=False))
        context = object_context(row.object_name, row.report_id, row.part)
        bind.execute(
            sa.update(AUDIO)
            .where(AUDIO.c.id == row.id)
            .values(wrapped_key=seal(keys[day], row.wrapped_key, context, day))
        )


def downgrade() -> None:
    bind = op.get_bind()
    keys = {row.day: row.key for row in bind.execute(sa.select(DAY_KEYS.c.day, DAY_KEYS.c.key))}
    for row in _stored():
        context = object_context(row.object_name, row.report_id, row.part)
        day_key = keys.get(row.received_on)
        # A recording whose day key was destroyed stays unreadable: its purge was final.
        opened = open_sealed(day_key, row.wrapped_key, context, row.received_on) if day_key else b""
        bind.execute(sa.update(AUDIO).where(AUDIO.c.id == row.id).values(wrapped_key=opened))
    op.drop_table("day_keys")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("last_active_on")
