"""Tables: flow versions, live call state, reports and their recording jobs.

Nothing here holds a caller identifier. Twilio references (call and recording SIDs,
media URLs) live only on :class:`RecordingJob` and are cleared once the audio is safe
and erased at Twilio. Reports carry the day they were received, never a time.
"""

from __future__ import annotations

import enum
import secrets
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ivr.db import Base, JSONDict


def _enum(cls: type[enum.Enum]) -> Enum:
    """Store an enum by value, as a plain string column with a named check."""
    return Enum(
        cls,
        name=cls.__name__.lower(),
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
        length=32,
    )


class ReportSource(enum.StrEnum):
    MENU = "menu"  # the caller went through the flow
    FALLBACK = "fallback"  # taken by the fallback URL while the flow was unavailable
    RECONCILED = "reconciled"  # found at Twilio with no callback: no menu choices


class ReportStatus(enum.StrEnum):
    AWAITING_AUDIO = "awaiting_audio"  # recorded at Twilio, not yet stored here
    QUEUED = "queued"  # audio stored and encrypted; waiting for a handler


class Anonymity(enum.StrEnum):
    ANONYMOUS = "anonymous"
    CONTACT = "contact"  # the caller chose to leave contact details


class RecordingPart(enum.StrEnum):
    REPORT = "report"
    CONTACT = "contact"  # contact details, kept apart from the report itself


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


class FlowVersion(Base):
    """An immutable version of a call flow, identified by the hash of its content."""

    __tablename__ = "flow_versions"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)


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


class Report(Base):
    """A caller's report: what they chose in the menus and the day it arrived."""

    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    reference: Mapped[str] = mapped_column(String(16), unique=True, default=lambda: new_reference())
    received_on: Mapped[date] = mapped_column(Date)
    source: Mapped[ReportSource] = mapped_column(_enum(ReportSource))
    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus))
    language: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(50))
    anonymity: Mapped[Anonymity | None] = mapped_column(_enum(Anonymity))
    contact_left: Mapped[bool] = mapped_column(default=False)
    has_audio: Mapped[bool] = mapped_column(default=True)
    # Set when the report is queued: total length of what the caller said, in seconds.
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    silent: Mapped[bool] = mapped_column(default=False)

    recordings: Mapped[list[RecordingJob]] = relationship(
        back_populates="report", order_by="RecordingJob.id"
    )


class RecordingJob(Base):
    """A durable "fetch this recording" job, one per recording, keyed by the recording."""

    __tablename__ = "recording_jobs"
    __table_args__ = (CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    # HMAC of the RecordingSid: a repeated callback finds its job even after the SID is gone.
    recording_key: Mapped[str] = mapped_column(String(64), unique=True)
    part: Mapped[RecordingPart] = mapped_column(_enum(RecordingPart))
    take: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[JobState] = mapped_column(_enum(JobState), index=True)
    stage: Mapped[JobStage] = mapped_column(_enum(JobStage), default=JobStage.FETCH)
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

    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None]
    lease_expires: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)

    report: Mapped[Report] = relationship(back_populates="recordings")
    audio: Mapped[AudioObject | None] = relationship()


class AudioObject(Base):
    """One encrypted recording in the object store, and the wrapped key that opens it.

    Deleting this row destroys the only copy of the wrapped data key: the object can
    then never be decrypted, even from a backup of the store.
    """

    __tablename__ = "audio_objects"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    part: Mapped[RecordingPart] = mapped_column(_enum(RecordingPart))
    object_name: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    key_ref: Mapped[str] = mapped_column(String(200))
    chunk_size: Mapped[int] = mapped_column(Integer)
    duration_seconds: Mapped[float] = mapped_column(Float)
    silent: Mapped[bool] = mapped_column(default=False)
    gain_db: Mapped[float] = mapped_column(Float, default=0.0)


# Unambiguous characters, so a handler can read a reference aloud or type it.
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference() -> str:
    """Return a random report reference such as ``R-7KQ3-M9XD`` (never time-derived)."""
    chars = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"R-{chars[:4]}-{chars[4:]}"
