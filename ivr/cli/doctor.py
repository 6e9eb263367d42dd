"""``ivr doctor``: is this tier ready to serve?"""

from __future__ import annotations

import click

from ivr.cli.runtime import Runtime, pass_runtime
from ivr.config import ConfigError
from ivr.ops.doctor import Verdict, diagnose


@click.command()
@click.option(
    "--worker-only",
    is_flag=True,
    help="This process runs only `ivr worker`: skip the web's spool check.",
)
@pass_runtime
def doctor(runtime: Runtime, worker_only: bool) -> None:
    """Check this tier's settings against its database, keys, store, Twilio and URL."""
    try:
        config = runtime.config
    except ConfigError as error:
        click.echo(f"FAIL  config      {error} -> fix: change that setting, then run again")
        raise SystemExit(1) from None
    failed = 0
    for check in diagnose(config, web=not worker_only):
        click.echo(check.line())
        failed += check.verdict is Verdict.FAIL
    if failed:
        click.echo(f"\n{failed} check(s) failed.")
        raise SystemExit(1)
    click.echo("\nAll checks passed.")
