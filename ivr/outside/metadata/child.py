"""The sandbox's child: clean the file on stdin within the limits in argv, write the outcome.

Run by path (``python -I -B child.py``), not as ``ivr``'s module: importing ``ivr`` would
build the whole application, its configuration included. Instead the packages above the
cleaners are made empty stand-ins, so only the cleaning modules themselves are loaded,
and only once the limits are in place: no stranger's byte is parsed before them.
"""

from __future__ import annotations

import contextlib
import json
import resource
import sys
import types
from pathlib import Path


def _limit(memory: int, seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
    # No core dump (it would hold the decrypted file) and no file written at all.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    with contextlib.suppress(OSError):  # if the task runs short, the kernel kills this first
        Path("/proc/self/oom_score_adj").write_text("1000")


def _stand_in_packages() -> None:
    """Let ``ivr.outside.metadata.*`` import without running any package's ``__init__``."""
    here = Path(__file__).resolve().parent
    for name, folder in (
        ("ivr", here.parent.parent),
        ("ivr.outside", here.parent),
        ("ivr.outside.metadata", here),
    ):
        package = types.ModuleType(name)
        package.__path__ = [str(folder)]
        sys.modules[name] = package


def main() -> None:
    media_type, memory, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    _limit(memory, seconds)
    _stand_in_packages()
    from ivr.outside.metadata.library import LibraryStripper
    from ivr.outside.metadata.outcome import CannotClean

    data = sys.stdin.buffer.read()
    try:
        cleaned = LibraryStripper().strip(data, media_type)
    except CannotClean as error:
        header: dict[str, object] = {"refused": str(error)}
        body = b""
    else:
        header = {"removed": cleaned.removed, "media_type": cleaned.media_type}
        body = cleaned.data
    encoded = json.dumps(header).encode()
    out = sys.stdout.buffer
    out.write(len(encoded).to_bytes(4, "big"))
    out.write(encoded)
    out.write(body)
    out.flush()


if __name__ == "__main__":
    main()
