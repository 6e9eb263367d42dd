"""Supervisors' review thread on a report.

Kept apart from ``ivr.models`` (which is at its size limit); registered on
``Base.metadata`` through ``ivr.models``.
"""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.platform.db import Base, string_enum

# A message is read by people at work, not a document: a few paragraphs at most.
MESSAGE_MAX_CHARS = 2000


class MessageKind(enum.StrEnum):
    """Why a message joined the thread."""

    RETURN = "return"
    APPROVE = "approve"
    COMMENT = "comment"


class ReviewMessage(Base):
    """One message of a report's review thread: who, which day (never a time), what."""

    __tablename__ = "review_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    # Empty for a comment carried over from before the thread, whose author was not kept.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[MessageKind] = mapped_column(string_enum(MessageKind, length=16))
    on: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text, default="")
