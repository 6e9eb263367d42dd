"""Claim jobs, keep their leases alive, retry with backoff, park failures.

Any number of workers on any number of machines share the jobs. On PostgreSQL a worker
claims with ``FOR UPDATE SKIP LOCKED``, so claimers never wait on each other; on every
backend the claim itself is a conditional UPDATE, so two workers can never both win.
A claim is a short lease that a heartbeat renews while the worker lives: if the worker
dies, the lease lapses within ``IVR_JOB_LEASE_SECONDS`` and another worker carries on
from the last stage saved. Every write a worker makes is fenced by its lease, so a
worker that stalled past its lease cannot overwrite its successor's progress.

Two kinds of job share this machinery: fetching a recording (:class:`JobQueue`) and
erasing a call's log at Twilio (:class:`CallLogQueue`).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ivr.models.calls import CallLogErasure, JobStage, JobState, LeasedJob, RecordingJob
from ivr.platform.db import Database, utcnow
from ivr.platform.logs import event, redact
from ivr.platform.outages import Service, ServiceDown
from ivr.reports import lifecycle
from ivr.telephony import outages

logger = logging.getLogger(__name__)

ACTIVE_STATES = (JobState.PENDING, JobState.DISCARDED)

J = TypeVar("J", bound=LeasedJob)


class LeaseLost(Exception):
    """Another worker holds this job now; stop working on it."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    base_seconds: float = 5.0
    max_seconds: float = 3600.0
    # A job waiting for a service is woken the moment a probe finds it back; this is only
    # how long it waits if no worker is probing (all of them stopped, say).
    outage_recheck_seconds: float = 60.0

    def delay(self, attempts: int) -> timedelta:
        """Exponential backoff with full jitter: spreads retries after an outage."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


class LeaseQueue(Generic[J]):
    """The jobs of one table: claim, fence, renew, retry, defer, park."""

    kind = "job"  # what `ivr jobs` and the logs call this kind

    def __init__(self, db: Database, lease: timedelta, policy: RetryPolicy, model: type[J]) -> None:
        self._db = db
        self._lease = lease
        self._model = model
        self.policy = policy

    def _due(self, now: datetime) -> tuple[ColumnElement[bool], ...]:
        model = self._model
        return (
            *self._unfinished(),
            or_(model.not_before.is_(None), model.not_before <= now),
            or_(model.lease_expires.is_(None), model.lease_expires <= now),
        )

    def _unfinished(self) -> tuple[ColumnElement[bool], ...]:
        return (self._model.state == JobState.PENDING,)

    def _parked(self, session: Session, job: J) -> None:
        """Hook: what else changes, in the same transaction, when a job is parked."""

    def _retried(self, session: Session, job: J) -> None:
        """Hook: what else changes, in the same transaction, when a parked job is retried."""

    def claim(self, owner: str) -> int | None:
        """Lease the oldest job that is due; return its id, or None if there is none."""
        model = self._model
        now = utcnow()
        due = self._due(now)
        try:
            with self._db.transaction() as session:
                found = session.execute(
                    select(model.id, model.attempts)
                    .where(*due)
                    .order_by(model.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).first()
                if found is None:
                    return None
                job_id, attempts = found
                if attempts >= self.policy.max_attempts:
                    # Every attempt was claimed and none reported back: its workers died
                    # on it (killed, out of memory). A job that kills workers is parked too.
                    self._park_abandoned(session, job_id, attempts)
                    return None
                claimed = session.execute(
                    update(model)
                    .where(model.id == job_id, *due)
                    .values(
                        lease_owner=owner,
                        lease_expires=now + self._lease,
                        attempts=model.attempts + 1,
                        waiting_for=None,
                    )
                )
                if getattr(claimed, "rowcount", 0) != 1:
                    return None
        except OperationalError:
            # SQLite: another worker wrote first. The job is theirs or still due; look again.
            return None
        return int(job_id)

    def _park_abandoned(self, session: Session, job_id: int, attempts: int) -> None:
        job = session.get(self._model, job_id)
        assert job is not None
        job.lease_owner = None
        job.lease_expires = None
        self._park(session, job, f"its worker stopped during each of {attempts} attempts")

    def fenced(self, session: Session, job_id: int, owner: str) -> J:
        """Return the job locked for update, if ``owner`` still holds its lease."""
        job = session.scalars(
            select(self._model).where(self._model.id == job_id).with_for_update()
        ).first()
        if job is None or job.lease_owner != owner:
            raise LeaseLost(job_id)
        job.lease_expires = utcnow() + self._lease
        return job

    def renew(self, job_id: int, owner: str) -> bool:
        """Extend ``owner``'s lease; False if it no longer holds the job."""
        model = self._model
        with self._db.transaction() as session:
            renewed = session.execute(
                update(model)
                .where(model.id == job_id, model.lease_owner == owner)
                .values(lease_expires=utcnow() + self._lease)
            )
            return getattr(renewed, "rowcount", 0) == 1

    @contextmanager
    def heartbeat(self, job_id: int, owner: str) -> Iterator[threading.Event]:
        """Renew the lease every third of its length while the job runs.

        Yields an event that is set if another worker has taken the job. A worker that
        dies stops beating, so its lease lapses within one lease length: short leases
        let a restarted service take over at once, yet a long fetch keeps its job.
        """
        lost = threading.Event()
        done = threading.Event()
        interval = self._lease.total_seconds() / 3

        def beat() -> None:
            while not done.wait(interval):
                try:
                    if not self.renew(job_id, owner):
                        lost.set()
                        return
                except Exception as error:  # the database may be down: keep trying
                    event(
                        logger,
                        "job.heartbeat_failed",
                        logging.WARNING,
                        kind=self.kind,
                        error=type(error).__name__,
                    )

        thread = threading.Thread(target=beat, name=f"lease-{self.kind}-{job_id}", daemon=True)
        thread.start()
        try:
            yield lost
        finally:
            done.set()
            thread.join(timeout=self._lease.total_seconds())

    def retry_later(self, job_id: int, owner: str, error: str) -> None:
        """Record a failed attempt; park the job once its attempts are used up."""
        error = redact(error)  # shown to supervisors and operators: no SID, no number
        with self._db.transaction() as session:
            job = self.fenced(session, job_id, owner)
            job.last_error = error
            job.lease_owner = None
            job.lease_expires = None
            job.waiting_for = None
            if job.attempts >= self.policy.max_attempts:
                self._park(session, job, f"gave up after {job.attempts} attempts: {error}")
            else:
                job.not_before = utcnow() + self.policy.delay(job.attempts)
                # Neither the job's id nor its attempt: both are kept on the job's row.
                event(logger, "job.retry", logging.WARNING, kind=self.kind, error=error)

    def defer(
        self,
        job_id: int,
        owner: str,
        delay: timedelta,
        reason: str,
        only_if: Callable[[Session], bool] = lambda session: True,
    ) -> bool:
        """Come back to the job later without counting an attempt: it is waiting, not failing.

        ``only_if`` is asked under the job's lock, so that whatever ends the wait either
        shows there or, committing later, can bring the job forward. Returns False, and
        defers nothing, if it says the wait is over.
        """
        with self._db.transaction() as session:
            job = self.fenced(session, job_id, owner)
            if not only_if(session):
                return False
            job.attempts = max(0, job.attempts - 1)  # give back what the claim counted
            job.lease_owner = None
            job.lease_expires = None
            job.not_before = utcnow() + delay
        event(logger, "job.deferred", kind=self.kind, reason=reason)
        return True

    def wait_for(self, job_id: int, owner: str, down: ServiceDown) -> None:
        """Put the job aside until ``down.service`` answers again, spending no attempt.

        The service's outage is not the job's failure: however long it lasts, the job is
        neither parked nor backed off past it (a probe wakes it, see :meth:`wake`).
        """
        service = down.service
        with self._db.transaction() as session:
            job = self.fenced(session, job_id, owner)
            job.attempts = max(0, job.attempts - 1)  # give back what the claim counted
            job.lease_owner = None
            job.lease_expires = None
            job.waiting_for = service.value
            job.last_error = redact(f"waiting for {service.described}: {down}")
            outages.note(session, service)
            job.not_before = utcnow() + timedelta(seconds=self.policy.outage_recheck_seconds)
        event(logger, "job.waiting", logging.WARNING, kind=self.kind, service=service.value)

    def wake(self, service: Service) -> int:
        """Make every job waiting for ``service`` due now (it answered); return how many."""
        model = self._model
        with self._db.transaction() as session:
            woken = session.execute(
                update(model)
                .where(model.waiting_for == service.value, *self._unfinished())
                .values(not_before=None)
            )
            return int(getattr(woken, "rowcount", 0) or 0)

    def waiting_services(self) -> set[Service]:
        """The services some unfinished job of this kind is waiting for."""
        model = self._model
        with self._db.transaction() as session:
            found = session.scalars(
                select(model.waiting_for)
                .where(model.waiting_for.is_not(None), *self._unfinished())
                .distinct()
            )
            known = {service.value: service for service in Service}
            return {known[value] for value in found if value in known}

    def park(self, job_id: int, owner: str, error: str) -> None:
        """Fail the job now: it needs a person (e.g. the recording is not audio)."""
        with self._db.transaction() as session:
            job = self.fenced(session, job_id, owner)
            job.lease_owner = None
            job.lease_expires = None
            self._park(session, job, redact(error))

    def _park(self, session: Session, job: J, error: str) -> None:
        job.state = JobState.FAILED
        job.last_error = error
        job.not_before = None
        self._parked(session, job)
        event(logger, "job.parked", logging.ERROR, kind=self.kind, error=error)

    def retry_failed(self, job_ids: list[int] | None = None) -> int:
        """Put parked jobs back in the queue with fresh attempts; return how many."""
        model = self._model
        with self._db.transaction() as session:
            query = select(model).where(model.state == JobState.FAILED).with_for_update()
            if job_ids is not None:
                query = query.where(model.id.in_(job_ids))
            parked = list(session.scalars(query))
            for job in parked:
                job.state = JobState.PENDING
                job.attempts = 0
                job.not_before = None
                job.last_error = None
                self._retried(session, job)
            return len(parked)

    def jobs(self, state: JobState | None = None) -> list[J]:
        with self._db.transaction() as session:
            query = select(self._model).order_by(self._model.id)
            if state is not None:
                query = query.where(self._model.state == state)
            return list(session.scalars(query))


