"""The published CSV withholds small counts, and an intruder holding every published
total cannot work one out.

The intruder is a linear programme (scipy's HiGHS, integer variables): it knows what a
reader of the CSV knows, that each measure's months add up to its period and each
breakdown's groups to "All", and that counts are whole and not negative. For every
withheld cell it finds the least and the most the cell could be. If both were the same,
the cell would be disclosed.
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from datetime import date

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from ivr.models.stats import Channel, StatEvent
from ivr.platform.db import Database
from ivr.stats.counters import count
from ivr.stats.disclosure import WITHHELD, Line, withheld, worked_out
from ivr.stats.export import ALL, EVERYTHING, MEASURES, Publication, publish
from ivr.stats.figures import Filters, Period

THRESHOLD = 5
PERIOD = Period.parse("2027-01", "2027-06")
FORCES = ("Dorset Police", "Kent Police", "Gwent Police")
CATEGORIES = ("drugs", "abuse", "information", "theft")

Cell = tuple[str, str, str, str]  # period, measure, breakdown, group


def plant_a_half_year(db: Database) -> None:
    """Six months of a small service: enough small counts to need hiding, and some zeros."""
    chance = random.Random(24)
    with db.transaction() as session:
        for month in range(1, 7):
            for force in FORCES:
                for category in CATEGORIES:
                    for _ in range(chance.choice((0, 0, 1, 2, 3, 6, 9, 14))):
                        facts = {
                            "channel": chance.choice(
                                (Channel.PHONE, Channel.PHONE, Channel.ONLINE)
                            ),
                            "language": chance.choice(("en-GB",) * 5 + ("cy-GB",)),
                            "category": category,
                            "force": force,
                            "anonymity": chance.choice(("anonymous", "contact")),
                        }
                        day = date(2027, month, chance.randint(1, 28))
                        count(
                            session,
                            StatEvent.DISSEMINATED,
                            day,
                            days=chance.randint(0, 20),
                            **facts,
                        )
                        del facts["force"]
                        count(session, StatEvent.RECEIVED, day, **facts)


def published(text: str) -> tuple[dict[Cell, int], set[Cell]]:
    """The CSV as a reader has it: the numbers shown, and the cells withheld."""
    shown, hidden = {}, set()
    for row in csv.DictReader(io.StringIO(text)):
        if not row["measure"].startswith("Reports"):
            continue  # the days' summary adds up to nothing
        cell = (row["period"], row["measure"], row["breakdown"], row["group"])
        if row["value"] == WITHHELD:
            hidden.add(cell)
        else:
            shown[cell] = int(row["value"])
    return shown, hidden


def additive_lines(cells: set[Cell]) -> list[tuple[list[Cell], Cell]]:
    """What a reader knows adds up: months to the period, groups to "All"."""
    whole = PERIOD.label()
    lines = []
    by_group: defaultdict[tuple[str, str, str], list[Cell]] = defaultdict(list)
    by_period: defaultdict[tuple[str, str, str], list[Cell]] = defaultdict(list)
    for cell in cells:
        period, measure, breakdown, group = cell
        if period != whole:
            by_group[measure, breakdown, group].append(cell)
        if group != ALL:
            by_period[period, measure, breakdown].append(cell)
    for (measure, breakdown, group), months in by_group.items():
        lines.append((months, (whole, measure, breakdown, group)))
    for (period, measure, _), groups in by_period.items():
        lines.append((groups, (period, measure, EVERYTHING, ALL)))
    return lines


def intruders_bounds(shown: dict[Cell, int], hidden: set[Cell]) -> dict[Cell, tuple[int, int]]:
    """The least and the most each withheld cell could be, given everything published."""
    unknown = sorted(hidden)
    index = {cell: i for i, cell in enumerate(unknown)}
    rows, sums = [], []
    for parts, total in additive_lines(set(shown) | hidden):
        row = np.zeros(len(unknown))
        known = 0
        for part in parts:
            if part in index:
                row[index[part]] += 1
            else:
                known += shown[part]
        if total in index:
            row[index[total]] -= 1
        else:
            known -= shown[total]
        if row.any():
            rows.append(row)
            sums.append(-known)
    constraints = LinearConstraint(np.array(rows), sums, sums)
    largest = sum(v for (p, _, b, g), v in shown.items() if b == EVERYTHING and p == PERIOD.label())
    bounds = Bounds(0, largest)
    found = {}
    for cell, i in index.items():
        ends = []
        for sign in (1, -1):
            goal = np.zeros(len(unknown))
            goal[i] = sign
            result = milp(goal, constraints=constraints, bounds=bounds, integrality=1)
            assert result.success, result.message
            ends.append(round(result.x[i]))
        found[cell] = (ends[0], ends[1])
    return found


@pytest.fixture
def publication(db: Database) -> Publication:
    plant_a_half_year(db)
    with db.reading() as session:
        return publish(session, PERIOD, Filters(), THRESHOLD)


def as_csv(publication: Publication) -> str:
    return publication.csv(lambda breakdown, group: group or "Not recorded")


def test_small_counts_are_withheld_and_zeros_and_large_counts_published(
    publication: Publication,
) -> None:
    shown, hidden = published(as_csv(publication))
    assert hidden, "a small service has small cells"
    assert not [cell for cell, value in shown.items() if 0 < value < THRESHOLD]
    assert 0 in shown.values()  # no report is not a person
    # every large count not needed to protect another is published exactly as counted
    truth = {_named(cell): value for cell, value in publication.values.items()}
    assert all(truth[cell] == value for cell, value in shown.items())


def test_an_intruder_with_every_published_total_cannot_work_out_a_withheld_cell(
    publication: Publication,
) -> None:
    shown, hidden = published(as_csv(publication))
    bounds = intruders_bounds(shown, hidden)
    truth = {_named(cell): value for cell, value in publication.values.items()}
    # (the intruder's model is right: every true count lies within what it found)
    assert all(low <= truth[cell] <= high for cell, (low, high) in bounds.items())
    pinned = {cell: ends for cell, ends in bounds.items() if ends[0] == ends[1]}
    assert not pinned, f"{len(pinned)} of {len(hidden)} withheld cells worked out: {pinned}"


def test_without_the_second_cells_the_same_intruder_works_small_counts_out(
    publication: Publication,
) -> None:
    # The attack is real: withhold only the small counts, publish the rest, and the
    # intruder pins small counts down from the totals.
    truth = {_named(cell): value for cell, value in publication.values.items()}
    small = {cell for cell, value in truth.items() if 0 < value < THRESHOLD}
    shown = {cell: value for cell, value in truth.items() if cell not in small}
    bounds = intruders_bounds(shown, small)
    pinned = [cell for cell, (low, high) in bounds.items() if low == high]
    assert pinned and all(bounds[cell][0] == truth[cell] for cell in pinned)


def _named(cell: tuple[str, str, str, str]) -> Cell:
    """An export's cell as its CSV row names it."""
    period, event, breakdown, group = cell
    label = group if group == ALL else (group or "Not recorded")
    return (period, MEASURES[StatEvent(event)], breakdown, label)


