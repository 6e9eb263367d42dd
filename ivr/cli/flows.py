"""``ivr flows``: check call-flow files."""

from __future__ import annotations

from pathlib import Path

import click

from ivr.config import Config
from ivr.flows.loader import FlowInvalid, load_flow_file


@click.group()
def flows() -> None:
    """Check and try the call flows in call_flows/."""


@flows.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check flow FILES (default: the configured flow); print file:line problems."""
    targets = files or (Config.from_env().flow_path,)
    failed = False
    for path in targets:
        try:
            loaded = load_flow_file(path)
        except FlowInvalid as invalid:
            failed = True
            for problem in invalid.problems:
                click.echo(str(problem), err=True)
            click.echo(f"{path}: refused ({len(invalid.problems)} problems)", err=True)
            continue
        steps = len(loaded.flow.steps)
        languages = ", ".join(loaded.flow.languages)
        click.echo(
            f"{path}: valid ({steps} steps; {languages}; version {loaded.content_hash[:12]})"
        )
    if failed:
        raise SystemExit(1)
