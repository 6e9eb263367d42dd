"""Day keys: the outer lock on every wrapped data key of one received day.

Kept apart from ``models`` so that the one table whose rows must be destroyed outright
stays small, and can be rewritten whole (``VACUUM FULL``) after each destruction.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from ivr.platform.db import Base


class DayKey(Base):
    """A random 256-bit key sealing the wrapped data keys of the reports of one day.

    Replaced at each purge that destroys a recording of its day (the survivors are
    sealed again under the new key), and deleted once none is left: a copy of a
    destroyed recording's wrapped key, in a dead row, a replica or a later backup, is
    then sealed under a key that no longer exists anywhere.
    """

    __tablename__ = "day_keys"

    day: Mapped[date] = mapped_column(Date, primary_key=True)  # the reports' received day
    key: Mapped[bytes] = mapped_column(LargeBinary)
    # A recording of this day was deleted: replace the key at the next purge.
    stale: Mapped[bool] = mapped_column(default=False)
