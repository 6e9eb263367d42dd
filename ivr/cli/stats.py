"""``ivr stats export``: the publication-safe figures, for a force or a commissioner."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from ivr.cli.runtime import Runtime, pass_runtime
from ivr.models.reports import Force
from ivr.reports.workflow import LANGUAGES
from ivr.stats.export import publish
from ivr.stats.figures import Filters, Period, PeriodError
from ivr.stats.labels import Labels


@click.group()
def stats() -> None:
    """The service's figures."""


@stats.command("export")
@click.option("--force", "force", default="", help='One force, e.g. "Dorset Police".')
@click.option("--from", "first", required=True, help="First month, e.g. 2027-01.")
@click.option("--to", "last", required=True, help="Last month, e.g. 2027-12.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the CSV here (default: print it).",
)
@pass_runtime
def export(runtime: Runtime, force: str, first: str, last: str, output: Path | None) -> None:
    """Print the figures as a CSV fit to publish: small counts are withheld as [c]."""
    try:
        period = Period.parse(first, last)
    except PeriodError as error:
        raise click.BadParameter(str(error)) from None
    built = runtime.services
    labels = Labels(built.flows.current().flow.categories, LANGUAGES)
    force = force.strip()
    with built.db.reading() as session:
        if force and session.scalar(select(Force.name).where(Force.name == force)) is None:
            raise click.BadParameter(
                f"no force is called {force!r} (`ivr forces list` names them)",
                param_hint="--force",
            )
        publication = publish(session, period, Filters(force=force), runtime.config.stats_threshold)
    text = publication.csv(labels)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {len(publication.values)} figures for {period.label()} to {output}.")
