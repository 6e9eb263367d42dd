"""The publication-safe CSV: what a force or a commissioner may put in front of the public.

One row per published number, in long form so any spreadsheet can pivot it:

    period, measure, breakdown, group, value

``period`` is a month ("2027-03") or the whole period ("2027-01 to 2027-12");
``breakdown`` is "all" or what the measure is split by (category, channel, language,
force, anonymity), and ``group`` one of its values ("All" for the total). Each measure's
months add up to its period, and each breakdown's groups to "All": an intruder knows
that much, so ``ivr.stats.disclosure`` withholds cells along both. A withheld cell reads
"[c]". The median and 90th percentile of days to dissemination are withheld with the
number of reports they summarise.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ivr.models.stats import StatEvent
from ivr.stats.disclosure import WITHHELD, Line, withheld
from ivr.stats.figures import DIMENSIONS, RECORDS, Filters, Period, answerable, percentile, sums

COLUMNS = ("period", "measure", "breakdown", "group", "value")
ALL = "All"
EVERYTHING = "all"

# What each event is called where the public reads it.
MEASURES: Mapping[StatEvent, str] = {
    StatEvent.RECEIVED: "Reports received",
    StatEvent.SUBMITTED: "Reports written up for review",
    StatEvent.RETURNED: "Reports returned for changes",
    StatEvent.APPROVED: "Reports approved",
    StatEvent.DISSEMINATED: "Reports passed to a force",
    StatEvent.DESTROYED_UNSENT: "Reports destroyed unsent",
    StatEvent.FOLLOW_UP_ASKED: "Follow-up questions asked",
    StatEvent.FOLLOW_UP_ANSWERED: "Follow-up questions answered",
    StatEvent.CALL_WITHOUT_REPORT: "Calls that ended without a report",
}
MEDIAN = "Median days to reach the force"
P90 = "90th percentile of days to reach the force"

# (period, event, breakdown, group): one published count.
Cell = tuple[str, str, str, str]
Labeller = Callable[[str, str], str]


@dataclass
class Publication:
    """The cells of the export, which of them are withheld, and the days' summary."""

    period: Period
    filters: Filters
    values: dict[Cell, int]
    hidden: set[Cell]
    days: dict[str, int | None]  # MEDIAN / P90 -> days (None: withheld or no report)

    def rows(self, label: Labeller) -> list[tuple[str, str, str, str, str]]:
        found = []
        for cell in sorted(self.values, key=_order):
            period, event, breakdown, group = cell
            shown = WITHHELD if cell in self.hidden else str(self.values[cell])
            value_of_group = group if group == ALL else label(breakdown, group)
            found.append((period, MEASURES[StatEvent(event)], breakdown, value_of_group, shown))
        whole = self.period.label()
        for measure, days in self.days.items():
            found.append((whole, measure, EVERYTHING, ALL, WITHHELD if days is None else str(days)))
        return found

    def csv(self, label: Labeller) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(self.rows(label))
        return out.getvalue()


def _order(cell: Cell) -> tuple[int, str, int, str, str]:
    period, event, breakdown, group = cell
    events = list(StatEvent)
    return (
        events.index(StatEvent(event)),
        breakdown if breakdown != EVERYTHING else "",
        group != ALL,
        group,
        period,
    )


def publish(session: Session, period: Period, filters: Filters, threshold: int) -> Publication:
    """Every count the filters can answer, by month and in total, with its small cells
    and the cells that would betray them withheld."""
    whole = period.label()
    months = period.months()
    events = [event for event in MEASURES if answerable(event, filters)]
    values: dict[Cell, int] = {}
    lines: list[Line[Cell]] = []

    monthly = sums(session, period, filters, events, "month")
    for event in events:
        for month in months:
            values[month, event.value, EVERYTHING, ALL] = monthly.get((event.value, month), 0)
        values[whole, event.value, EVERYTHING, ALL] = sum(
            values[month, event.value, EVERYTHING, ALL] for month in months
        )
        lines.append(_line(months, whole, event.value, EVERYTHING, ALL))

    narrowed = set(filters.given())
    for dimension in DIMENSIONS:
        if dimension in narrowed:
            continue  # one value only: its table would repeat the totals
        split_events = [event for event in events if dimension in RECORDS[event]]
        split = sums(session, period, filters, split_events, "month", dimension)
        for event in split_events:
            groups = sorted({group for (name, _, group) in split if name == event.value})
            for group in groups:
                for month in months:
                    values[month, event.value, dimension, group] = split.get(
                        (event.value, month, group), 0
                    )
                values[whole, event.value, dimension, group] = sum(
                    values[month, event.value, dimension, group] for month in months
                )
                lines.append(_line(months, whole, event.value, dimension, group))
            # Each month's groups, and the whole period's, add up to the measure's "All".
            for period_of in (*months, whole):
                lines.append(
                    Line(
                        tuple((period_of, event.value, dimension, g) for g in groups),
                        (period_of, event.value, EVERYTHING, ALL),
                    )
                )

    hidden = withheld(values, lines, threshold)
    disseminated = (whole, StatEvent.DISSEMINATED.value, EVERYTHING, ALL)
    days: dict[str, int | None] = {}
    if disseminated in values:
        timed = sums(session, period, filters, [StatEvent.DISSEMINATED], "days")
        histogram = {int(d): n for (_, d), n in timed.items() if int(d) >= 0}
        safe = disseminated not in hidden and values[disseminated] >= threshold
        days[MEDIAN] = percentile(histogram, 0.5) if safe else None
        days[P90] = percentile(histogram, 0.9) if safe else None
    return Publication(period, filters, values, hidden, days)


def _line(months: list[str], whole: str, event: str, breakdown: str, group: str) -> Line[Cell]:
    return Line(
        tuple((m, event, breakdown, group) for m in months), (whole, event, breakdown, group)
    )
