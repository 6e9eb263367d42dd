"""The worker process: claim and run jobs; now and then reconcile and sweep.

Two kinds of job, taken in turn: fetching recordings and erasing call logs. While a
job runs, a heartbeat keeps its lease, so a dead worker's jobs are taken over within
a lease length (30 s by default) and a slow one keeps its own.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from ivr.config import ConfigError
from ivr.outside.twilio_api import TwilioUnavailable
from ivr.platform.logs import event
from ivr.platform.outages import Service
from ivr.reports.retention import purge_as_configured
from ivr.telephony.calls import sweep_expired_calls
from ivr.telephony.jobs import CallLogQueue, JobQueue, LeaseQueue
from ivr.worker.erasure import CallLogEraser
from ivr.worker.ingest import Ingester
from ivr.worker.probes import Probes
from ivr.worker.reconcile import reconcile

if TYPE_CHECKING:
    from ivr.services import Services

logger = logging.getLogger(__name__)


class JobRunner(Protocol):
    def run(self, job_id: int, owner: str) -> None:
        """Carry the job as far as it goes; record a failure on the job itself."""


class Worker:
    def __init__(
        self,
        queue: JobQueue,
        ingester: Ingester,
        *,
        erasures: tuple[CallLogQueue, CallLogEraser] | None = None,
        poll_seconds: float = 1.0,
        periodic: list[tuple[float, Callable[[], object]]] | None = None,
        probes: tuple[float, Probes] | None = None,
    ) -> None:
        self.owner = secrets.token_hex(8)
        self._kinds: list[tuple[LeaseQueue[Any], JobRunner]] = [(queue, ingester)]
        if erasures is not None:
            self._kinds.append(erasures)
        self._poll = poll_seconds
        # (interval in seconds, task): reconciliation, sweeping stale call state, and asking
        # the services jobs wait for whether they are back.
        tasks = list(periodic or [])
        self._probes: Probes | None = None
        if probes is not None:
            interval, self._probes = probes
            tasks.append((interval, self._probes.run))
        self._periodic = [(interval, task, 0.0) for interval, task in tasks]

    def run_once(self) -> int:
        """Run one due job of each kind to its end (or its next retry); return how many ran."""
        ran = 0
        for queue, runner in self._kinds:
            job_id = queue.claim(self.owner)
            if job_id is None:
                continue
            with queue.heartbeat(job_id, self.owner):
                runner.run(job_id, self.owner)
            ran += 1
        return ran

    def probe(self) -> None:
        """Ask the services jobs are waiting for whether they are back (now, not on schedule)."""
        if self._probes is not None:
            self._probes.run()

    def drain(self) -> int:
        """Run jobs until none is due; return how many were run."""
        count = 0
        while ran := self.run_once():
            count += ran
        return count

    def run_forever(self, stop: threading.Event) -> None:
        event(logger, "worker.started", owner=self.owner)
        while not stop.is_set():
            self._run_periodic()
            try:
                busy = self.run_once()
            except Exception:
                logger.exception("worker.loop_failed")
                busy = False
            if not busy:
                stop.wait(self._poll)
        event(logger, "worker.stopped", owner=self.owner)

    def _run_periodic(self) -> None:
        now = time.monotonic()
        for index, (interval, task, last) in enumerate(self._periodic):
            if now - last >= interval:
                self._periodic[index] = (interval, task, now)
                try:
                    task()
                except TwilioUnavailable as error:
                    event(logger, "worker.periodic_postponed", logging.WARNING, error=str(error))
                except Exception:
                    logger.exception("worker.periodic_failed")


def _probes(services: Services) -> Probes:
    """A cheap call to each service a job can wait for: the store, the keys, Twilio."""
    store, keys, twilio = services.store, services.key_wrapper, services.twilio
    return Probes(
        (services.jobs, services.call_logs),
        {
            Service.STORE: store.answers,
            # A data key asked for and thrown away: KMS's cheapest call that needs its key.
            Service.KEYS: lambda: keys.generate({"purpose": "probe"}),
            Service.TWILIO: twilio.account_status,
        },
        db=services.db,
    )


def build_worker(services: Services) -> Worker:
    """Assemble a worker from what ``services`` built: its queues, runners and schedule."""
    config, db = services.config, services.db
    if not config.serves_webhooks:
        raise ConfigError("the job worker belongs to the edge tier (IVR_TIER=edge or all)")
    twilio, store = services.twilio, services.store
    periodic: list[tuple[float, Callable[[], object]]] = [
        (
            config.reconcile_interval_seconds,
            lambda: reconcile(
                db, twilio, config.secret_key, timedelta(seconds=config.reconcile_grace_seconds)
            ),
        ),
        (600.0, lambda: sweep_expired_calls(db)),
    ]
    if config.serves_console:
        # Retention blanks report text and audits it: the console's work, which an edge
        # worker's database role may not do (the console's web processes do it there).
        periodic.append((86400.0, lambda: purge_as_configured(db, store, config)))
    return Worker(
        services.jobs,
        services.ingester,
        erasures=(services.call_logs, services.call_log_eraser),
        poll_seconds=config.worker_poll_seconds,
        periodic=periodic,
        probes=(config.outage_probe_seconds, _probes(services)),
    )
