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

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from ivr import audit
from ivr.casework import followup, review
from ivr.config import Config
from ivr.crypto import day_keys
from ivr.db import Database, utcnow
from ivr.models import (
    AudioObject,
    JobStage,
    JobState,
    RecordingJob,
    Report,
    ReportStatus,
)
from ivr.models_online import OnlineObject
from ivr.storage import ObjectStore

TEXT_FIELDS = (
    "transcript",
    "contact_transcript",
    "people",
    "what",
    "when_text",
    "where_text",
    "review_comment",
)
# Never disseminated, and no longer waiting for audio: a person had it, or could have.
UNDISSEMINATED = (
    ReportStatus.QUEUED,
    ReportStatus.RETURNED,
    ReportStatus.SUBMITTED,
    ReportStatus.APPROVED,
)


@dataclass(frozen=True)
class Periods:
    """How many days each kind of report is kept (the defaults are the settings')."""

    audio_days: int = 30
    text_days: int = 365
    undisseminated_days: int = 90
    audio_failed_days: int = 30
    awaiting_audio_days: int = 30

    @classmethod
    def from_config(cls, config: Config) -> Periods:
        return cls(
            config.audio_retention_days,
            config.text_retention_days,
            config.retention_undisseminated_days,
            config.retention_audio_failed_days,
            config.retention_awaiting_audio_days,
        )


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
            report.status = ReportStatus.CLOSED
            report.claimed_by = report.claimed_through = report.queue_position = None
            audit.record(session, actor, "purge_text", report.reference)
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
    """Reports at the end of their life: each state counts its own period."""

    def idle_since(days: int) -> ColumnElement[bool]:
        last = func.coalesce(Report.last_active_on, Report.received_on)
        return last <= today - timedelta(days=days)

    return list(
        session.scalars(
            select(Report).where(
                or_(
                    and_(
                        Report.status == ReportStatus.DISSEMINATED,
                        Report.disseminated_on <= today - timedelta(days=periods.text_days),
                    ),
                    and_(
                        Report.status.in_(UNDISSEMINATED),
                        Report.disseminated_on.is_(None),
                        idle_since(periods.undisseminated_days),
                    ),
                    and_(
                        Report.status == ReportStatus.AUDIO_FAILED,
                        idle_since(periods.audio_failed_days),
                    ),
                    and_(
                        Report.status == ReportStatus.AWAITING_AUDIO,
                        idle_since(periods.awaiting_audio_days),
                    ),
                )
            )
        )
    )


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
