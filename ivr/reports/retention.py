"""Retention: every report has an end of life, set by what became of it.

| report                                   | its end, counted in whole days              |
| disseminated                             | audio ``audio_days``, text ``text_days`` after the day of dissemination |
| never disseminated (queued, returned, submitted, approved, abandoned) | ``undisseminated_days`` after its last day of activity |
| parked as "audio failed"                 | ``audio_failed_days`` after the day it was parked |
| still awaiting its audio                 | ``awaiting_audio_days`` after its last day of activity |

At its end a report loses its audio first (the object, every version of it, its wrapped
key, and the day key that sealed that wrapped key: see ``ivr.crypto.day_keys``), then its
text, and the outbox copy of any email about it; it stays only as
a closed reference. Recordings not yet fetched are erased at Twilio by the worker: their
jobs are discarded here. Purge events in the audit trail name the report and the action,
never anything from its text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import assert_never

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from ivr.config import Config
from ivr.crypto import day_keys
from ivr.models.calls import JobStage, JobState, RecordingJob
from ivr.models.online import OnlineObject
from ivr.models.reports import AudioObject, Report, ReportStatus
from ivr.outside.storage import ObjectStore
from ivr.platform.db import Database, utcnow
from ivr.reports import followup, review
from ivr.reports.status import move
from ivr.staff import audit

TEXT_FIELDS = (
    "transcript",
    "contact_transcript",
    "people",
    "what",
    "when_text",
    "where_text",
    "review_comment",
)


@dataclass(frozen=True)
class Periods:
    """How many days each kind of report is kept (the defaults are the settings')."""

    audio_days: int = Config.audio_retention_days
    text_days: int = Config.text_retention_days
    undisseminated_days: int = Config.retention_undisseminated_days
    audio_failed_days: int = Config.retention_audio_failed_days
    awaiting_audio_days: int = Config.retention_awaiting_audio_days

    @classmethod
    def from_config(cls, config: Config) -> Periods:
        return cls(
            config.audio_retention_days,
            config.text_retention_days,
            config.retention_undisseminated_days,
            config.retention_audio_failed_days,
            config.retention_awaiting_audio_days,
        )


class Since(enum.Enum):
    """The day a report's period counts from."""

    DISSEMINATION = enum.auto()
    LAST_ACTIVITY = enum.auto()  # its last day of activity, or else the day received


@dataclass(frozen=True)
class Period:
    """How long a report in one status lives: ``days`` after the day ``since`` names."""

    days: int
    since: Since
    # Only while never disseminated: a disseminated report queued again by new material
    # is not closed by this period (it counts from its dissemination once sent again).
    never_disseminated: bool = False


def period_for(status: ReportStatus, periods: Periods) -> Period | None:
    """Return how long a report in ``status`` lives; None once it is closed."""
    match status:
        case ReportStatus.DISSEMINATED:
            return Period(periods.text_days, Since.DISSEMINATION)
        # Never disseminated, and no longer waiting for audio: a person had it, or could have.
        case (
            ReportStatus.QUEUED
            | ReportStatus.RETURNED
            | ReportStatus.SUBMITTED
            | ReportStatus.APPROVED
        ):
            return Period(periods.undisseminated_days, Since.LAST_ACTIVITY, never_disseminated=True)
        case ReportStatus.AUDIO_FAILED:
            return Period(periods.audio_failed_days, Since.LAST_ACTIVITY)  # parked since
        case ReportStatus.AWAITING_AUDIO:
            return Period(periods.awaiting_audio_days, Since.LAST_ACTIVITY)
        case ReportStatus.CLOSED:
            return None
        case _:
            assert_never(status)


@dataclass(frozen=True)
class PurgeResult:
    audio_destroyed: int
    reports_closed: int


def purge_as_configured(
    db: Database, store: ObjectStore, config: Config, today: date | None = None
) -> PurgeResult:
    """Apply the configured retention periods (``ivr purge``, and the worker daily)."""
    periods = Periods.from_config(config)
    return purge(
        db,
        store,
        "(retention)",
        periods.audio_days,
        periods.text_days,
        today,
        periods=periods,
        outbox=config.outbox_dir,
    )


def purge(
    db: Database,
    store: ObjectStore,
    actor: str,
    audio_days: int,
    text_days: int,
    today: date | None = None,
    *,
    periods: Periods | None = None,
    outbox: Path | None = None,
) -> PurgeResult:
    """Destroy the audio, then the text, of every report whose time is up."""
    today = today or utcnow().date()
    periods = periods or Periods(audio_days, text_days)
    destroyed = closed = 0
    with db.transaction() as session:
        for report in _audio_due(session, today, periods):
            destroyed += _destroy_audio(session, store, report, actor)
        for report in _ended(session, today, periods):
            destroyed += _destroy_audio(session, store, report, actor)
            _discard_jobs(session, report)
            for name in TEXT_FIELDS:
                setattr(report, name, "")
            review.forget_thread(session, report)  # the review thread is report text too
            followup.forget(session, report)  # the reference dies, with the questions
            move(session, report, ReportStatus.CLOSED, actor)  # audited as purge_text
            report.claimed_by = report.claimed_through = report.queue_position = None
            if outbox is not None:
                # The emailed copy holds the full report, and contact details.
                for copy in outbox.glob(f"{report.reference}-*.eml"):
                    copy.unlink(missing_ok=True)
            closed += 1
        # A job that finished (or was retried by hand) after its report was closed.
        for report in _closed_with_leftovers(session):
            destroyed += _destroy_audio(session, store, report, actor)
            _discard_jobs(session, report)
        # Copies of the destroyed wrapped keys (dead rows, backups) lose their day key.
        day_keys.shred_stale(session)
    day_keys.compact(db)
    db.scrub()
    return PurgeResult(destroyed, closed)


def _audio_due(session: Session, today: date, periods: Periods) -> list[Report]:
    """Disseminated reports whose audio is due, though their text is kept longer."""
    return list(
        session.scalars(
            select(Report).where(
                Report.status.in_((ReportStatus.DISSEMINATED, ReportStatus.CLOSED)),
                Report.audio_purged.is_(False),
                Report.disseminated_on <= today - timedelta(days=periods.audio_days),
            )
        )
    )


def _ended(session: Session, today: date, periods: Periods) -> list[Report]:
    """Reports at the end of their life: each status counts its own period."""
    due = [
        _due(status, period, today)
        for status in ReportStatus
        if (period := period_for(status, periods)) is not None
    ]
    return list(session.scalars(select(Report).where(or_(*due))))


def _due(status: ReportStatus, period: Period, today: date) -> ColumnElement[bool]:
    """The reports in ``status`` whose ``period`` is over by ``today``."""
    counted_from: SQLColumnExpression[date | None]
    match period.since:
        case Since.DISSEMINATION:
            counted_from = Report.disseminated_on
        case Since.LAST_ACTIVITY:
            counted_from = func.coalesce(Report.last_active_on, Report.received_on)
        case _:
            assert_never(period.since)
    conditions = [Report.status == status, counted_from <= today - timedelta(days=period.days)]
    if period.never_disseminated:
        conditions.append(Report.disseminated_on.is_(None))
    return and_(*conditions)


def _closed_with_leftovers(session: Session) -> list[Report]:
    stored = or_(
        exists().where(AudioObject.report_id == Report.id),
        exists().where(OnlineObject.report_id == Report.id),
    )
    unfinished = exists().where(
        RecordingJob.report_id == Report.id,
        RecordingJob.state.in_((JobState.PENDING, JobState.FAILED)),
        RecordingJob.stage != JobStage.FINISHED,
    )
    return list(
        session.scalars(
            select(Report).where(Report.status == ReportStatus.CLOSED, or_(stored, unfinished))
        )
    )


def _destroy_audio(session: Session, store: ObjectStore, report: Report, actor: str) -> int:
    """Delete every stored recording of the report, and the wrapped key of each."""
    kept = list(session.scalars(select(AudioObject).where(AudioObject.report_id == report.id)))
    for item in kept:
        store.delete(item.object_name)
        session.execute(
            update(RecordingJob).where(RecordingJob.audio_id == item.id).values(audio_id=None)
        )
        session.delete(item)
    # An online report's text, contact details and attachments are its "recording": the
    # raw material, destroyed with audio; the handler's sanitised text is kept longer.
    online = list(session.scalars(select(OnlineObject).where(OnlineObject.report_id == report.id)))
    for part in online:
        store.delete(part.object_name)
        session.delete(part)
    if kept or online:
        day_keys.forget(session, report.received_on)
    if kept or online or not report.audio_purged:
        report.audio_purged = True
        audit.record(session, actor, "purge_audio", report.reference)
    return len(kept) + len(online)


def _discard_jobs(session: Session, report: Report) -> None:
    """Recordings still at Twilio: the worker erases them there (and any copy of ours)."""
    session.execute(
        update(RecordingJob)
        .where(
            RecordingJob.report_id == report.id,
            RecordingJob.state.in_((JobState.PENDING, JobState.FAILED)),
            RecordingJob.stage != JobStage.FINISHED,
        )
        .values(state=JobState.DISCARDED, attempts=0, not_before=None, last_error=None)
    )
