"""``ivr worker``, ``ivr jobs``, ``ivr reconcile`` and ``ivr keys``: the ingest side."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from typing import Any

import click

from ivr.cli.runtime import Runtime, pass_runtime
from ivr.config import Config, Tier
from ivr.crypto.keys import (
    PUBLIC_KEY_FILE,
    KeyServiceError,
    ensure_local_key_pair,
    rotate_local_key_pair,
)
from ivr.models.calls import JobState
from ivr.ops.alarms import AlarmGauges, send_forever
from ivr.services import Services
from ivr.telephony.jobs import CallLogQueue, JobQueue
from ivr.worker.reconcile import reconcile as reconcile_recordings
from ivr.worker.runner import build_worker


@click.command()
@click.option("--drain", is_flag=True, help="Run every due job, then exit (instead of running on).")
@pass_runtime
def worker(runtime: Runtime, drain: bool) -> None:
    """Fetch, clean, encrypt and store recordings; erase them and call logs at Twilio."""
    job_worker = build_worker(runtime.services)
    if drain:
        click.echo(f"Ran {job_worker.drain()} jobs.")
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    services = runtime.services
    # The gauges alarms read (infra/alarms.yaml), sent each minute beside the jobs.
    threading.Thread(
        target=send_forever,
        args=(AlarmGauges(services.db), services.alarm_metrics, stop),
        name="alarm-gauges",
        daemon=True,
    ).start()
    click.echo("Worker running; Ctrl-C stops it after the current job.")
    job_worker.run_forever(stop)


@click.group(invoke_without_command=True)
@click.option(
    "--state",
    type=click.Choice([s.value for s in JobState]),
    default=None,
    help="Only jobs in this state (default: all).",
)
@click.pass_context
def jobs(context: click.Context, state: str | None) -> None:
    """List jobs (fetch a recording; erase a call log): state, attempts, the last error."""
    if context.invoked_subcommand is not None:
        return
    runtime = context.ensure_object(Runtime)
    fetches, call_logs = _queues(runtime.services)
    wanted = JobState(state) if state else None
    rows = [
        (str(job.id), job.state, job.stage.value, job.attempts, job.last_error)
        for job in fetches.jobs(wanted)
    ]
    rows += [
        (f"{CALL_LOG_PREFIX}{job.id}", job.state, "call log", job.attempts, job.last_error)
        for job in call_logs.jobs(wanted)
    ]
    if not rows:
        click.echo("No jobs.")
        return
    click.echo(f"{'job':>8}  {'state':<9}  {'stage':<8}  {'attempts':>8}  last error")
    for name, job_state, stage, attempts, last_error in rows:
        click.echo(
            f"{name:>8}  {job_state.value:<9}  {stage:<8}  {attempts:>8}  {last_error or ''}"
        )
    failed = sum(row[1] is JobState.FAILED for row in rows)
    if failed:
        click.echo(
            f"\n{failed} failed: fix the cause, then `ivr jobs retry --all-failed` (or a job number)."
        )


@jobs.command()
@click.argument("job_ids", nargs=-1)
@click.option("--all-failed", is_flag=True, help="Retry every failed job, of either kind.")
@pass_runtime
def retry(runtime: Runtime, job_ids: tuple[str, ...], all_failed: bool) -> None:
    """Put failed jobs back in the queue with fresh attempts (e.g. 12, log-3)."""
    if not job_ids and not all_failed:
        raise click.UsageError("name jobs as `ivr jobs` lists them, or pass --all-failed")
    fetch_ids: list[int] = []
    call_log_ids: list[int] = []
    for name in job_ids:
        number = name.removeprefix(CALL_LOG_PREFIX)
        if not (number.isascii() and number.isdigit()):
            raise click.BadParameter(f"{name!r} is not a job as `ivr jobs` lists it")
        (call_log_ids if name.startswith(CALL_LOG_PREFIX) else fetch_ids).append(int(number))
    fetches, call_logs = _queues(runtime.services)
    count = fetches.retry_failed(None if all_failed else fetch_ids)
    count += call_logs.retry_failed(None if all_failed else call_log_ids)
    click.echo(f"{count} job(s) queued again.")


# Call log erasures are numbered apart from fetch jobs: `ivr jobs` shows them as log-N.
CALL_LOG_PREFIX = "log-"


def _queues(services: Services) -> tuple[JobQueue, CallLogQueue]:
    # The worker's own queues, retry policy and all: the CLI cannot drift from them.
    return services.jobs, services.call_logs


@click.command()
@click.option(
    "--grace",
    type=int,
    default=None,
    help="Skip recordings younger than this many seconds (default: IVR_RECONCILE_GRACE_SECONDS).",
)
@pass_runtime
def reconcile(runtime: Runtime, grace: int | None) -> None:
    """Ingest recordings held at Twilio that no callback told us about."""
    config = runtime.config
    found = reconcile_recordings(
        runtime.services.db,
        runtime.services.twilio,
        config.secret_key,
        timedelta(seconds=config.reconcile_grace_seconds if grace is None else grace),
    )
    click.echo(f"{found} recording(s) found at Twilio without a report; queued for fetching.")


@click.group()
def keys() -> None:
    """Manage the local key pair that protects recordings (IVR_KEY_SERVICE=local)."""


@keys.command("init")
@click.option(
    "--public-out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also write the public half here, to hand to the edge.",
)
@pass_runtime
def keys_init(runtime: Runtime, public_out: str | None) -> None:
    """Create the key pair under IVR_KEYS_DIR (console side) and show its public half."""
    config = runtime.config
    _refuse_on_the_edge(config, "init")
    try:
        made = ensure_local_key_pair(config.keys_dir)
    except KeyServiceError as error:
        raise click.ClickException(str(error)) from None
    public = _public_half(config, public_out)
    state = "Made a new key pair" if made else "The key pair is already there"
    click.echo(
        f"{state} in {config.keys_dir}. Keep the private half on the console side only.\n"
        f"Give the edge this public half, as {PUBLIC_KEY_FILE} in its IVR_KEYS_DIR or as "
        "IVR_RECORDINGS_PUBLIC_KEY:\n"
    )
    click.echo(public, nl=False)


def _refuse_on_the_edge(config: Config, command: str) -> None:
    if config.tier is Tier.EDGE:
        raise click.ClickException(
            f"the edge never makes or holds a private key: run `ivr keys {command}` on the "
            "console side and give the edge the public half it prints"
        )


def _public_half(config: Config, public_out: str | None) -> str:
    """The key pair's public half, for the edge; also written to ``public_out`` if given."""
    public = (config.keys_dir / PUBLIC_KEY_FILE).read_text()
    if public_out:
        with open(public_out, "w") as handle:
            handle.write(public)
    return public


