"""Tables: live call state, reports, their recording jobs, call log erasures (flows: models_flows).

Nothing here holds a caller identifier. Twilio references (call and recording SIDs)
live only on :class:`RecordingJob`, cleared once the audio is safe and erased at
Twilio, and on :class:`CallLogErasure`, deleted once the call's log is erased there.
Reports carry the day they were received, never a time.
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
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ivr.db import AFTER_SEALED, REPORT_TEXT, Base, JSONDict, SealedObject, string_enum


class ReportSource(enum.StrEnum):
    MENU = "menu"  # the caller went through the flow
    FALLBACK = "fallback"  # taken by the fallback URL while the flow was unavailable
    RECONCILED = "reconciled"  # found at Twilio with no callback: no menu choices
    ONLINE = "online"  # sent through the online report form (migration 0012 widens the check)


class ReportStatus(enum.StrEnum):
    AWAITING_AUDIO = "awaiting_audio"  # recorded at Twilio, not yet stored here
    AUDIO_FAILED = "audio_failed"  # its audio could not be stored: a person must look
    QUEUED = "queued"  # audio stored and encrypted; waiting for a handler
    SUBMITTED = "submitted"  # transcribed and sanitised; waiting for a supervisor
    RETURNED = "returned"  # sent back by a supervisor with a comment
    APPROVED = "approved"  # ready to disseminate
    DISSEMINATED = "disseminated"  # passed to the force's Counter Corruption Unit
    CLOSED = "closed"  # its text retention has passed; only the reference remains


class Urgency(enum.StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    RISK_TO_LIFE = "risk_to_life"  # risk to life or of serious harm: supervisors at once


class Role(enum.StrEnum):
    HANDLER = "handler"
    SUPERVISOR = "supervisor"
    OPS = "ops"
    ADMIN = "admin"


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


def _text_column() -> Any:
    return mapped_column(Text, server_default="", deferred=True, deferred_group=REPORT_TEXT)


class Report(Base):
    """A caller's report: what they chose in the menus and the day it arrived."""

    __tablename__ = "reports"
    __table_args__ = (
        # "Take next": the oldest report nobody holds is the head of this index.
        Index(
            "ix_reports_unclaimed",
            "received_on",
            "queue_position",
            "reference",
            postgresql_where=text("status IN ('queued', 'returned') AND claimed_by IS NULL"),
            sqlite_where=text("status IN ('queued', 'returned') AND claimed_by IS NULL"),
        ),
    )
    # The text's server defaults are not read back on INSERT (RETURNING would need the
    # SELECT on them that the edge lacks): they load when first read, on the console.
    __mapper_args__ = {"eager_defaults": False}  # noqa: RUF012 - SQLAlchemy's own API

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    reference: Mapped[str] = mapped_column(String(16), unique=True, default=lambda: new_reference())
    received_on: Mapped[date] = mapped_column(Date)
    source: Mapped[ReportSource] = mapped_column(string_enum(ReportSource))
    status: Mapped[ReportStatus] = mapped_column(string_enum(ReportStatus))
    language: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(50))
    anonymity: Mapped[Anonymity | None] = mapped_column(string_enum(Anonymity))
    contact_left: Mapped[bool] = mapped_column(default=False)
    has_audio: Mapped[bool] = mapped_column(default=True)
    # Set when the report is queued: total length of what the caller said, in seconds.
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    silent: Mapped[bool] = mapped_column(default=False)
    # Order in the handlers' queue (not a time): set when the report is queued.
    queue_position: Mapped[int | None] = mapped_column(Integer, index=True)

    # The handler's work on it.
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The claim holds through the end of this day (UTC): a claim never carries a time.
    claimed_through: Mapped[date | None] = mapped_column(Date)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # What people wrote: only the console's database role may read these (ivr.db_roles).
    # Deferred, so that the edge's plain select(Report) never names them; their defaults
    # are the server's, so that the edge's INSERT does not name them either.
    transcript: Mapped[str] = _text_column()
    contact_transcript: Mapped[str] = _text_column()
    # The handler's choices say which force a report is about: read with the text.
    force: Mapped[str | None] = mapped_column(
        String(100), deferred=True, deferred_group=REPORT_TEXT
    )
    handler_category: Mapped[str | None] = mapped_column(
        String(50), deferred=True, deferred_group=REPORT_TEXT
    )
    people: Mapped[str] = _text_column()
    what: Mapped[str] = _text_column()
    when_text: Mapped[str] = _text_column()
    where_text: Mapped[str] = _text_column()
    urgency: Mapped[Urgency] = mapped_column(string_enum(Urgency), default=Urgency.ROUTINE)
    sanitised: Mapped[bool] = mapped_column(default=False)
    review_comment: Mapped[str] = _text_column()
    disseminated_on: Mapped[date | None] = mapped_column(Date)
    last_active_on: Mapped[date | None] = mapped_column(Date)  # the day only: for retention
    audio_purged: Mapped[bool] = mapped_column(default=False)

    recordings: Mapped[list[RecordingJob]] = relationship(
        back_populates="report", order_by="RecordingJob.id"
    )


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


class AudioObject(SealedObject, Base):
    """One encrypted recording in the object store, and the wrapped key that opens it."""

    __tablename__ = "audio_objects"

    part: Mapped[RecordingPart] = mapped_column(string_enum(RecordingPart))
    duration_seconds: Mapped[float] = mapped_column(Float, sort_order=AFTER_SEALED)
    silent: Mapped[bool] = mapped_column(default=False, sort_order=AFTER_SEALED)
    gain_db: Mapped[float] = mapped_column(Float, default=0.0, sort_order=AFTER_SEALED)

    @staticmethod
    def key_part_of(part: RecordingPart) -> str:
        """Return the part a recording's data key is bound to."""
        return part.value

    @property
    def key_part(self) -> str:
        return self.key_part_of(self.part)


class User(Base):
    """A member of the charity's staff. Nothing about callers is ever linked to one."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[Role] = mapped_column(string_enum(Role))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The time step of the last code accepted: a code is never accepted twice (RFC 6238 5.2).
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # A one-time enrolment link: only its hash is kept.
    enrolment_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrolment_expires: Mapped[datetime | None]
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    # Raising this signs the user out of every session at once.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Force(Base):
    """A UK police force and the address of its Counter Corruption Unit."""

    __tablename__ = "forces"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    ccu_email: Mapped[str | None] = mapped_column(String(200))


class Dissemination(Base):
    """A report passed to a force: by whom, how, on which day."""

    __tablename__ = "disseminations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    force: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(20))  # email, pdf, text
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    on: Mapped[date] = mapped_column(Date)


class AuditEvent(Base):
    """Who did what to which report, and when; sealed into a keyed chain (``ivr.audit``)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50), index=True)
    report_reference: Mapped[str | None] = mapped_column(String(16), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    seq: Mapped[int | None] = mapped_column(Integer, unique=True)  # both set when sealed
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # HMAC of the content with the audit key, set as it is written: the sealer refuses an
    # event without it, which someone who lacks the console's key wrote.
    tag: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's newest sealed place and hash: one row, locked by sealers (never writers)."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    # Events up to this id were written before events carried a tag: sealed without one.
    legacy_through: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


# Unambiguous characters, so a handler can read a reference aloud or type it.
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference() -> str:
    """Return a random report reference such as ``R-7KQ3-M9XD`` (never time-derived)."""
    chars = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"R-{chars[:4]}-{chars[4:]}"
