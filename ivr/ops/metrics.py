"""Prometheus metrics: queue health, read from the database at each scrape.

Counting in the database (not in per-process counters) gives the same answer whichever
web process is scraped and includes jobs run by separate worker processes. Labels are
states and stages only: nothing about a caller or a call can become a label.

The route that serves them, behind its token, is in ``ivr.ops.health``.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.models.calls import CallLogErasure, JobState, RecordingJob
from ivr.models.reports import Dissemination, Report, ReportStatus
from ivr.platform.db import Database, utcnow
from ivr.platform.outages import Service
from ivr.reports.followup import HOURLY_FAILURE_LIMIT, failures_this_hour
from ivr.reports.workflow import PENDING
from ivr.telephony import outages


class QueueCollector(Collector):
    def __init__(self, db: Database) -> None:
        self._db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = GaugeMetricFamily(
            "ivr_recording_jobs",
            "Fetch jobs by state (failed: parked, needs a person).",
            labels=["state"],
        )
        erasures = GaugeMetricFamily(
            "ivr_call_log_erasures",
            "Call logs still to erase at Twilio, by state (done ones leave no row).",
            labels=["state"],
        )
        reports = GaugeMetricFamily(
            "ivr_reports", "Reports by status (audio_failed: needs a person).", labels=["status"]
        )
        followups = GaugeMetricFamily(
            "ivr_followup_failed_attempts_this_hour",
            f"Failed follow-up attempts (wrong reference or PIN) this clock hour; at "
            f"{HOURLY_FAILURE_LIMIT} every attempt is refused until the hour ends.",
        )
        waiting = GaugeMetricFamily(
            "ivr_jobs_waiting_for_service",
            "Jobs put aside, without spending attempts, until an outside service answers "
            "again (store, keys, twilio); nonzero means that service is down for the worker.",
            labels=["service"],
        )
        waited = GaugeMetricFamily(
            "ivr_service_waited_seconds",
            "How long work has waited for an outside service that is down (0: none waits).",
            labels=["service"],
        )
        emails = GaugeMetricFamily(
            "ivr_emails_to_forces_pending",
            "Disseminations by email the mail server has not taken yet (sent when it answers).",
        )
        with self._db.reading() as session:  # a scrape must not wait for the write lock
            followups.add_metric([], failures_this_hour(session))
            emails.add_metric(
                [],
                session.scalar(
                    select(func.count())
                    .select_from(Dissemination)
                    .where(Dissemination.delivery == PENDING)
                )
                or 0,
            )
            waiting_counts = _waiting_for_services(session)
            down_since = outages.noted(session)
            job_counts: dict[JobState, int] = {
                state: count
                for state, count in session.execute(
                    select(RecordingJob.state, func.count()).group_by(RecordingJob.state)
                ).tuples()
            }
            erasure_counts: dict[JobState, int] = {
                state: count
                for state, count in session.execute(
                    select(CallLogErasure.state, func.count()).group_by(CallLogErasure.state)
                ).tuples()
            }
            report_counts: dict[ReportStatus, int] = {
                status: count
                for status, count in session.execute(
                    select(Report.status, func.count()).group_by(Report.status)
                ).tuples()
            }
        for state in JobState:
            jobs.add_metric([state.value], job_counts.get(state, 0))
        for state in (JobState.PENDING, JobState.FAILED):
            erasures.add_metric([state.value], erasure_counts.get(state, 0))
        for status in ReportStatus:
            reports.add_metric([status.value], report_counts.get(status, 0))
        now = utcnow()
        for service in Service:
            count = waiting_counts.get(service.value, 0)
            waiting.add_metric([service.value], count)
            since = down_since.get(service.value)
            seconds = (now - since).total_seconds() if since is not None and count else 0.0
            waited.add_metric([service.value], max(0.0, seconds))
        yield jobs
        yield waiting
        yield waited
        yield erasures
        yield reports
        yield followups
        yield emails


def _waiting_for_services(session: Session) -> dict[str, int]:
    counts: dict[str, int] = {}
    for model in (RecordingJob, CallLogErasure):
        rows = session.execute(
            select(model.waiting_for, func.count())
            .where(model.waiting_for.is_not(None), model.state == JobState.PENDING)
            .group_by(model.waiting_for)
        ).tuples()
        for service, count in rows:
            if service is not None:
                counts[service] = counts.get(service, 0) + count
    return counts


def registry_for(db: Database) -> CollectorRegistry:
    """A registry holding only the queue's gauges (for a process without the web app)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(QueueCollector(db))
    return registry