@keys.command("rotate")
@click.option(
    "--public-out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also write the new public half here, to hand to the edge.",
)
@pass_runtime
def keys_rotate(runtime: Runtime, public_out: str | None) -> None:
    """Make a new key pair, keeping the old private half to play what was sealed for it."""
    config = runtime.config
    _refuse_on_the_edge(config, "rotate")
    if config.key_service == "kms":
        raise click.ClickException(
            "with IVR_KEY_SERVICE=kms the key is rotated by KMS itself (automatic rotation "
            "is on in infra/data.yaml); old recordings stay playable, nothing to do here"
        )
    try:
        old, new = rotate_local_key_pair(config.keys_dir)
    except KeyServiceError as error:
        raise click.ClickException(str(error)) from None
    public = _public_half(config, public_out)
    click.echo(
        f"Retired key {old.hex()} (kept under {config.keys_dir}/retired: recordings sealed "
        f"for it still play) and made key {new.hex()}.\n"
        "Now: 1. restart the console, so that it holds the new private half; "
        "2. give the edge this public half (as "
        f"{PUBLIC_KEY_FILE} in its IVR_KEYS_DIR or IVR_RECORDINGS_PUBLIC_KEY) and restart "
        "it. Until then the edge seals for the old key, which the console still holds.\n"
    )
    click.echo(public, nl=False)


def start_worker_thread(services: Services) -> Any:
    """Run a job worker inside a web process (``ivr serve --with-worker``)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=build_worker(services).run_forever, args=(stop,), name="ivr-worker", daemon=True
    )
    thread.start()
    return stop
