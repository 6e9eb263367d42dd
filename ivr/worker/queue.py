"""Claim fetch jobs, renew and release their leases, retry with backoff, park failures.

Any number of workers on any number of machines share the jobs. On PostgreSQL a worker
claims with ``FOR UPDATE SKIP LOCKED``, so claimers never wait on each other; on every
backend the claim itself is a conditional UPDATE, so two workers can never both win.
A claim is a lease: if its worker dies, the lease expires and another worker carries
on from the last stage saved. Every write a worker makes is fenced by its lease, so a
worker that stalled past its lease cannot overwrite its successor's progress.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ivr.db import Database, utcnow
from ivr.logs import event
from ivr.models import JobStage, JobState, RecordingJob

logger = logging.getLogger(__name__)

ACTIVE_STATES = (JobState.PENDING, JobState.DISCARDED)


class LeaseLost(Exception):
    """Another worker holds this job now; stop working on it."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    base_seconds: float = 5.0
    max_seconds: float = 3600.0

    def delay(self, attempts: int) -> timedelta:
        """Exponential backoff with full jitter: spreads retries after an outage."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


class JobQueue:
    def __init__(self, db: Database, lease: timedelta, policy: RetryPolicy) -> None:
        self._db = db
        self._lease = lease
        self.policy = policy

    def claim(self, owner: str) -> int | None:
        """Lease the oldest job that is due; return its id, or None if there is none."""
        now = utcnow()
        due = (
            RecordingJob.state.in_(ACTIVE_STATES),
            RecordingJob.stage != JobStage.FINISHED,
            or_(RecordingJob.not_before.is_(None), RecordingJob.not_before <= now),
            or_(RecordingJob.lease_expires.is_(None), RecordingJob.lease_expires <= now),
        )
        try:
            with self._db.transaction() as session:
                job_id = session.scalar(
                    select(RecordingJob.id)
                    .where(*due)
                    .order_by(RecordingJob.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                if job_id is None:
                    return None
                claimed = session.execute(
                    update(RecordingJob)
                    .where(RecordingJob.id == job_id, *due)
                    .values(
                        lease_owner=owner,
                        lease_expires=now + self._lease,
                        attempts=RecordingJob.attempts + 1,
                    )
                )
                if getattr(claimed, "rowcount", 0) != 1:
                    return None
        except OperationalError:
            # SQLite: another worker wrote first. The job is theirs or still due; look again.
            return None
        return int(job_id)

    def fenced(self, session: Session, job_id: int, owner: str) -> RecordingJob:
        """Return the job locked for update, if ``owner`` still holds its lease."""
        job = session.scalars(
            select(RecordingJob).where(RecordingJob.id == job_id).with_for_update()
        ).first()
        if job is None or job.lease_owner != owner:
            raise LeaseLost(job_id)
        job.lease_expires = utcnow() + self._lease
        return job

    def retry_later(self, job_id: int, owner: str, error: str) -> None:
        """Record a failure that may pass; park the job once its attempts are used up."""
        with self._db.transaction() as session:
            job = self.fenced(session, job_id, owner)
            job.last_error = error
            job.lease_owner = None
            job.lease_expires = None
            if job.attempts >= self.policy.max_attempts:
                self._park(job, f"gave up after {job.attempts} attempts: {error}")
            else:
                job.not_before = utcnow() + self.policy.delay(job.attempts)
                event(
                    logger,
                    "job.retry",
                    logging.WARNING,
                    job=job_id,
                    attempt=job.attempts,
                    stage=job.stage.value,
                    error=error,
                )

    def park(self, job_id: int, owner: str, error: str) -> None:
        """Fail the job now: it needs a person (e.g. the recording is not audio)."""
        with self._db.transaction() as session:
            job = self.fenced(session, job_id, owner)
            job.lease_owner = None
            job.lease_expires = None
            self._park(job, error)

    def _park(self, job: RecordingJob, error: str) -> None:
        # The recording stays at Twilio: nothing is erased that we do not hold.
        job.state = JobState.FAILED
        job.last_error = error
        job.not_before = None
        event(logger, "job.parked", logging.ERROR, job=job.id, stage=job.stage.value, error=error)

    def retry_failed(self, job_ids: list[int] | None = None) -> int:
        """Put parked jobs back in the queue with fresh attempts; return how many."""
        with self._db.transaction() as session:
            query = update(RecordingJob).where(RecordingJob.state == JobState.FAILED)
            if job_ids is not None:
                query = query.where(RecordingJob.id.in_(job_ids))
            result = session.execute(
                query.values(state=JobState.PENDING, attempts=0, not_before=None, last_error=None)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def jobs(self, state: JobState | None = None) -> list[RecordingJob]:
        with self._db.transaction() as session:
            query = select(RecordingJob).order_by(RecordingJob.id)
            if state is not None:
                query = query.where(RecordingJob.state == state)
            return list(session.scalars(query))
