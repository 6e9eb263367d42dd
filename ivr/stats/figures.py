"""Read the counters back: a period of months, narrowed by what a manager filters on.

Every figure is a sum of counters, computed by the database (one grouped query per
breakdown), so the page costs the same whether the reports behind it still exist or
were destroyed years ago. An event that was counted without a fact cannot be split by
it: a report is queued before a handler chooses its force, so "received" cannot be
filtered to one force, and such a figure is "not counted that way" (None), never 0.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.models.stats import NOT_TIMED, StatCount, StatEvent
from ivr.stats.counters import month_of

# The facts a counter holds, beside its month, and which of them each event records.
DIMENSIONS = ("channel", "language", "category", "force", "anonymity")
_EVERYTHING = frozenset(DIMENSIONS)
_NO_FORCE = frozenset(DIMENSIONS) - {"force"}
RECORDS: Mapping[StatEvent, frozenset[str]] = {
    # Counted on the internet-facing side, which may not read a handler's choices.
    StatEvent.RECEIVED: _NO_FORCE,
    StatEvent.SUBMITTED: _EVERYTHING,
    StatEvent.RETURNED: _EVERYTHING,
    StatEvent.APPROVED: _EVERYTHING,
    StatEvent.DISSEMINATED: _EVERYTHING,
    StatEvent.DESTROYED_UNSENT: _EVERYTHING,
    StatEvent.FOLLOW_UP_ASKED: _EVERYTHING,
    StatEvent.FOLLOW_UP_ANSWERED: _NO_FORCE,
    # A call that left nothing has no language, category or force: only its month.
    StatEvent.CALL_WITHOUT_REPORT: frozenset({"channel"}),
}

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A period that is not one: said in words a manager can act on."""


@dataclass(frozen=True)
class Period:
    """Whole months, first to last inclusive ("2027-01" to "2027-12")."""

    first: str
    last: str

    # Ten years of months is the most one page or one export covers.
    LONGEST = 120

    @classmethod
    def parse(cls, first: str, last: str) -> Period:
        for given in (first, last):
            if not _MONTH.match(given) or not 1 <= int(given[5:]) <= 12:
                raise PeriodError(f"{given!r} is not a month: write it as 2027-03")
        if first > last:
            raise PeriodError(f"the period starts ({first}) after it ends ({last})")
        period = cls(first, last)
        if len(period.months()) > cls.LONGEST:
            raise PeriodError(f"a period is at most {cls.LONGEST} months")
        return period

    @classmethod
    def year_to(cls, today: date) -> Period:
        """The twelve months up to and including this one: what a board looks at."""
        eleven_back = today.year * 12 + today.month - 1 - 11
        start = f"{eleven_back // 12:04d}-{eleven_back % 12 + 1:02d}"
        return cls(start, month_of(today))

    def months(self) -> list[str]:
        year, month = int(self.first[:4]), int(self.first[5:])
        found = []
        while (current := f"{year:04d}-{month:02d}") <= self.last:
            found.append(current)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found

    def label(self) -> str:
        return self.first if self.first == self.last else f"{self.first} to {self.last}"


@dataclass(frozen=True)
class Filters:
    """What the figures are narrowed to; an empty field keeps everything."""

    channel: str = ""
    language: str = ""
    category: str = ""
    force: str = ""

    def given(self) -> dict[str, str]:
        return {name: value for name, value in vars(self).items() if value}


def answerable(event: StatEvent, filters: Filters) -> bool:
    """Whether ``event`` was counted with every fact ``filters`` narrows by."""
    return set(filters.given()) <= RECORDS[event]


def sums(
    session: Session,
    period: Period,
    filters: Filters,
    events: Iterable[StatEvent],
    *by: str,
) -> dict[tuple[str, ...], int]:
    """(event, *the ``by`` columns) -> how many, over the period and the filters.

    Only events that can answer the filters are asked for; the rest have no rows.
    """
    asked = [event for event in events if answerable(event, filters)]
    if not asked:
        return {}
    columns = [getattr(StatCount, name) for name in by]
    query = (
        select(StatCount.event, *columns, func.sum(StatCount.count))
        .where(
            StatCount.event.in_(asked),
            StatCount.month >= period.first,
            StatCount.month <= period.last,
            *(getattr(StatCount, name) == value for name, value in filters.given().items()),
        )
        .group_by(StatCount.event, *columns)
    )
    found: dict[tuple[str, ...], int] = {}
    for row in session.execute(query):
        event, *keys, total = row
        found[(StatEvent(event).value, *(str(key) for key in keys))] = int(total)
    return found


def percentile(days: Mapping[int, int], share: float) -> int | None:
    """The nearest-rank percentile of a histogram of whole days (None: nothing in it).

    Nearest rank gives a number of days that some report actually took, as a board
    expects ("nine in ten reached their force within 12 days"), never an interpolation.
    """
    total = sum(days.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(share * total))
    seen = 0
    for day in sorted(days):
        seen += days[day]
        if seen >= rank:
            return day
    raise AssertionError("unreachable: the ranks add up to the total")


@dataclass
class Figures:
    """Everything the statistics page shows, for one period and set of filters."""

    period: Period
    filters: Filters
    # event -> month -> how many (None for an event the filters cannot split)
    monthly: dict[StatEvent, dict[str, int] | None] = field(default_factory=dict)
    # dimension -> event -> group -> how many
    breakdowns: dict[str, dict[StatEvent, dict[str, int] | None]] = field(default_factory=dict)
    days: Counter[int] = field(default_factory=Counter)

    def total(self, event: StatEvent) -> int | None:
        months = self.monthly.get(event)
        return None if months is None else sum(months.values())

    @property
    def median_days(self) -> int | None:
        return percentile(self.days, 0.5)

    @property
    def p90_days(self) -> int | None:
        return percentile(self.days, 0.9)

    @property
    def returned_rate(self) -> float | None:
        """Returns for every report submitted for review, as a share (None: none submitted)."""
        submitted = self.total(StatEvent.SUBMITTED)
        returned = self.total(StatEvent.RETURNED)
        if not submitted or returned is None:
            return None
        return returned / submitted

    def by(self, dimension: str, event: StatEvent) -> dict[str, int] | None:
        return self.breakdowns.get(dimension, {}).get(event)


def read(session: Session, period: Period, filters: Filters) -> Figures:
    """The page's figures, in one grouped query for each way they are split."""
    figures = Figures(period, filters)
    events = list(StatEvent)
    monthly = sums(session, period, filters, events, "month")
    for event in events:
        if not answerable(event, filters):
            figures.monthly[event] = None
            continue
        months = dict.fromkeys(period.months(), 0)
        for (name, month), total in monthly.items():
            if name == event.value:
                months[month] = total
        figures.monthly[event] = months
    for dimension in DIMENSIONS:
        split = sums(session, period, filters, events, dimension)
        figures.breakdowns[dimension] = {
            event: (
                {group: n for (name, group), n in split.items() if name == event.value}
                if answerable(event, filters) and dimension in RECORDS[event]
                else None
            )
            for event in events
        }
    timed = sums(session, period, filters, [StatEvent.DISSEMINATED], "days")
    figures.days = Counter(
        {int(days): n for (_, days), n in timed.items() if int(days) != NOT_TIMED}
    )
    return figures
