"""Online reports: their encrypted text, contact details and attachments (issue 14).

Kept apart from ``ivr.models`` (which is at its size limit); registered on
``Base.metadata`` through ``ivr.tables``. Like a recording, each part is an object in the
store, encrypted with the audio's envelope; its wrapped key is sealed under its report's
day key (``ivr.crypto.day_keys``), so retention destroys it as it destroys audio. Nothing
here says who sent it, from where, or when to finer than the report's day: not even the
name of an attached file, which could carry the sender's own name.
"""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.db import Base, string_enum


class OnlinePart(enum.StrEnum):
    TEXT = "text"  # what the sender wrote, with their answers to the form's questions
    CONTACT = "contact"  # contact details, kept apart like a caller's contact recording
    ATTACHMENT = "attachment"


class OnlineObject(Base):
    """One encrypted part of an online report in the object store, and its sealed key."""

    __tablename__ = "online_objects"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    part: Mapped[OnlinePart] = mapped_column(string_enum(OnlinePart))
    position: Mapped[int] = mapped_column(Integer, default=0)  # order of the attachments
    object_name: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)  # sealed under its day's key
    key_ref: Mapped[str] = mapped_column(String(200))
    chunk_size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100), default="")
    # Set by the console once the metadata is stripped: the original is then destroyed.
    cleaned: Mapped[bool] = mapped_column(default=False)
    # What cleaning removed, by kind ("GPS position", "camera make"), never the values.
    removed: Mapped[str] = mapped_column(Text, default="")

    @property
    def key_part(self) -> str:
        """The part its data key is bound to (``object_context``): never a recording's."""
        return f"online-{self.part.value}"
