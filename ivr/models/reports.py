"""Reports: what a caller or sender chose, the day it arrived, the handler's work on it.

Nothing here holds a caller identifier, and a report carries the day it was received,
never a time. Its encrypted recordings are :class:`AudioObject` rows; the jobs that fetch
them from Twilio live in :mod:`ivr.models.calls`.
"""

from __future__ import annotations

import enum
import secrets
import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ivr.platform.db import AFTER_SEALED, REPORT_TEXT, Base, SealedObject, string_enum

if TYPE_CHECKING:
    from ivr.models.calls import RecordingJob


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


class Anonymity(enum.StrEnum):
    ANONYMOUS = "anonymous"
    CONTACT = "contact"  # the caller chose to leave contact details


class RecordingPart(enum.StrEnum):
    REPORT = "report"
    CONTACT = "contact"  # contact details, kept apart from the report itself


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
    # By email: "pending" until the mail server has taken it, then "sent". A send the
    # mail server refused waits in this state and goes when it answers (ivr.reports.outbox).
    delivery: Mapped[str | None] = mapped_column(String(16))


# Unambiguous characters, so a handler can read a reference aloud or type it.
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference() -> str:
    """Return a random report reference such as ``R-7KQ3-M9XD`` (never time-derived)."""
    chars = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"R-{chars[:4]}-{chars[4:]}"
