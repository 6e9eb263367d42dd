"""``ivr db``: schema migrations."""

from __future__ import annotations

import click

from ivr import migrate
from ivr.cli.runtime import Runtime, pass_runtime


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command()
@click.argument("revision", default="head")
@pass_runtime
def upgrade(runtime: Runtime, revision: str) -> None:
    """Migrate the database (IVR_DATABASE_URL) up to REVISION (default: the latest)."""
    config = runtime.config
    if config.database_url.startswith("sqlite:///"):
        from pathlib import Path

        Path(config.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    migrate.upgrade(config.database_url, revision)
    click.echo(f"Database is at revision {revision}.")


@db.command()
@click.argument("revision")
@pass_runtime
def downgrade(runtime: Runtime, revision: str) -> None:
    """Migrate the database down to REVISION."""
    migrate.downgrade(runtime.config.database_url, revision)
    click.echo(f"Database is at revision {revision}.")
