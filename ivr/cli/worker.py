"""``ivr worker``, ``ivr jobs``, ``ivr reconcile`` and ``ivr keys``: the ingest side."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from typing import Any

import click

from ivr import adapters
from ivr.config import Config
from ivr.crypto.keys import ensure_local_key_pair
from ivr.db import Database
from ivr.logs import configure_logging
from ivr.models import JobState
from ivr.worker.queue import JobQueue, RetryPolicy
from ivr.worker.reconcile import reconcile as reconcile_recordings
from ivr.worker.runner import build_worker


def _database(config: Config) -> Database:
    configure_logging(config.log_level)
    return Database.from_url(config.database_url)


@click.command()
@click.option("--drain", is_flag=True, help="Run every due job, then exit (instead of running on).")
def worker(drain: bool) -> None:
    """Fetch, clean, encrypt and store recordings; erase them at Twilio; queue reports."""
    config = Config.from_env()
    job_worker = build_worker(config, _database(config))
    if drain:
        click.echo(f"Ran {job_worker.drain()} jobs.")
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
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
    """List fetch jobs: state, stage, attempts and the last error."""
    if context.invoked_subcommand is not None:
        return
    config = Config.from_env()
    queue = _queue(config)
    listed = queue.jobs(JobState(state) if state else None)
    if not listed:
        click.echo("No jobs.")
        return
    click.echo(f"{'job':>6}  {'state':<9}  {'stage':<8}  {'attempts':>8}  last error")
    for job in listed:
        click.echo(
            f"{job.id:>6}  {job.state.value:<9}  {job.stage.value:<8}  {job.attempts:>8}  "
            f"{job.last_error or ''}"
        )
    failed = sum(job.state is JobState.FAILED for job in listed)
    if failed:
        click.echo(
            f"\n{failed} failed: fix the cause, then `ivr jobs retry --all-failed` (or a job number)."
        )


@jobs.command()
@click.argument("job_ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Retry every failed job.")
def retry(job_ids: tuple[int, ...], all_failed: bool) -> None:
    """Put failed jobs back in the queue with fresh attempts."""
    if not job_ids and not all_failed:
        raise click.UsageError("name job numbers, or pass --all-failed")
    count = _queue(Config.from_env()).retry_failed(None if all_failed else list(job_ids))
    click.echo(f"{count} job(s) queued again.")


def _queue(config: Config) -> JobQueue:
    return JobQueue(
        _database(config),
        timedelta(seconds=config.job_lease_seconds),
        RetryPolicy(config.job_max_attempts),
    )


@click.command()
@click.option(
    "--grace",
    type=int,
    default=None,
    help="Skip recordings younger than this many seconds (default: IVR_RECONCILE_GRACE_SECONDS).",
)
def reconcile(grace: int | None) -> None:
    """Ingest recordings held at Twilio that no callback told us about."""
    config = Config.from_env()
    found = reconcile_recordings(
        _database(config),
        adapters.twilio_api(config),
        config.secret_key,
        timedelta(seconds=config.reconcile_grace_seconds if grace is None else grace),
    )
    click.echo(f"{found} recording(s) found at Twilio without a report; queued for fetching.")


@click.group()
def keys() -> None:
    """Manage the local key pair that protects recordings (IVR_KEY_SERVICE=local)."""


@keys.command("init")
def keys_init() -> None:
    """Create the key pair under IVR_KEYS_DIR if it does not exist."""
    config = Config.from_env()
    ensure_local_key_pair(config.keys_dir)
    click.echo(
        f"Key pair ready in {config.keys_dir} (keep the private half on the console side only)."
    )


def start_worker_thread(config: Config, db: Database) -> Any:
    """Run a job worker inside a web process (``ivr serve --with-worker``)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=build_worker(config, db).run_forever, args=(stop,), name="ivr-worker", daemon=True
    )
    thread.start()
    return stop
