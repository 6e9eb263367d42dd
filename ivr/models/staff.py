"""The charity's staff. Nothing about callers is ever linked to one."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ivr.platform.db import Base, string_enum


class Role(enum.StrEnum):
    HANDLER = "handler"
    SUPERVISOR = "supervisor"
    OPS = "ops"
    ADMIN = "admin"
    # The service's managers: the statistics page, read only, and nothing of any report.
    MANAGER = "manager"


# Every account speaks English until an admin says otherwise.
DEFAULT_LANGUAGES = "en-GB"


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
    # The languages the user takes reports in, as the call flow's tags, space-separated
    # ("en-GB cy-GB"): "Take next" offers a handler only reports in these (routing by
    # skill, as Amazon Connect routes a contact to an agent with its language).
    languages: Mapped[str] = mapped_column(
        String(100), default=DEFAULT_LANGUAGES, server_default=DEFAULT_LANGUAGES
    )

    @property
    def language_tags(self) -> tuple[str, ...]:
        """The user's languages, as tags; English if none were ever set."""
        return tuple((self.languages or DEFAULT_LANGUAGES).split())
