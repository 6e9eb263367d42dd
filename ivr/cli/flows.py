"""``ivr flows``: check call-flow files."""

from __future__ import annotations

from pathlib import Path

import click

from ivr.cli.runtime import Runtime, pass_runtime
from ivr.config import Config
from ivr.flows.diagram import DiagramUnavailable, to_svg
from ivr.flows.loader import FlowInvalid, LoadedFlow, load_flow_file, load_flow_text
from ivr.flows.versions import VersionError, diff, events, history, publish, rollback
from ivr.platform.db import Database


@click.group()
def flows() -> None:
    """Check and try the call flows in call_flows/."""


@flows.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@pass_runtime
def validate(runtime: Runtime, files: tuple[Path, ...]) -> None:
    """Check flow FILES (default: the configured flow); print file:line problems."""
    targets = files or (runtime.config.flow_path,)
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


def _checked(path: Path) -> LoadedFlow:
    try:
        return load_flow_file(path)
    except FlowInvalid as invalid:
        for problem in invalid.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{path} was refused: nothing was published") from None


def _flow_name(config: Config, flow: str | None) -> str:
    return flow or load_flow_file(config.flow_path).flow.name


@flows.command("publish")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-m", "--message", required=True, help="What changed, for the history.")
@click.option("--author", default="command line", show_default=True, help="Who is publishing.")
@pass_runtime
def publish_command(runtime: Runtime, file: Path, message: str, author: str) -> None:
    """Check FILE and publish it: every server serves it to new calls within seconds."""
    loaded = _checked(file)
    try:
        result = publish(runtime.services.db, loaded, author, message)
    except VersionError as error:
        raise click.ClickException(str(error)) from None
    if result.changed:
        click.echo(
            f"Published {loaded.flow.name} version {result.number}. Calls in progress finish on the version they started with."
        )
    else:
        click.echo(f"{loaded.flow.name} version {result.number} is already what callers hear.")


@flows.command("history")
@click.argument("flow", required=False)
@pass_runtime
def history_command(runtime: Runtime, flow: str | None) -> None:
    """List FLOW's versions (number, state, when, who, why), then every event, newest first."""
    config = runtime.config
    name = _flow_name(config, flow)
    with Database.from_url(config.database_url).reading() as session:
        versions = history(session, name)
        for version in versions:
            when = version.changed_at.strftime("%Y-%m-%d %H:%M") if version.changed_at else ""
            click.echo(
                f"v{version.number:<4} {version.state.value:<10} {when:<17} {version.author:<16} {version.message}"
            )
        trail = events(session, name)
        if trail:
            click.echo("\nHistory (newest first):")
        for entry in trail:
            which = f"v{entry.number}" if entry.number else ""
            click.echo(
                f"{entry.at:%Y-%m-%d %H:%M}  {entry.action.value:<15} {which:<5} {entry.author:<16} {entry.message}"
            )
    if not versions:
        click.echo("No versions yet: publish one with `ivr flows publish FILE -m MESSAGE`.")


@flows.command("diff")
@click.argument("older", type=int)
@click.argument("newer", type=int)
@click.option("--flow", default=None, help="Which flow (default: IVR_FLOW).")
@pass_runtime
def diff_command(runtime: Runtime, older: int, newer: int, flow: str | None) -> None:
    """Show what changed from version OLDER to version NEWER."""
    config = runtime.config
    try:
        with Database.from_url(config.database_url).reading() as session:
            click.echo(diff(session, _flow_name(config, flow), older, newer) or "No differences.")
    except VersionError as error:
        raise click.ClickException(str(error)) from None


@flows.command("rollback")
@click.argument("number", type=int)
@click.option("--flow", default=None, help="Which flow (default: IVR_FLOW).")
@click.option("--author", default="command line", show_default=True)
@click.option("-m", "--message", default="", help="Why (default: 'rolled back to version NUMBER').")
@pass_runtime
def rollback_command(
    runtime: Runtime, number: int, flow: str | None, author: str, message: str
) -> None:
    """Publish version NUMBER again; the history keeps the reason beside every earlier one."""
    config = runtime.config
    try:
        result = rollback(
            runtime.services.db,
            _flow_name(config, flow),
            number,
            author,
            config.flows_dir,
            message,
        )
    except (VersionError, FlowInvalid) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Version {result.number} is published again.")


@flows.command("diagram")
@click.argument("flow")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True, help="The .svg file to write."
)
@click.option(
    "--version", "number", type=int, default=None, help="A stored version (default: the file)."
)
@pass_runtime
def diagram_command(runtime: Runtime, flow: str, output: Path, number: int | None) -> None:
    """Draw FLOW (a name under call_flows/ or a file) as an SVG graph."""
    config = runtime.config
    path = Path(flow) if flow.endswith((".yaml", ".yml")) else config.flows_dir / f"{flow}.yaml"
    loaded = _checked(path)
    if number is not None:
        with Database.from_url(config.database_url).reading() as session:
            versions = {v.number: v.content for v in history(session, loaded.flow.name)}
        if number not in versions:
            raise click.ClickException(f"{loaded.flow.name} has no version {number}")
        loaded = load_flow_text(versions[number], f"<version {number}>", path.parent)
    try:
        output.write_bytes(to_svg(loaded.flow))
    except DiagramUnavailable as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Wrote {output} ({len(loaded.flow.steps)} steps).")