class JobQueue(LeaseQueue[RecordingJob]):
    """Fetch jobs: one per recording, carried through saved stages (see ingest.py)."""

    kind = "fetch"

    def __init__(self, db: Database, lease: timedelta, policy: RetryPolicy) -> None:
        super().__init__(db, lease, policy, RecordingJob)

    def _unfinished(self) -> tuple[ColumnElement[bool], ...]:
        # A discarded take is still work: our copy, if any, and Twilio's must be erased.
        return (RecordingJob.state.in_(ACTIVE_STATES), RecordingJob.stage != JobStage.FINISHED)

    def _parked(self, session: Session, job: RecordingJob) -> None:
        # The recording stays at Twilio: nothing is erased that we do not hold. Its report
        # is shown to supervisors as "audio failed", with the job's reason.
        lifecycle.mark_audio_failed(session, job.report_id)

    def _retried(self, session: Session, job: RecordingJob) -> None:
        lifecycle.await_audio_again(session, job.report_id)


class CallLogQueue(LeaseQueue[CallLogErasure]):
    """Call log erasures: one per ended call, deleted once Twilio has erased the log."""

    kind = "call-log"

    def __init__(self, db: Database, lease: timedelta, policy: RetryPolicy) -> None:
        super().__init__(db, lease, policy, CallLogErasure)
