"""The ``ivr`` command: run, migrate, check flows, place test calls."""

from __future__ import annotations

from typing import Any

import click

from ivr.cli.calls import call, simulate
from ivr.cli.console import audit_group, forces, purge, users
from ivr.cli.db import db
from ivr.cli.doctor import doctor
from ivr.cli.flows import flows
from ivr.cli.serve import serve, twilio_emulator
from ivr.cli.stats import stats
from ivr.cli.twilio import twilio
from ivr.cli.worker import jobs, keys, reconcile, worker
from ivr.config import ConfigError


class _Main(click.Group):
    """The command group, answering a bad setting with its message, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            raise click.ClickException(f"cannot start: {error}") from None


@click.group(cls=_Main)
def main() -> None:
    """The anonymous reporting hotline's telephony backend."""


main.add_command(db)
main.add_command(serve)
main.add_command(twilio_emulator)
main.add_command(twilio)
main.add_command(call)
main.add_command(flows)
main.add_command(worker)
main.add_command(jobs)
main.add_command(reconcile)
main.add_command(keys)
main.add_command(users)
main.add_command(purge)
main.add_command(audit_group)
main.add_command(forces)
main.add_command(doctor)
main.add_command(stats)
flows.add_command(simulate)
