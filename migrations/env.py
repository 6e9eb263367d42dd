"""Alembic environment: migrate the database named by ``ivr.platform.migrate``."""

from __future__ import annotations

from alembic import context

from ivr import models as tables  # noqa: F401 - registers every table on Base.metadata
from ivr.platform.db import Base, make_engine

config = context.config
url = config.attributes["database_url"]
engine = make_engine(url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=url.startswith("sqlite"),  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
