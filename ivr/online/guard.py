"""Abuse control without identifying anyone: a signed form token and a proof for every
report, either the browser's proof of work (harder as everyone's reports grow) or, without
JavaScript, characters read from a picture (a small share a minute).

Nothing here looks at an address, a browser or a cookie. The token travels in the form
itself (signed with the edge's key; it replaces a CSRF cookie) and carries its own age,
so an expired form is told apart. A spent token is kept in the database, so that it is
spent once across every web process; the rest is in memory and forgets within its window.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import parse_qs

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ivr.models.online import SpentToken
from ivr.platform.db import Database, utcnow
from ivr.platform.logs import event

logger = logging.getLogger(__name__)

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
    per_minute: int = 30  # reports a minute from everyone before the work grows harder
    work_bits: int = 14  # leading zero bits of the proof of work, at a quiet time
    max_work_bits: int = 24  # a browser's work at the worst flood: a minute or two
    # A form whose work was set this many bits below today's still passes: a sender who
    # opened it just before a flood is not sent back, and a hoard of cheap forms soon fails.
    slack_bits: int = 2
    human_per_minute: int = 10  # reports a minute sent with the picture instead of the work

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
    bits: int  # the work this form was given


class FormExpired(Exception):
    """The form is too old, was used already, or its token was not ours."""


class Passed(enum.Enum):
    WORK = "work"  # the browser's proof of work, at today's difficulty
    PICTURE = "picture"  # the characters in the picture, typed by a person
    STALE = "stale"  # work done, but for a difficulty that has since risen
    NOT = "not"


# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: characters a person cannot mistake for each other.
PICTURE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
PICTURE_LENGTH = 5


class FormGuard:
    """Issue and check form tokens; remember spent ones until they would expire anyway.

    A token holds a random nonce and the work's difficulty, nothing else: the picture's
    characters are derived from the nonce with a key only the server holds, so neither
    the token nor the page says what they are. A spent token is a row in ``db`` (the
    nonce's keyed digest and the day), shared by every process that serves the form.
    """

    def __init__(self, secret: bytes, limits: Limits, db: Database) -> None:
        key = hmac.new(secret, b"ivr-online-form", hashlib.sha256).digest()
        self._serializer = URLSafeTimedSerializer(key, salt="online-form")
        self._picture_key = hmac.new(secret, b"ivr-online-picture", hashlib.sha256).digest()
        self._spent_key = hmac.new(secret, b"ivr-online-spent", hashlib.sha256).digest()
        self._limits = limits
        self._db = db
        # A row is kept while its token could still be read: the form's lifetime, and
        # the day an old form is still shown again, counted in whole days after today.
        self._keep_days = max(ADMIT_DAYS, math.ceil(limits.form_minutes / 1440))
        self._purged_on: date | None = None
        # The tokens this process spent: the front's gate and ``read`` ask them, never the
        # database; ``spend`` asks the database too.
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self, bits: int) -> tuple[str, Challenge]:
        challenge = Challenge(secrets.token_hex(12), bits)
        token = self._serializer.dumps([challenge.nonce, challenge.bits])
        return token, challenge

    def read(self, token: str, max_age: int | None = None) -> Challenge:
        """Return the token's challenge, or raise FormExpired."""
        try:
            nonce, bits = self._serializer.loads(
                token, max_age=max_age or self._limits.form_minutes * 60
            )
        except (SignatureExpired, BadSignature, ValueError, TypeError):
            raise FormExpired from None
        with self._lock:
            self._forget_old()
            if nonce in self._used:
                raise FormExpired
        return Challenge(str(nonce), int(bits))

    def form_in_query(self, query: bytes) -> str | None:
        """Return the one-time id of a token of ours, not spent here, a post's query names.

        The front asks this before it reads a byte of the body (None: it does not read
        it), and lets one post a token arrive at a time in this process (each process
        its own rule; ``spend`` is what holds across them). A token that is merely old
        passes (for a day), so the view can show an expired form's answers again.
        """
        token = parse_qs(query.decode("latin-1")).get(TOKEN_PARAM, [""])[0]
        try:
            return self.read(token, max_age=ADMIT_DAYS * 86400).nonce
        except FormExpired:
            return None

    def picture_text(self, challenge: Challenge) -> str:
        """The characters the form's picture shows (never on the page, never in the token)."""
        digest = hmac.new(self._picture_key, challenge.nonce.encode(), hashlib.sha256).digest()
        return "".join(PICTURE_ALPHABET[b % len(PICTURE_ALPHABET)] for b in digest[:PICTURE_LENGTH])

    def passed(self, challenge: Challenge, work: str, typed: str, required_bits: int) -> Passed:
        """Judge the form's proof: the work against today's difficulty, or the picture."""
        if work:
            if len(work) > 32:
                return Passed.NOT
            done = _leading_zero_bits(challenge.nonce, work)
            need = max(self._limits.work_bits, required_bits - self._limits.slack_bits)
            if done >= need:
                return Passed.WORK
            return Passed.STALE if done >= challenge.bits else Passed.NOT
        answer = "".join(typed.split()).upper()
        if answer and hmac.compare_digest(answer, self.picture_text(challenge)):
            return Passed.PICTURE
        return Passed.NOT

    def spend(self, challenge: Challenge, today: date | None = None) -> bool:
        """Spend a form's token, once: False if it was spent already (by a parallel post).

        Checked and marked under one lock in this process, then inserted in the database,
        before the report is stored: two posts of one solved form cannot both pass, even
        in two web processes, for the second process's INSERT of the same key fails.
        A database error is raised, with the token given back here.
        """
        with self._lock:
            self._forget_old()
            if challenge.nonce in self._used:
                return False
            self._used[challenge.nonce] = time.monotonic()
        today = today or utcnow().date()
        try:
            if self._purged_on != today:
                self.purge_spent(today)
            with self._db.transaction() as session:
                session.execute(
                    insert(SpentToken).values(digest=self._digest(challenge), spent_on=today)
                )
        except IntegrityError:
            # Spent by another process, whose row stays the judge: if that process gives
            # the token back (its report was not stored), it may be spent here after all.
            self._forget(challenge)
            return False
        except BaseException:
            self._forget(challenge)
            raise
        return True

    def unspend(self, challenge: Challenge) -> None:
        """Give a spent token back: its report was not stored, and may be sent again."""
        try:
            with self._db.transaction() as session:
                session.execute(
                    delete(SpentToken).where(SpentToken.digest == self._digest(challenge))
                )
        except SQLAlchemyError:
            # The database is away (likely why the report was not stored): the form stays
            # spent, and the sender, who keeps every answer, does a new form's work.
            event(logger, "online.unspend_failed", logging.WARNING)
            return
        self._forget(challenge)

    def purge_spent(self, today: date | None = None) -> int:
        """Delete the spent tokens that have expired anyway; return how many (once a day)."""
        today = today or utcnow().date()
        horizon = today - timedelta(days=self._keep_days)
        with self._db.transaction() as session:
            purged = session.execute(delete(SpentToken).where(SpentToken.spent_on < horizon))
        self._purged_on = today
        return int(getattr(purged, "rowcount", 0) or 0)

    def _digest(self, challenge: Challenge) -> str:
        return hmac.new(self._spent_key, challenge.nonce.encode(), hashlib.sha256).hexdigest()

    def _forget(self, challenge: Challenge) -> None:
        with self._lock:
            self._used.pop(challenge.nonce, None)

    def _forget_old(self) -> None:
        horizon = time.monotonic() - ADMIT_DAYS * 86400
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


class Window:
    """Moments within the last minute."""

    def __init__(self) -> None:
        self._moments: deque[float] = deque()

    def count(self, now: float) -> int:
        while self._moments and self._moments[0] < now - 60:
            self._moments.popleft()
        return len(self._moments)

    def add(self, now: float) -> None:
        self._moments.append(now)


class GlobalLimit:
    """The price of a report rises with everyone's recent reports: no one is turned away.

    Each doubling of the last minute's accepted reports above ``per_minute`` adds a bit
    to the work (twice the hashes), up to ``max_work_bits``. A flood so pays for itself
    ever more dearly, while a real sender's browser does the same work and gets through.
    The picture, which a paid person or a clever script can read, has its own small
    share a minute, so it can never be the way around the work.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.per_minute = limits.per_minute
        self._accepted = Window()
        self._pictures = Window()
        self._lock = threading.Lock()
        self.counts = {
            "accepted": 0,
            "refused_busy": 0,
            "refused_check": 0,
            "expired": 0,
            "more_work": 0,
        }

    def bits(self) -> int:
        """The work a form asks for now."""
        with self._lock:
            recent = self._accepted.count(time.monotonic())
        limits = self.limits
        if recent < limits.per_minute:
            return limits.work_bits
        extra = math.floor(math.log2(recent / limits.per_minute)) + 1
        return min(limits.work_bits + extra, limits.max_work_bits)

    def admit(self, passed: Passed) -> bool:
        """Count an accepted report; a picture is refused when its share is used up."""
        with self._lock:
            now = time.monotonic()
            if passed is Passed.PICTURE:
                if self._pictures.count(now) >= self.limits.human_per_minute:
                    self.counts["refused_busy"] += 1
                    return False
                self._pictures.add(now)
            self._accepted.add(now)
            return True

    def count(self, outcome: str) -> None:
        with self._lock:
            self.counts[outcome] += 1

    def recent(self) -> int:
        with self._lock:
            return self._accepted.count(time.monotonic())


class OnlineCollector(Collector):
    """``/metrics``: the form's outcomes in this process (labels are outcomes only)."""

    def __init__(self, limit: Callable[[], GlobalLimit]) -> None:
        self._current = limit

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        limit = self._current()
        outcomes = CounterMetricFamily(
            "ivr_online_submissions",
            "Online report forms sent to this process, by outcome (refused_busy: the picture's share was used up; more_work: sent back for today's difficulty).",
            labels=["outcome"],
        )
        for outcome, count in limit.counts.items():
            outcomes.add_metric([outcome], count)
        yield outcomes
        window = GaugeMetricFamily(
            "ivr_online_rate_limit",
            "Online reports accepted in the last minute, the rate above which the work grows, and the work's bits now.",
            labels=["kind"],
        )
        window.add_metric(["accepted_last_minute"], limit.recent())
        window.add_metric(["limit_per_minute"], limit.per_minute)
        window.add_metric(["work_bits"], limit.bits())
        yield window
