"""Sign-in throttling: a memory of recent failures, by account and address, that forgets.

Account lockout alone lets anyone lock staff out by guessing at their names; throttling
the address the guesses come from stops one machine trying many names. Failures are
counted by (account, address), and apart for a browser the account has signed in from
before (its device cookie): so neither a stranger nor a colleague behind the same
address, failing at their own name or at the owner's, holds up the owner's own browser,
while failures in that browser hold up only that account there. The address is the
client's as the console's load balancer saw it (``ProxyFix``, ``IVR_PROXY_HOPS``). The
memory is per process and holds nothing older than its window.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

# Long enough for any real name; what a stranger types beyond it is not kept.
_NAME_CHARS = 100


@dataclass(frozen=True)
class Attempt:
    """Who a sign-in tries to be, from where, and whether from a trusted browser."""

    account: str
    address: str
    trusted: bool  # the browser carries this account's device cookie

    @property
    def key(self) -> tuple[str, str, bool]:
        return (self.account.strip()[:_NAME_CHARS], self.address, self.trusted)


class SourceThrottle:
    def __init__(
        self, limit: int = 20, window_seconds: float = 15 * 60, per_account: int | None = None
    ) -> None:
        self._limit, self._window = limit, window_seconds
        self._per_account = limit if per_account is None else per_account
        self._failures: dict[object, deque[float]] = {}
        self._lock = threading.Lock()

    def refuses(self, attempt: Attempt) -> bool:
        """True while ``attempt``'s account, from its address, has failed too often.

        An untrusted browser is held also once its address has failed ``limit`` times,
        whatever the names; a trusted browser is spared that.
        """
        with self._lock:
            if len(self._recent(attempt.key)) >= self._per_account:
                return True
            return not attempt.trusted and len(self._recent(attempt.address)) >= self._limit

    def failed(self, attempt: Attempt) -> None:
        """Remember a failed sign-in."""
        with self._lock:
            now = time.monotonic()
            self._recent(attempt.key).append(now)
            if not attempt.trusted:
                self._recent(attempt.address).append(now)

    def _recent(self, key: object) -> deque[float]:
        horizon = time.monotonic() - self._window
        for stale in [k for k, v in self._failures.items() if not v or v[-1] < horizon]:
            del self._failures[stale]  # forget quiet accounts and addresses entirely
        found = self._failures.setdefault(key, deque())
        while found and found[0] < horizon:
            found.popleft()
        return found
