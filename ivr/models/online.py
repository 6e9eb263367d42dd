"""Online reports: their encrypted text, contact details and attachments; spent form tokens.

Kept apart from ``ivr.models`` (which is at its size limit); registered on
``Base.metadata`` through ``ivr.models``. Like a recording, each part is an object in the
store, encrypted with the audio's envelope; its wrapped key is sealed under its report's
day key (``ivr.crypto.day_keys``), so retention destroys it as it destroys audio. Nothing
here says who sent it, from where, or when to finer than the report's day: not even the
name of an attached file, which could carry the sender's own name.
"""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.platform.db import AFTER_SEALED, Base, SealedObject, string_enum


class OnlinePart(enum.StrEnum):
    TEXT = "text"  # what the sender wrote, with their answers to the form's questions
    CONTACT = "contact"  # contact details, kept apart like a caller's contact recording
    ATTACHMENT = "attachment"


class OnlineObject(SealedObject, Base):
    """One encrypted part of an online report in the object store, and its sealed key."""

    __tablename__ = "online_objects"

    part: Mapped[OnlinePart] = mapped_column(string_enum(OnlinePart))
    position: Mapped[int] = mapped_column(Integer, default=0)  # order of the attachments
    media_type: Mapped[str] = mapped_column(String(100), default="", sort_order=AFTER_SEALED)
    # Set by the console once the metadata is stripped: the original is then destroyed.
    cleaned: Mapped[bool] = mapped_column(default=False, sort_order=AFTER_SEALED)
    # What cleaning removed, by kind ("GPS position", "camera make"), never the values.
    removed: Mapped[str] = mapped_column(Text, default="", sort_order=AFTER_SEALED)

    @staticmethod
    def key_part_of(part: OnlinePart) -> str:
        """Return the part an online object's data key is bound to: never a recording's."""
        return f"online-{part.value}"

    @property
    def key_part(self) -> str:
        return self.key_part_of(self.part)


class SpentToken(Base):
    """An online form's token, spent once across every process: its keyed digest and day.

    The digest is of the token's random one-time id, keyed with the edge's secret, so a
    row names no form a reader could match; nothing about the sender is ever here. Rows
    outlive the token (``ivr.online.guard``) and are purged after a day or two.
    """

    __tablename__ = "online_tokens_spent"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    spent_on: Mapped[date] = mapped_column(Date)  # UTC, the day only
