"""Create reports and their "fetch this recording" jobs from recording callbacks.

Both the ``<Record>`` action and the recording status callback land here, in any order
and any number of times. The job is keyed by a keyed hash of the RecordingSid, so the
first callback creates the report and the job in one transaction and every later one
only adds what it knows (the caller hung up, the recording is absent).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.crypto.hashing import keyed_hash
from ivr.flows.engine import CallState
from ivr.models.calls import JobStage, JobState, RecordingJob
from ivr.models.reports import Anonymity, RecordingPart, Report, ReportSource
from ivr.platform.logs import event
from ivr.reports.status import INITIAL

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recording:
    """What one callback (or Twilio's own listing) says about a recording: no caller identifier.

    The same value travels from the webhook through the call handler and the journal
    (or the spool, as :meth:`to_entry`) to :func:`register_recording`.
    """

    recording_sid: str
    call_sid: str
    part: RecordingPart = RecordingPart.REPORT
    source: ReportSource = ReportSource.MENU
    duration_seconds: int | None = None
    ended_by_hangup: bool = False
    absent: bool = False  # Twilio says no audio was captured
    # The caller's language and menu choices, from the callback URL (None: unknown).
    language: str | None = None
    choices: dict[str, str] = field(default_factory=dict)
    # The report a follow-up caller's answer joins (their verified follow-up), if any.
    followup: str | None = None

    @property
    def has_audio(self) -> bool:
        return not self.absent and (self.duration_seconds is None or self.duration_seconds > 0)

    def call(self) -> CallState | None:
        """Return the call's state as far as the report needs it; None when it is unknown."""
        if self.language is None:
            return None
        # Only the language and choices fill in the report; the step is not needed.
        return CallState(step="", language=self.language, choices=dict(self.choices))

    def to_entry(self) -> dict[str, Any]:
        """Return this recording as a spool entry's fields (plain JSON values)."""
        return {
            "recording_sid": self.recording_sid,
            "call_sid": self.call_sid,
            "part": self.part.value,
            "source": self.source.value,
            "duration_seconds": self.duration_seconds,
            "ended_by_hangup": self.ended_by_hangup,
            "absent": self.absent,
            "language": self.language,
            "choices": dict(self.choices),
            "followup": self.followup,
        }

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> Recording:
        """Read a spool entry's fields back, including entries an earlier release wrote."""
        # An entry spooled before a deploy is replayed after it: fields added since may
        # be missing, and keys that are not a recording's (the entry's id, kind and the
        # report id an earlier release wrote as "group") are left to the journal.
        return cls(
            recording_sid=entry["recording_sid"],
            call_sid=entry["call_sid"],
            part=RecordingPart(entry["part"]),
            source=ReportSource(entry["source"]),
            duration_seconds=entry.get("duration_seconds"),
            ended_by_hangup=bool(entry.get("ended_by_hangup")),
            absent=bool(entry.get("absent")),
            language=entry.get("language"),
            choices=dict(entry.get("choices") or {}),
            followup=entry.get("followup") or None,
        )


def register_recording(
    session: Session, secret: bytes, recording: Recording, *, report_id: str | None = None
) -> RecordingJob:
    """Create (once) the report and the job for ``recording``; return the job.

    The recording's call state (:meth:`Recording.call`) fills in the report's choices,
    when it is known. Every recording of one call (the report, the contact details,
    re-takes) belongs to one report, whose id is a keyed hash of the CallSid
    (:func:`report_id_for_call`) unless ``report_id`` names it: no call row needed.
    """
    call, part, source = recording.call(), recording.part, recording.source
    if report_id is None and recording.call_sid:
        report_id = report_id_for_call(secret, recording.call_sid)
    key = keyed_hash(secret, recording.recording_sid)
    job = session.scalars(select(RecordingJob).where(RecordingJob.recording_key == key)).first()
    if job is not None:
        _merge(job, recording)
        if call is not None:
            _fill_in_choices(job.report, call, source)
        return job

    report, created = _report_for(session, call, report_id, source)
    earlier = (
        0  # a new report has no takes yet: one round trip fewer on the webhook
        if created
        else session.scalar(
            select(func.count()).where(
                RecordingJob.report_id == report.id, RecordingJob.part == part
            )
        )
        or 0
    )
    job = RecordingJob(
        report_id=report.id,
        recording_key=key,
        part=part,
        take=earlier + 1,
        state=JobState.PENDING,
        recording_sid=recording.recording_sid,
        call_sid=recording.call_sid or None,
        attempts=0,
    )
    _merge(job, recording)
    # Before adding the new take, so that it cannot be discarded with the old ones.
    if call is not None and call.choices.get("take") == "replace" and recording.has_audio:
        _discard_earlier_takes(session, report, part)
    session.add(job)
    if part is RecordingPart.CONTACT and recording.has_audio:
        report.contact_left = True
    # Not the take: it is kept on the job, and would tie the line's time to this report.
    event(logger, "report.recording_registered", part=part.value, hangup=recording.ended_by_hangup)
    return job


def _merge(job: RecordingJob, recording: Recording) -> None:
    if recording.duration_seconds is not None:
        job.duration_seconds = recording.duration_seconds
    if recording.ended_by_hangup:
        job.ended_by_hangup = True
    if recording.absent:
        job.duration_seconds = 0


def _report_for(
    session: Session, call: CallState | None, report_id: str | None, source: ReportSource
) -> tuple[Report, bool]:
    """The call's report, and whether it was created just now."""
    if report_id is not None:
        existing = session.get(Report, report_id)
        if existing is not None:
            if call is not None:
                _fill_in_choices(existing, call, source)
            return existing, False
    choices = call.choices if call is not None else {}
    anonymity = choices.get("anonymity")
    report = Report(
        id=report_id or str(uuid.uuid4()),
        # A day is enough: the exact time of a call could help identify the caller.
        received_on=datetime.now(UTC).date(),
        # A menu callback that outlived its call's state carries no menu choices.
        source=ReportSource.RECONCILED if call is None and source is ReportSource.MENU else source,
        status=INITIAL,
        language=call.language if call is not None else None,
        category=choices.get("category"),
        anonymity=Anonymity(anonymity) if anonymity else None,
    )
    session.add(report)
    session.flush()
    return report, True


def _fill_in_choices(report: Report, call: CallState, source: ReportSource) -> None:
    """Reconciliation found the recording before its callback: add the caller's choices."""
    if report.source is not ReportSource.RECONCILED or source is ReportSource.RECONCILED:
        return
    anonymity = call.choices.get("anonymity")
    report.source = source
    report.language = call.language
    report.category = call.choices.get("category")
    report.anonymity = Anonymity(anonymity) if anonymity else None


def report_id_for_call(secret: bytes, call_sid: str) -> str:
    """The id of the report a call's recordings make: a keyed hash, not the CallSid.

    It lets any process group a call's recordings, in any order, without storing the
    call. Like the recording keys, it cannot be turned back into the SID without the
    edge's secret key.
    """
    return str(uuid.UUID(hex=keyed_hash(secret, f"report:{call_sid}")[:32]))


def _discard_earlier_takes(session: Session, report: Report, part: RecordingPart) -> None:
    """The caller chose to record again: earlier takes of this part are not kept."""
    for earlier in session.scalars(
        select(RecordingJob).where(
            RecordingJob.report_id == report.id,
            RecordingJob.part == part,
            RecordingJob.state.in_((JobState.PENDING, JobState.DONE)),
        )
    ):
        if earlier.stage is JobStage.FINISHED:
            # Already stored by the worker: it must come back and delete our copy.
            earlier.stage = JobStage.VERIFIED
        earlier.state = JobState.DISCARDED
