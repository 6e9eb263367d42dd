"""The telephone side: live call state, recording jobs and call log erasures.

Twilio references (call and recording SIDs) live only on :class:`RecordingJob`, cleared
once the audio is safe and erased at Twilio, and on :class:`CallLogErasure`, deleted once
the call's log is erased there. A live call's state is deleted when the call ends.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ivr.models.reports import AudioObject, RecordingPart, Report
from ivr.platform.db import Base, JSONDict, string_enum


class JobState(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # parked after too many attempts; retried by hand
    DISCARDED = "discarded"  # the caller recorded this take again: erase, do not keep


class JobStage(enum.StrEnum):
    """How far a job has got; each stage is persisted before the next begins."""

    FETCH = "fetch"  # fetch, clean, encrypt and store the audio
    STORED = "stored"  # the object is written; read it back to verify
    VERIFIED = "verified"  # our copy is safe; erase the recording at Twilio
    ERASED = "erased"  # erased at Twilio; erase the call log, then queue the report
    FINISHED = "finished"


class CallSession(Base):
    """Where a live call is in its flow. Deleted when the call ends."""

    __tablename__ = "call_sessions"

    # HMAC of the CallSid: state can be found from a callback but not listed back to calls.
    call_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow_hash: Mapped[str] = mapped_column(ForeignKey("flow_versions.content_hash"))
    step: Mapped[str] = mapped_column(String(100))
    turn: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str] = mapped_column(String(16))
    retries: Mapped[int] = mapped_column(Integer, default=0)
    choices: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    report_id: Mapped[str | None] = mapped_column(ForeignKey("reports.id"))
    # The TwiML last answered, so a repeated callback gets the very same answer.
    last_reply: Mapped[str] = mapped_column(Text, default="")
    # Sweeps state whose end-of-call callback never came; not linked to any report.
    expires_at: Mapped[datetime]


class LeasedJob:
    """What workers need to share a kind of job: a state, a lease, attempts, a backoff."""

    # First in each table, as it was before this mixin (other columns come before a mixin's).
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, sort_order=-1)
    state: Mapped[JobState] = mapped_column(string_enum(JobState), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None]
    lease_expires: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    # The outside service (an ``ivr.platform.outages.Service``) this job waits for, if any:
    # an outage spends none of its attempts, and the service's return makes it due at once.
    waiting_for: Mapped[str | None] = mapped_column(String(16))


class ServiceOutage(Base):
    """An outside service work is waiting for, and since when: /metrics shows how long.

    One row per service, written by the first job that finds it down and deleted when a
    probe finds it back; it names no job, report or call.
    """

    __tablename__ = "service_outages"

    service: Mapped[str] = mapped_column(String(16), primary_key=True)
    since: Mapped[datetime]


class RecordingJob(LeasedJob, Base):
    """A durable "fetch this recording" job, one per recording, keyed by the recording."""

    __tablename__ = "recording_jobs"
    __table_args__ = (CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    # HMAC of the RecordingSid: a repeated callback finds its job even after the SID is gone.
    recording_key: Mapped[str] = mapped_column(String(64), unique=True)
    part: Mapped[RecordingPart] = mapped_column(string_enum(RecordingPart))
    take: Mapped[int] = mapped_column(Integer, default=1)
    stage: Mapped[JobStage] = mapped_column(string_enum(JobStage), default=JobStage.FETCH)
    # Chosen and saved before the upload starts, so a retry overwrites the same object.
    object_name: Mapped[str | None] = mapped_column(String(64))
    audio_id: Mapped[str | None] = mapped_column(ForeignKey("audio_objects.id"))
    # The caller hung up during this recording: still a report.
    ended_by_hangup: Mapped[bool] = mapped_column(default=False)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)

    # Twilio references: held only until the audio is stored, verified and erased there.
    # The media URL is not kept: it is rebuilt from the SID and the configured API URL,
    # so a callback can never point the worker at another host.
    recording_sid: Mapped[str | None] = mapped_column(String(64))
    call_sid: Mapped[str | None] = mapped_column(String(64))
    call_ended: Mapped[bool] = mapped_column(default=False)

    report: Mapped[Report] = relationship(back_populates="recordings")
    audio: Mapped[AudioObject | None] = relationship()


class CallLogErasure(LeasedJob, Base):
    """A durable "delete this call's log at Twilio" job, made when the call ends.

    The row is deleted once Twilio has deleted the log: the CallSid, and the times that
    could date the call, are kept only while the erasure is still to be done.
    """

    __tablename__ = "call_log_erasures"
    __table_args__ = (CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    # One erasure per call: a repeated status callback finds the one already waiting.
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
