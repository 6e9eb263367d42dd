"""Abuse control without identifying anyone: a signed form token, a proof of work (or a
sum for those without JavaScript), and one global limit on reports per minute.

Nothing here looks at an address, a browser or a cookie. The token travels in the form
itself (signed with the edge's key; it replaces a CSRF cookie) and carries its own age,
so an expired form is told apart. All state is in memory and forgets within its window.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

# The form's action URL carries its token, so it is checked before the body is read.
TOKEN_PARAM = "token"  # noqa: S105 - the name of a query parameter, not a secret
ADMIT_DAYS = 1
# The front marks a request whose body it did not read (its token was not ours) with this.
UNREAD_KEY = "ivr.front.unread"


@dataclass(frozen=True)
class Limits:
    max_files: int = 5
    max_file_mb: int = 10
    max_text: int = 5000  # characters per free-text field
    form_minutes: int = 60  # a form older than this has expired
    per_minute: int = 30  # reports accepted per minute, from everyone together
    work_bits: int = 14  # leading zero bits of the proof of work

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    @property
    def max_request_bytes(self) -> int:
        # Every file at its limit, the typed text (4 bytes a character at most) and the
        # multipart framing: a larger body is refused before it is read.
        return self.max_files * self.max_file_bytes + 8 * self.max_text * 4 + 64 * 1024


@dataclass(frozen=True)
class Challenge:
    nonce: str  # the proof of work's challenge, and the form's one-time id
    a: int
    b: int
    bits: int


class FormExpired(Exception):
    """The form is too old, was used already, or its token was not ours."""


class FormGuard:
    """Issue and check form tokens; remember used ones until they would expire anyway."""

    def __init__(self, secret: bytes, limits: Limits) -> None:
        key = hmac.new(secret, b"ivr-online-form", hashlib.sha256).digest()
        self._serializer = URLSafeTimedSerializer(key, salt="online-form")
        self._limits = limits
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> tuple[str, Challenge]:
        challenge = Challenge(
            secrets.token_hex(12),
            secrets.randbelow(9) + 1,
            secrets.randbelow(9) + 1,
            self._limits.work_bits,
        )
        token = self._serializer.dumps([challenge.nonce, challenge.a, challenge.b, challenge.bits])
        return token, challenge

    def read(self, token: str) -> Challenge:
        """Return the token's challenge, or raise FormExpired."""
        try:
            nonce, a, b, bits = self._serializer.loads(
                token, max_age=self._limits.form_minutes * 60
            )
        except (SignatureExpired, BadSignature, ValueError, TypeError):
            raise FormExpired from None
        with self._lock:
            self._forget_old()
            if nonce in self._used:
                raise FormExpired
        return Challenge(str(nonce), int(a), int(b), int(bits))

    def admits_query(self, query: bytes) -> bool:
        """True if a form post's query names a token of ours that was not spent.

        The front asks this before it reads a byte of the body. A token that is merely
        old passes (for a day), so the view can show an expired form's answers again.
        """
        token = parse_qs(query.decode("latin-1")).get(TOKEN_PARAM, [""])[0]
        try:
            nonce = self._serializer.loads(token, max_age=ADMIT_DAYS * 86400)[0]
        except (SignatureExpired, BadSignature, ValueError, TypeError, IndexError, KeyError):
            return False
        with self._lock:
            return str(nonce) not in self._used

    def passed(self, challenge: Challenge, work: str, answer: str) -> bool:
        """True if the proof of work is done, or the sum is answered."""
        if work and len(work) <= 32 and _leading_zero_bits(challenge.nonce, work) >= challenge.bits:
            return True
        return answer.strip() == str(challenge.a + challenge.b)

    def spend(self, challenge: Challenge) -> None:
        """A form is sent once: its token is not accepted again."""
        with self._lock:
            self._used[challenge.nonce] = time.monotonic()

    def _forget_old(self) -> None:
        horizon = time.monotonic() - self._limits.form_minutes * 60
        for nonce in [n for n, at in self._used.items() if at < horizon]:
            del self._used[nonce]


def _leading_zero_bits(nonce: str, work: str) -> int:
    digest = hashlib.sha256(f"{nonce}:{work}".encode()).digest()
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


class GlobalLimit:
    """At most ``per_minute`` reports a minute from everyone: no one is singled out."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._accepted: deque[float] = deque()
        self._lock = threading.Lock()
        self.counts = {"accepted": 0, "refused_busy": 0, "refused_check": 0, "expired": 0}

    def admit(self) -> bool:
        with self._lock:
            horizon = time.monotonic() - 60
            while self._accepted and self._accepted[0] < horizon:
                self._accepted.popleft()
            if len(self._accepted) >= self.per_minute:
                self.counts["refused_busy"] += 1
                return False
            self._accepted.append(time.monotonic())
            return True

    def count(self, outcome: str) -> None:
        with self._lock:
            self.counts[outcome] += 1

    def recent(self) -> int:
        with self._lock:
            horizon = time.monotonic() - 60
            return sum(1 for at in self._accepted if at >= horizon)


class OnlineCollector(Collector):
    """``/metrics``: the form's outcomes in this process (labels are outcomes only)."""

    def __init__(self, limit: GlobalLimit) -> None:
        self._limit = limit

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        outcomes = CounterMetricFamily(
            "ivr_online_submissions",
            "Online report forms sent to this process, by outcome (refused_busy: the global limit).",
            labels=["outcome"],
        )
        for outcome, count in self._limit.counts.items():
            outcomes.add_metric([outcome], count)
        yield outcomes
        window = GaugeMetricFamily(
            "ivr_online_rate_limit",
            "Online reports accepted in the last minute, and the limit.",
            labels=["kind"],
        )
        window.add_metric(["accepted_last_minute"], self._limit.recent())
        window.add_metric(["limit_per_minute"], self._limit.per_minute)
        yield window
