"""A local, append-only spool for callbacks that arrive while the database is down.

Twilio tells us about a recording once (and about a call's end once). If the database
cannot take that news, we must still answer Twilio with a success, and must not lose
it: the entry is appended to ``spool.jsonl`` under ``IVR_SPOOL_DIR`` and fsynced
before the answer goes out. Once the database is back, entries are replayed in order,
each in its own transaction, and removed from the file after that transaction commits.
Replaying is idempotent (recordings are keyed by a hash of their SID), so an entry
replayed twice after a crash between commit and removal changes nothing.

Concurrency, across threads and processes on one machine, is by ``flock``:

- a writer locks the spool file for the length of one append (and re-opens it if a
  replayer replaced it meanwhile);
- one replayer at a time holds ``replay.lock``; it reads the entries under the spool
  file's lock, replays them without it (writers are never held up by the database),
  then takes the lock again to rewrite the file without the entries it committed.

Entries hold only what registering needs (the journal writes them, see
:mod:`ivr.telephony.journal`): the part, the duration, the menu choices, and the recording and call
SIDs (which the fetch job needs, and which leave this file when the entry is replayed).
Never a caller's number. The directory is 0700 and the file 0600.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ivr.platform.logs import event
from ivr.platform.private_files import (
    FILE_MODE,
    date_to_the_day,
    fsync_folder,
    midnight,
    open_private,
    private_folder,
)

logger = logging.getLogger(__name__)

SPOOL_FILE = "spool.jsonl"
REPLAY_LOCK = "replay.lock"

Entry = dict[str, Any]


class StopReplay(Exception):
    """Raised by an entry's handler when replaying should stop (the database went away)."""


class Spool:
    """The spool file of one machine, shared by all of its processes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / SPOOL_FILE
        self._folder_ready = False

    def append(self, entry: Entry) -> None:
        """Add ``entry`` durably: when this returns, it is on disk."""
        line = json.dumps({"id": secrets.token_hex(8), **entry}, separators=(",", ":"))
        self._ensure_folder()
        with self._locked_file(os.O_RDWR | os.O_APPEND | os.O_CREAT) as fd:
            size = os.fstat(fd).st_size
            # A crash mid-append leaves a torn last line: start ours on a line of its own.
            torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
            os.write(fd, (("\n" if torn else "") + line + "\n").encode())
            os.fchmod(fd, FILE_MODE)  # whatever the umask made of a new file
            # A modification time to the second would date the call: keep only the day.
            os.utime(fd, (midnight(), midnight()))
            os.fsync(fd)
        fsync_folder(self.folder)  # the file's directory entry, the first time
        date_to_the_day(self.folder)
        event(logger, "spool.appended", kind=entry.get("kind", ""))

    def probe(self) -> None:
        """Create the folder and write, fsync and remove a file in it (raises OSError)."""
        self._ensure_folder()
        probe = self.folder / f".probe.{secrets.token_hex(4)}"
        fd = open_private(probe, exclusive=True)
        try:
            os.write(fd, b"probe\n")
            os.fsync(fd)
        finally:
            os.close(fd)
            probe.unlink()

    def waiting(self) -> int:
        """How many entries wait to be replayed."""
        try:
            return sum(1 for line in self.path.read_bytes().splitlines() if line.strip())
        except FileNotFoundError:
            return 0

    def pending(self) -> bool:
        """True when entries wait to be replayed (a stat, cheap enough for every callback)."""
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def replay(self, apply: Callable[[Entry], None]) -> int:
        """Apply every entry in order; remove those applied. Return how many were.

        ``apply`` commits one entry's transaction, or raises :class:`StopReplay` to stop
        (the entry stays). Any other error drops the entry with the error logged: it can
        never succeed, and the recording itself is still at Twilio, where reconciliation
        finds it. Returns 0 at once when another process is replaying.
        """
        if not self.pending():
            return 0
        with self._replay_lock() as mine:
            if not mine:
                return 0
            entries = self._read()
            done: set[str] = set()
            try:
                for entry in entries:
                    try:
                        apply(entry)
                    except StopReplay:
                        break
                    except Exception:
                        logger.exception("spool.entry_dropped kind=%s", entry.get("kind"))
                    done.add(str(entry.get("id")))
            finally:
                self._remove(done)
        applied = len(done)
        if applied:
            event(logger, "spool.replayed", entries=applied, left=len(entries) - applied)
        return applied

    def _read(self) -> list[Entry]:
        # Opened for writing although only read: on NFS (the deployed spool is on EFS) an
        # exclusive flock needs a descriptor open for writing (flock(2)).
        with self._locked_file(os.O_RDWR) as fd:
            raw = _read_all(fd)
        entries = []
        for number, line in enumerate(raw.splitlines(), 1):
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if isinstance(entry, dict) and "id" in entry:
                entries.append(entry)
            elif line.strip():
                # A torn line from a crash mid-append: it was never acknowledged to Twilio.
                event(logger, "spool.torn_line_dropped", logging.WARNING, line=number)
        return entries

    def _remove(self, done: set[str]) -> None:
        """Rewrite the file without ``done``, keeping anything appended meanwhile."""
        with self._locked_file(os.O_RDWR) as fd:  # writable for NFS's flock, as in _read
            keep = []
            for line in _read_all(fd).splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict) and str(entry.get("id")) not in done:
                    keep.append(line + "\n")
            if not keep:
                self.path.unlink()
            else:
                # Written aside and renamed over: a crash leaves the old file or the new one.
                spare = self.folder / f".{SPOOL_FILE}.{secrets.token_hex(4)}"
                out = open_private(spare, exclusive=True)
                try:
                    os.write(out, "".join(keep).encode())
                    os.fsync(out)
                finally:
                    os.close(out)
                os.replace(spare, self.path)
                date_to_the_day(self.path)
            fsync_folder(self.folder)
            date_to_the_day(self.folder)

    @contextmanager
    def _locked_file(self, flags: int) -> Iterator[int]:
        """Open the spool file and lock it; the file a replayer has just replaced is retried."""
        while True:
            fd = os.open(self.path, flags, FILE_MODE)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    current = os.stat(self.path)
                except FileNotFoundError:
                    current = None
                mine = os.fstat(fd)
                if current is not None and (current.st_ino, current.st_dev) == (
                    mine.st_ino,
                    mine.st_dev,
                ):
                    yield fd
                    return
            finally:
                os.close(fd)  # releases the lock

    @contextmanager
    def _replay_lock(self) -> Iterator[bool]:
        self._ensure_folder()
        fd = os.open(self.folder / REPLAY_LOCK, os.O_WRONLY | os.O_CREAT, FILE_MODE)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def _ensure_folder(self) -> None:
        if not self._folder_ready:
            private_folder(self.folder)
            self._folder_ready = True


def _read_all(fd: int) -> str:
    chunks = []
    offset = 0
    while chunk := os.pread(fd, 1 << 16, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")
