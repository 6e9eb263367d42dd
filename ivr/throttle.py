"""Sign-in throttling by source: a memory of recent failures that forgets within minutes.

Account lockout alone lets anyone lock staff out by guessing at their names; throttling
the source of the guesses stops one machine trying many names, while the owners keep
signing in from their own browsers. The memory is per process and holds nothing older
than its window.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class SourceThrottle:
    def __init__(self, limit: int = 20, window_seconds: float = 15 * 60) -> None:
        self._limit, self._window = limit, window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def refuses(self, source: str) -> bool:
        """True while ``source`` has failed ``limit`` times within the window."""
        with self._lock:
            return len(self._recent(source)) >= self._limit

    def failed(self, source: str) -> None:
        with self._lock:
            self._recent(source).append(time.monotonic())

    def _recent(self, source: str) -> deque[float]:
        horizon = time.monotonic() - self._window
        for key in [k for k, v in self._failures.items() if not v or v[-1] < horizon]:
            del self._failures[key]  # forget quiet sources entirely
        found = self._failures.setdefault(source, deque())
        while found and found[0] < horizon:
            found.popleft()
        return found
