"""The service's figures: counters written when things happen, kept after the reports go.

One row per month and combination of what a manager may ask about (channel, language,
category, force, anonymity and, for a dissemination, the whole days it took), holding how
many times the event happened. Nothing here could lead back to one report: no reference,
no id, no day, no time, not even the order in which rows were made (the key is the
combination itself, never a sequence). Retention destroys reports, never these.
"""

from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ivr.platform.db import Base, string_enum


class StatEvent(enum.StrEnum):
    """What is counted, at the moment it happens."""

    RECEIVED = "received"  # a report was queued for handlers for the first time
    SUBMITTED = "submitted"  # a handler submitted it for review
    RETURNED = "returned"  # a supervisor sent it back to its author
    APPROVED = "approved"
    DISSEMINATED = "disseminated"  # first passed to a force (a resend is not counted)
    DESTROYED_UNSENT = "destroyed_unsent"  # retention destroyed it before it was sent
    FOLLOW_UP_ASKED = "follow_up_asked"  # a question was put to the caller
    FOLLOW_UP_ANSWERED = "follow_up_answered"  # the caller rang back and answered it
    CALL_WITHOUT_REPORT = "call_without_report"  # a call ended at the menu, nothing recorded


class Channel(enum.StrEnum):
    PHONE = "phone"
    ONLINE = "online"
    FALLBACK = "fallback"  # the static fallback, while the service was unavailable


# A counter's dimension that was not known when the event happened (a report's force
# before a handler chose one; the force of an answer, which the edge may not read).
UNKNOWN = ""
# The days column of every event but a dissemination.
NOT_TIMED = -1


class StatCount(Base):
    """How many times ``event`` happened in ``month`` for one combination of facts."""

    __tablename__ = "stat_counts"
    __table_args__ = (
        CheckConstraint("month ~ '^[0-9]{4}-[0-9]{2}$'", name="month_only").ddl_if(
            dialect="postgresql"
        ),
        CheckConstraint("length(month) = 7", name="month_length"),
        CheckConstraint("days >= -1", name="days_or_untimed"),
        CheckConstraint("count > 0", name="count_positive"),
        # The page asks by event and month range: every other column is read from here.
        Index("ix_stat_counts_event_month", "event", "month"),
        # A force's page and export (a tenth of the reading, one force among 49).
        Index("ix_stat_counts_force_event_month", "force", "event", "month"),
    )

    # "2027-03": the month the event happened in, never a finer time.
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    event: Mapped[StatEvent] = mapped_column(string_enum(StatEvent), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    category: Mapped[str] = mapped_column(String(50), primary_key=True)
    force: Mapped[str] = mapped_column(String(100), primary_key=True)
    anonymity: Mapped[str] = mapped_column(String(16), primary_key=True)
    # Whole days from the day a report was received to the day it was first sent.
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
