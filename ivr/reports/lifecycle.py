"""When the phone side moves a report: its recordings stored, or one of them parked.

awaiting_audio -> queued        when every recording of it has been dealt with
awaiting_audio -> audio_failed  when a recording's job is parked
audio_failed -> awaiting_audio  when every parked job of it is retried
Every move, these and the handlers' own, is ``ivr.reports.status.move``, which checks
it and records the day, and only the day, of the report's last activity.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.models.calls import JobStage, JobState, RecordingJob
from ivr.models.reports import AudioObject, RecordingPart, Report, ReportSource, ReportStatus
from ivr.models.stats import StatEvent
from ivr.platform.logs import event
from ivr.reports.status import move
from ivr.stats import counters

logger = logging.getLogger(__name__)

# Namespace of the PostgreSQL advisory lock that serialises numbering within one day.
_QUEUE_ORDER_LOCK = 0x1F0E


def queue_when_complete(session: Session, report_id: str) -> None:
    """Queue the report for handlers once every recording of it has been dealt with."""
    jobs = list(session.scalars(select(RecordingJob).where(RecordingJob.report_id == report_id)))
    if any(job.stage is not JobStage.FINISHED for job in jobs):
        return
    report = session.get(Report, report_id)
    assert report is not None
    if report.status is ReportStatus.CLOSED:
        return  # its retention ran out while a job was finishing: it is not worked again
    kept = list(session.scalars(select(AudioObject).where(AudioObject.report_id == report_id)))
    spoken = [item for item in kept if item.part is RecordingPart.REPORT]
    report.has_audio = bool(spoken)
    report.silent = bool(spoken) and all(item.silent for item in spoken)
    report.duration_seconds = round(sum(item.duration_seconds for item in spoken))
    if report.source is not ReportSource.ONLINE:  # an online report's details are its text
        report.contact_left = any(item.part is RecordingPart.CONTACT for item in kept)
    if report.queue_position is None:
        report.queue_position = _next_position(session, report.received_on)
        # Counted once, when first queued (new material queues a report again), under
        # the month it was received in; never read back from the report.
        counters.count_report(
            session, StatEvent.RECEIVED, report, report.received_on, handlers_choices=False
        )
    move(session, report, ReportStatus.QUEUED, actor=None)
    # Nothing of the report: its length or silence beside the line's time would date it.
    event(logger, "report.queued")


def _next_position(session: Session, day: date) -> int:
    """Return the next place in the day's queue: an order within the day, never a time.

    Two workers queueing reports of the same day at once would read the same maximum,
    so on PostgreSQL the numbering of a day is serialised by an advisory lock held to
    the end of the transaction (SQLite serialises every transaction already).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_QUEUE_ORDER_LOCK, day.toordinal())))
    highest = session.scalar(
        select(func.max(Report.queue_position)).where(Report.received_on == day)
    )
    return (highest or 0) + 1


def mark_audio_failed(session: Session, report_id: str) -> None:
    """Show the report to supervisors as "audio failed": a recording could not be stored."""
    report = session.get(Report, report_id)
    if report is not None and report.status is ReportStatus.AWAITING_AUDIO:
        move(session, report, ReportStatus.AUDIO_FAILED, actor=None)  # retention counts from here


def await_audio_again(session: Session, report_id: str) -> None:
    """Put an "audio failed" report back to waiting once none of its jobs is parked."""
    report = session.get(Report, report_id)
    if report is None or report.status is not ReportStatus.AUDIO_FAILED:
        return
    still_parked = session.scalar(
        select(RecordingJob.id)
        .where(RecordingJob.report_id == report.id, RecordingJob.state == JobState.FAILED)
        .limit(1)
    )
    if still_parked is None:
        move(session, report, ReportStatus.AWAITING_AUDIO, actor=None)
