"""The audit trail: who did what to which report, sealed into a keyed chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.platform.db import Base


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