def test_a_single_small_cell_in_a_line_takes_a_second_with_it() -> None:
    # Given a month's three groups and their total, one group with 2 reports
    values = {"a": 2, "b": 7, "c": 30, "zero": 0, "total": 39}
    line = Line(("a", "b", "c", "zero"), "total")
    # Then the small one and the smallest other non-zero one are withheld, not the zero
    assert withheld(values, [line], THRESHOLD) == {"a", "b"}


def test_a_withheld_total_is_protected_along_the_lines_it_is_a_part_of() -> None:
    # Given two months of one group, the first small, and their period total
    values = {"jan": 3, "feb": 0, "period": 3, "jan-other": 10, "jan-all": 13}
    lines = [Line(("jan", "feb"), "period"), Line(("jan", "jan-other"), "jan-all")]
    hidden = withheld(values, lines, THRESHOLD)
    # the period total is as small: withheld; and January's other group hides it too
    assert {"jan", "period", "jan-other"} <= hidden
    assert "feb" not in hidden  # a zero, published


def test_a_rectangle_of_withheld_cells_does_not_leave_a_fifth_alone() -> None:
    # Given three months of two groups, as the export once published them: February's
    # and June's cells of both groups withheld (a rectangle, whose sums are known), and
    # April's small count of the first group withheld beside a second group's cell
    table = {
        ("feb", "abuse"): 5, ("apr", "abuse"): 3, ("jun", "abuse"): 5,
        ("feb", "info"): 2, ("apr", "info"): 16, ("jun", "info"): 5,
        ("feb", "theft"): 18, ("apr", "theft"): 7, ("jun", "theft"): 18,
    }  # fmt: skip
    months, groups = ("feb", "apr", "jun"), ("abuse", "info", "theft")
    values: dict[tuple[str, str], int] = dict(table)
    lines = []
    for month in months:
        values[month, "all"] = sum(table[month, g] for g in groups)
        lines.append(Line(tuple((month, g) for g in groups), (month, "all")))
    for group in (*groups, "all"):
        values["period", group] = sum(values[m, group] for m in months)
        lines.append(Line(tuple((m, group) for m in months), ("period", group)))
    lines.append(Line(tuple(("period", g) for g in groups), ("period", "all")))
    rectangle = {("feb", "abuse"), ("jun", "abuse"), ("feb", "info"), ("jun", "info")}
    # Then those five alone would give April's away: the lines pin it down
    assert worked_out(lines, rectangle | {("apr", "abuse"), ("apr", "theft")}) >= {("apr", "abuse")}
    # And what is withheld pins down nothing
    hidden = withheld(values, lines, THRESHOLD)
    assert ("apr", "abuse") in hidden and not worked_out(lines, hidden)
