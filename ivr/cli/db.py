"""``ivr db``: schema migrations."""

from __future__ import annotations

import os

import click

from ivr.cli.runtime import Runtime, pass_runtime
from ivr.platform import db_roles, migrate
from ivr.platform.db import make_engine

PASSWORD_VARIABLES = {"edge": "IVR_EDGE_DB_PASSWORD", "console": "IVR_CONSOLE_DB_PASSWORD"}


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


@db.command()
@click.option("--edge-login", default="", help="The edge's login (webhooks and worker).")
@click.option("--console-login", default="", help="The console's login.")
@pass_runtime
def roles(runtime: Runtime, edge_login: str, console_login: str) -> None:
    """Give each tier its own database role (run as the owner, after `ivr db upgrade`).

    Makes the groups ivr_edge and ivr_console with exactly what each tier may do, and each
    login named here a member of its group, with its password from IVR_EDGE_DB_PASSWORD or
    IVR_CONSOLE_DB_PASSWORD (never an argument, which the process list would show).
    """
    url = runtime.config.database_url
    if not url.startswith("postgresql"):
        click.echo("Nothing to do: SQLite is one process, with no roles (the embedded default).")
        return
    logins = []
    wanted: tuple[tuple[db_roles.Tier, str], ...] = (
        ("edge", edge_login),
        ("console", console_login),
    )
    for tier, name in wanted:
        if not name:
            continue
        password = os.environ.get(PASSWORD_VARIABLES[tier], "")
        if len(password) < 16:
            raise click.ClickException(
                f"{PASSWORD_VARIABLES[tier]} must hold the {tier} login's password (16+ characters)"
            )
        logins.append(db_roles.Login(name, tier, password))
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            schema = str(connection.exec_driver_sql("SELECT current_schema()").scalar_one())
            db_roles.apply(connection, schema, logins)
    finally:
        engine.dispose()
    made = ", ".join(f"{login.name} ({login.tier})" for login in logins) or "no logins"
    click.echo(f"Roles ivr_edge and ivr_console hold their grants on {schema}; {made}.")
