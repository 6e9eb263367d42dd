"""Files only this service's user can read, dated no finer than the day.

Everything we write to a local disk (the SQLite database, stored objects, outbox mail,
the spool) is readable by our user alone: 0600 files in 0700 folders, whatever the
process's umask. A file's modification time would date the call it came from to the
second, so stored objects and their folders carry midnight (UTC) of the day instead.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(folder: Path) -> Path:
    """Create ``folder`` (and missing parents) readable by this user only."""
    missing = [parent for parent in folder.parents if not parent.exists()]
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    for created in (folder, *missing):  # mkdir's mode is cut by the umask: set it outright
        created.chmod(FOLDER_MODE)
    return folder


def open_private(path: Path, *, exclusive: bool = False) -> int:
    """Open ``path`` for writing as a 0600 file (truncated), and return the descriptor."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode through os.open
    return fd


def fsync_folder(folder: Path) -> None:
    """Make a file's creation or rename in ``folder`` durable (it lives in the folder)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` as a 0600 file."""
    with os.fdopen(open_private(path), "wb") as handle:
        handle.write(data)


def midnight(now: datetime | None = None) -> float:
    """Return the start of today (UTC) as a timestamp."""
    day = (now or datetime.now(UTC)).astimezone(UTC).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def date_to_the_day(*paths: Path) -> None:
    """Set the access and modification times of ``paths`` to midnight of today."""
    stamp = midnight()
    for path in paths:
        os.utime(path, (stamp, stamp))
