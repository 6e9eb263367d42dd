"""Anonymous follow-up: references, PIN hashes, questions and answers.

Kept apart from ``ivr.models`` (which is at its size limit); registered on
``Base.metadata`` through ``ivr.models``. Nothing here holds a time: days only, and the
hour of the global failure counter, which names no report.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.platform.db import Base, UTCDateTime, string_enum

# A question is heard by text-to-speech on a phone: a few sentences at most.
QUESTION_MAX_CHARS = 600


class FollowUp(Base):
    """A report's follow-up reference: its digest and the Argon2id hash of the caller's PIN.

    The reference itself is never stored (only a SHA-256 digest, to find it), nor the
    PIN. One per report; it dies with the report's text, or when the case is closed.
    """

    __tablename__ = "followups"

    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), primary_key=True)
    reference_digest: Mapped[str] = mapped_column(String(64), unique=True)
    pin_hash: Mapped[str | None] = mapped_column(String(200))  # None: not usable by phone
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Wrong PINs past the limit lock the reference through this day (UTC), inclusive.
    locked_through: Mapped[date | None] = mapped_column(Date)


class FollowUpQuestion(Base):
    """A question the report's holder asked the caller: what, in which language, which day."""

    __tablename__ = "followup_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    asked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    asked_on: Mapped[date] = mapped_column(Date)
    answered_on: Mapped[date | None] = mapped_column(Date)


class FollowUpAnswer(Base):
    """A recording the caller made on a follow-up call: a new part of the same report."""

    __tablename__ = "followup_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("recording_jobs.id"), unique=True)
    # The question it answers; None when there was none (the caller added more).
    question_id: Mapped[int | None] = mapped_column(ForeignKey("followup_questions.id"))
    stored: Mapped[bool] = mapped_column(default=False)


class FollowUpFailures(Base):
    """Failed follow-up attempts in one clock hour, across every reference (no report)."""

    __tablename__ = "followup_failures"

    hour: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class PhoneAction(enum.StrEnum):
    """What a follow-up call may put in the audit trail (the edge writes nothing else)."""

    VERIFIED = "followup_verified"
    REFUSED = "followup_refused"
    REFERENCE_GIVEN = "followup_reference_given"
    ANSWERED = "followup_answered"


class PhoneEvent(Base):
    """A follow-up call's audit event, waiting for the console to seal it into the trail.

    The edge holds no audit key and may not write the trail: it may only add a row here,
    with the day and an action from the list, never a time, a report or an actor. The
    console moves the rows of days gone by into the trail under its own key.
    """

    __tablename__ = "phone_events"
    # The new id is drawn from the sequence first, not read back: the edge may not read here.
    __table_args__ = {"implicit_returning": False}  # noqa: RUF012 - SQLAlchemy's own API

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    on: Mapped[date] = mapped_column(Date)
    action: Mapped[PhoneAction] = mapped_column(string_enum(PhoneAction))
