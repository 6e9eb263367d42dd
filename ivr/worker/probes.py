"""Ask the services jobs are waiting for whether they answer again; wake the jobs if so.

Stateless, so any number of workers can run it: which services are down is read from
the jobs themselves (``waiting_for``), and whichever worker first gets an answer makes
every job waiting for that service due at once, in every worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ivr.platform.db import Database
from ivr.platform.logs import event
from ivr.platform.outages import Service, ServiceDown
from ivr.telephony import outages
from ivr.telephony.jobs import LeaseQueue

logger = logging.getLogger(__name__)

# A cheap call per service: True, or returning without ServiceDown, means it answered.
Check = Callable[[], object]


class Probes:
    def __init__(
        self,
        queues: Sequence[LeaseQueue[Any]],
        checks: Mapping[Service, Check],
        db: Database | None = None,
    ) -> None:
        self._queues = queues
        self._checks = checks
        self._db = db  # where the outages' start is noted (None: not noted)

    def run(self) -> set[Service]:
        """Probe each service some job waits for; return those found back (their jobs due)."""
        waiting: set[Service] = set()
        for queue in self._queues:
            waiting |= queue.waiting_services()
        back = {service for service in waiting if self._answers(service)}
        for service in back:
            for queue in self._queues:
                queue.wake(service)
            event(logger, "service.back", service=service.value)
        if self._db is not None:
            # Back, or no work waits for it any more (its jobs found it back themselves).
            outages.clear(self._db, back | (set(Service) - waiting))
        return back

    def _answers(self, service: Service) -> bool:
        check = self._checks.get(service)
        if check is None:
            return True  # nothing to ask: let the jobs try, they will wait again if need be
        try:
            return check() is not False
        except ServiceDown:
            return False
        except Exception as error:  # a probe's own surprise: still down, say why once
            event(
                logger,
                "service.probe_failed",
                logging.WARNING,
                service=service.value,
                error=type(error).__name__,
            )
            return False
