"""The call flow's tables: versions, recorded prompts (live and draft), the announcement,
and the flow's history of saves, publishes, rollbacks and prompt changes, append-only.

Kept apart from ``ivr.models`` (which is at its size limit); registered on
``Base.metadata`` through ``ivr.models``. Nothing here is about a call or a caller: only
what the operations team did, and when.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ivr.platform.db import Base, JSONDict, string_enum


class FlowState(enum.StrEnum):
    DRAFT = "draft"  # saved, not heard by callers
    PUBLISHED = "published"  # what new calls hear (one per flow)
    RETIRED = "retired"  # published once; calls pinned to it still finish on it


class FlowVersion(Base):
    """An immutable version of a call flow, identified by the hash of its content.

    ``author``, ``message`` and ``changed_at`` say who made the version and why; every
    later publish or rollback of it is a :class:`FlowEvent`, never an overwrite.
    """

    __tablename__ = "flow_versions"
    __table_args__ = (
        # One published version per flow: two publishes at once cannot both win.
        Index(
            "uq_flow_versions_published",
            "name",
            unique=True,
            postgresql_where=text("state = 'published'"),
            sqlite_where=text("state = 'published'"),
        ),
    )

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    content: Mapped[str] = mapped_column(Text)
    # V1, V2, ...: what people call versions in history, diffs and rollbacks.
    number: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[FlowState] = mapped_column(string_enum(FlowState), default=FlowState.DRAFT)
    author: Mapped[str] = mapped_column(String(100), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    # When staff saved or published it (never anything about a call).
    changed_at: Mapped[datetime | None]


class PromptAudio(Base):
    """A published recorded prompt for one step in one language, played instead of the text."""

    __tablename__ = "prompt_audio"
    __table_args__ = (UniqueConstraint("flow", "step", "language", name="uq_prompt_audio_step"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    flow: Mapped[str] = mapped_column(String(100))
    step: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(200))
    mimetype: Mapped[str] = mapped_column(String(50))
    data: Mapped[bytes] = mapped_column(LargeBinary)  # in the database: every web machine serves it
    seconds: Mapped[float] = mapped_column(Float)
    uploaded_by: Mapped[str] = mapped_column(String(100))


class PromptDraft(Base):
    """A prompt change callers do not hear yet: a new recording, or (no data) a removal.

    The test phone plays it; publishing the prompt changes moves it into
    :class:`PromptAudio` (or deletes the published recording) and deletes the draft.
    """

    __tablename__ = "prompt_drafts"
    __table_args__ = (UniqueConstraint("flow", "step", "language", name="uq_prompt_drafts_step"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    flow: Mapped[str] = mapped_column(String(100))
    step: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(200), default="")
    mimetype: Mapped[str] = mapped_column(String(50), default="")
    # None: the draft removes the step's published recording (callers hear the text again).
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    uploaded_by: Mapped[str] = mapped_column(String(100))


class Announcement(Base):
    """A service announcement played after the welcome, e.g. during a national appeal."""

    __tablename__ = "announcements"

    flow: Mapped[str] = mapped_column(String(100), primary_key=True)
    texts: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)  # language -> text
    active: Mapped[bool] = mapped_column(default=False)
    ends_at: Mapped[datetime | None]
    changed_by: Mapped[str] = mapped_column(String(100), default="")


class FlowAction(enum.StrEnum):
    SAVE_DRAFT = "save_draft"
    PUBLISH = "publish"
    ROLLBACK = "rollback"
    PROMPT_DRAFT = "prompt_draft"  # a recording uploaded as a draft
    PROMPT_REMOVAL = "prompt_removal"  # a recording's removal, as a draft
    PROMPT_PUBLISH = "prompt_publish"  # the prompt drafts made what callers hear


class FlowEvent(Base):
    """One thing the ops team did to a flow: appended, never changed or deleted."""

    __tablename__ = "flow_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flow: Mapped[str] = mapped_column(String(100), index=True)
    # The flow version it concerns; 0 for a prompt change, which is not tied to one.
    number: Mapped[int] = mapped_column(Integer, default=0)
    action: Mapped[FlowAction] = mapped_column(string_enum(FlowAction))
    author: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]
