"""The gauges that raise alarms, measured from the database, and the loop that sends them.

Every gauge names a state, never a report: how many jobs are parked, how long the oldest
recording or call log has been waiting to be erased at Twilio, how many reports the static
fallback took, how long work has waited for a service that is down, how many emails to
forces the mail server has not taken. ``infra/alarms.yaml`` turns each into an alarm, and
README "Operating" says what to do about it.

The age of what waits at Twilio is measured from when this process first saw its job
pending, kept in memory only: the database keeps no time with a call. A job is made when
its call ends, and the loop looks every minute, so the age falls short by a minute at most
(the alarm's threshold allows for it); a restarted worker starts counting again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import func, select

from ivr.models.calls import CallLogErasure, JobState, RecordingJob
from ivr.models.reports import Dissemination, Report, ReportSource
from ivr.outside.cloud_metrics import MetricSink, MetricsUnavailable
from ivr.platform.db import Database, utcnow
from ivr.platform.logs import event
from ivr.reports.workflow import PENDING
from ivr.staff.audit import AuditTrail
from ivr.telephony import outages

logger = logging.getLogger(__name__)

# The gauges, by the names CloudWatch and infra/alarms.yaml know them.
GAUGES = (
    "ParkedJobs",
    "OldestWaitingAtTwilioSeconds",
    "FallbackReports",
    "ServiceWaitedSeconds",
    "EmailsToForcesPending",
)
# Sent by each console process after its daily check of the whole audit chain: 1 if the
# chain does not verify (ivr audit verify would fail), 0 if it does.
AUDIT_GAUGE = "AuditChainBroken"
# How often a worker sends its reading (CloudWatch's standard resolution is a minute).
EVERY_SECONDS = 60.0


class AlarmGauges:
    """Measures the gauges; remembers, between readings, only what it needs to."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.monotonic) -> None:
        self._db, self._clock = db, clock
        self._first_seen: dict[tuple[str, int], float] = {}  # pending job -> first seen
        self._fallback_reports: int | None = None  # the count at the last reading

    def measure(self) -> dict[str, float]:
        now = self._clock()
        with self._db.reading() as session:
            parked = sum(
                session.scalar(
                    select(func.count()).select_from(model).where(model.state == JobState.FAILED)
                )
                or 0
                for model in (RecordingJob, CallLogErasure)
            )
            pending = {
                (model.__tablename__, job_id)
                for model in (RecordingJob, CallLogErasure)
                for job_id in session.scalars(
                    select(model.id).where(model.state == JobState.PENDING)
                )
            }
            fallback = (
                session.scalar(
                    select(func.count())
                    .select_from(Report)
                    .where(Report.source == ReportSource.FALLBACK)
                )
                or 0
            )
            emails = (
                session.scalar(
                    select(func.count())
                    .select_from(Dissemination)
                    .where(Dissemination.delivery == PENDING)
                )
                or 0
            )
            down_since = outages.noted(session)
        self._first_seen = {job: self._first_seen.get(job, now) for job in pending}
        oldest = max((now - seen for seen in self._first_seen.values()), default=0.0)
        # Reports the fallback took since the last reading (none at the first: they were
        # counted by the worker that ran before).
        new_fallback = (
            0 if self._fallback_reports is None else max(0, fallback - self._fallback_reports)
        )
        self._fallback_reports = fallback
        wall = utcnow()
        waited = max(((wall - since).total_seconds() for since in down_since.values()), default=0.0)
        return {
            "ParkedJobs": float(parked),
            "OldestWaitingAtTwilioSeconds": round(oldest, 1),
            "FallbackReports": float(new_fallback),
            "ServiceWaitedSeconds": round(max(0.0, waited), 1),
            "EmailsToForcesPending": float(emails),
        }


def send_forever(
    gauges: AlarmGauges, sink: MetricSink, stop: threading.Event, every: float = EVERY_SECONDS
) -> None:
    """Send a reading now and then every ``every`` seconds until ``stop`` is set.

    A reading that cannot be measured (the database is down) or sent (CloudWatch is down)
    is skipped: the next one follows, and a missing reading raises the alarms that treat
    missing data as breaching.
    """
    while not stop.is_set():
        try:
            sink.put(gauges.measure())
        except MetricsUnavailable as error:
            event(logger, "alarms.not_sent", logging.WARNING, error=str(error))
        except Exception as error:  # the database is down: the next reading will tell
            event(logger, "alarms.not_measured", logging.WARNING, error=type(error).__name__)
        stop.wait(every)


def verify_daily(
    trail: AuditTrail, sink: MetricSink, stop: threading.Event, every: float = 86_400.0
) -> None:
    """Check the whole audit chain now and then every day, and say how it went.

    The alarm on ``AuditChainBroken`` fires on a broken chain, and on a day without a
    check (a console that stopped checking is itself worth a look).
    """
    while not stop.is_set():
        try:
            verdict = trail.verify()
            sink.put({AUDIT_GAUGE: 0.0 if verdict.ok else 1.0})
            if not verdict.ok:
                event(logger, "audit.verify_failed", logging.ERROR)
        except MetricsUnavailable as error:
            event(logger, "alarms.not_sent", logging.WARNING, error=str(error))
        except Exception as error:  # the database or the anchors are down: try tomorrow
            event(logger, "audit.verify_not_run", logging.WARNING, error=type(error).__name__)
        stop.wait(every)
