"""Retention: destroy a report's audio, then its text, when their time is up.

Destroying an object's wrapped key is what makes its audio unreadable: any copy of the
object (a backup, a replica) cannot be opened without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select, update

from ivr import audit
from ivr.db import Database, utcnow
from ivr.models import AudioObject, RecordingJob, Report, ReportStatus
from ivr.storage import ObjectStore


@dataclass(frozen=True)
class PurgeResult:
    audio_destroyed: int
    reports_closed: int


def purge(
    db: Database,
    store: ObjectStore,
    actor: str,
    audio_days: int,
    text_days: int,
    today: date | None = None,
) -> PurgeResult:
    """Destroy disseminated reports' audio (object and wrapped key), later their text."""
    today = today or utcnow().date()
    destroyed = closed = 0
    with db.transaction() as session:
        due = list(
            session.scalars(
                select(Report).where(
                    Report.status.in_((ReportStatus.DISSEMINATED, ReportStatus.CLOSED)),
                    Report.audio_purged.is_(False),
                    Report.disseminated_on <= today - timedelta(days=audio_days),
                )
            )
        )
        for report in due:
            kept = list(
                session.scalars(select(AudioObject).where(AudioObject.report_id == report.id))
            )
            for item in kept:
                store.delete(item.object_name)
                session.execute(
                    update(RecordingJob)
                    .where(RecordingJob.audio_id == item.id)
                    .values(audio_id=None)
                )
                # Without the wrapped key, any copy of the object (a backup) is unreadable.
                session.delete(item)
                destroyed += 1
            report.audio_purged = True
            audit.record(session, actor, "purge_audio", report.reference)
        expired = list(
            session.scalars(
                select(Report).where(
                    Report.status == ReportStatus.DISSEMINATED,
                    Report.disseminated_on <= today - timedelta(days=text_days),
                )
            )
        )
        for report in expired:
            for name in (
                "transcript",
                "contact_transcript",
                "people",
                "what",
                "when_text",
                "where_text",
                "review_comment",
            ):
                setattr(report, name, "")
            report.status = ReportStatus.CLOSED
            audit.record(session, actor, "purge_text", report.reference)
            closed += 1
    db.scrub()
    return PurgeResult(destroyed, closed)
