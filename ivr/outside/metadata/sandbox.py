"""Clean an attachment in a child process that has its own memory and time limits.

A file made to decode into gigabytes (a picture of 13,000 x 13,000 pixels in half a
megabyte, a PDF whose page tree names one page two million times) must not take the
console's web process with it. The child is a fresh interpreter (``python -I``, with an
empty environment, so none of the console's secrets) running the cleaners alone
(``ivr.outside.metadata.child``), limited before it reads a byte. The file goes in over a pipe and the cleaned copy comes back over one, never
through a file. Past its address-space limit the child's allocations fail; past its
time limit it is killed.
"""

from __future__ import annotations

import contextlib
import json
import math
import subprocess
import sys
import threading
from typing import IO, ClassVar

from ivr.outside.metadata import child as cleaning_child
from ivr.outside.metadata.library import TYPES
from ivr.outside.metadata.outcome import CannotClean, Cleaned

# Room for a 50-megapixel picture decoded twice (library.MAX_PIXELS) and for pikepdf on a
# PDF within its bounds (PDFium draws one page at a time), while a 1 GiB console task keeps the rest for its web processes.
MEMORY_BYTES = 512 * 1024 * 1024
# A full-size photo is cleaned in a few seconds; the 13,000 x 13,000 picture took 14.6.
# Drawing a PDF takes about a tenth of a second a page, and re-encoding ten minutes of
# sound a few seconds.
SECONDS = 30.0
# A cleaned copy is about the size of its original (at most 10 MB from the form).
MAX_OUTPUT = 64 * 1024 * 1024
_HEADER_BYTES = 4
_MAX_HEADER = 1024 * 1024
STOPPED = "cleaning it stopped before it finished: it needed more memory than is allowed"


class SandboxedStripper:
    """``LibraryStripper`` in a child process, within memory and time limits."""

    # One child at a time per web process: threads wait their turn rather than multiply
    # the memory that children may take.
    _turn: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        *,
        memory_bytes: int = MEMORY_BYTES,
        seconds: float = SECONDS,
        max_output: int = MAX_OUTPUT,
    ) -> None:
        self.memory_bytes, self.seconds, self.max_output = memory_bytes, seconds, max_output

    def strip(self, data: bytes, media_type: str) -> Cleaned:
        if media_type not in TYPES:
            raise CannotClean(f"no cleaner for {media_type}")
        with self._turn:
            output, expired, returncode = self._run(data, media_type)
        if expired:
            raise CannotClean(f"cleaning it took longer than {self.seconds:g} seconds, the limit")
        if output is None:
            raise CannotClean("its cleaned copy would be larger than is allowed")
        return _outcome(output, returncode)

    def _run(self, data: bytes, media_type: str) -> tuple[bytes | None, bool, int]:
        command = [
            sys.executable,
            "-I",  # no user site, no PYTHON* variables, no current directory on the path
            "-B",  # and no bytecode written: the child writes no file at all
            cleaning_child.__file__,
            media_type,
            str(self.memory_bytes),
            str(math.ceil(self.seconds)),  # CPU seconds: a backstop to the wall clock
        ]
        child = subprocess.Popen(  # noqa: S603 (our own interpreter and module, no shell)
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a traceback may quote the file; it goes nowhere
            env={},
        )
        assert child.stdin is not None and child.stdout is not None
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            child.kill()

        timer = threading.Timer(self.seconds, expire)
        feeder = threading.Thread(target=_feed, args=(child.stdin, data), daemon=True)
        timer.start()
        feeder.start()
        output = None
        try:
            output = _read_at_most(child.stdout, _HEADER_BYTES + _MAX_HEADER + self.max_output)
        finally:
            if output is None:
                child.kill()
            child.stdout.close()
            child.wait()
            timer.cancel()
            feeder.join()
        return output, expired.is_set(), child.returncode


def _feed(stream: IO[bytes], data: bytes) -> None:
    with contextlib.suppress(OSError):  # a child that stopped early reads no more
        stream.write(data)
    with contextlib.suppress(OSError):
        stream.close()


def _read_at_most(stream: IO[bytes], limit: int) -> bytes | None:
    """Read ``stream`` to its end; None once it runs past ``limit`` bytes."""
    chunks, size = [], 0
    while chunk := stream.read(1 << 16):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _outcome(output: bytes, returncode: int) -> Cleaned:
    """Turn what the child wrote into a cleaned file, or the reason it was refused."""
    length = int.from_bytes(output[:_HEADER_BYTES], "big")
    if returncode != 0 or len(output) < _HEADER_BYTES or length > _MAX_HEADER:
        raise CannotClean(STOPPED)
    try:
        header = json.loads(output[_HEADER_BYTES : _HEADER_BYTES + length])
    except ValueError:
        raise CannotClean(STOPPED) from None
    match header:
        case {"refused": str(reason)}:
            raise CannotClean(reason)
        case {"removed": list(removed), "media_type": str(media_type)} if all(
            isinstance(kind, str) for kind in removed
        ):
            return Cleaned(output[_HEADER_BYTES + length :], removed, media_type)
        case _:
            raise CannotClean(STOPPED)
