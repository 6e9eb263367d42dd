"""Withhold the cells of a published table that could single someone out.

The Government Statistical Service's guidance on disclosure control asks a producer to
judge which counts are small enough to identify, withhold them (primary suppression),
and then withhold enough others that a withheld cell cannot be worked out by taking the
published cells from a published total (secondary suppression). It fixes no threshold;
ours is ``Config.stats_threshold`` (5, the "fewer than 5" of much UK health and justice
statistics), and here:

- a count from 1 to threshold - 1, a total among them, is withheld;
- a zero is published: it says no report came, which identifies nobody;
- every additive line (parts and their total) that holds one withheld cell gets a
  second: the smallest non-zero part left (a withheld zero would give the first away,
  since the difference would then be the withheld count itself), or, when no part is
  left to withhold, the line's total, which then protects the lines it is a part of;
- this runs until no line holds exactly one withheld cell, across every table at once,
  because tables share their totals (a month's total is a part of the year's);
- then the lines are solved as equations in the withheld cells, as an intruder would:
  any cell they still determine (four withheld cells in a rectangle can leave a fifth
  alone) takes the smallest published cell beside it, and all of this runs again.

``tests/stats/test_disclosure.py`` then attacks the published CSV with a linear
programme, as an intruder with the totals would, and cannot pin down a withheld cell.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)

# How a withheld cell is written: the GSS's symbol for "confidential".
WITHHELD = "[c]"


@dataclass(frozen=True)
class Line(Generic[Key]):
    """Cells that add up to a total: both are published, so each betrays the other."""

    parts: tuple[Key, ...]
    total: Key


def withheld(values: Mapping[Key, int], lines: Iterable[Line[Key]], threshold: int) -> set[Key]:
    """The cells of ``values`` to withhold, given the lines they add up along."""
    lines = list(lines)
    hidden = {key for key, value in values.items() if 0 < value < threshold}
    while True:
        _two_in_every_line(values, lines, hidden)
        # Two per line is not always enough: four withheld cells in a rectangle add up
        # to known sums among themselves, and can leave a fifth alone. Whatever the
        # published lines still pin down takes one more cell with it, until none is.
        pinned = worked_out(lines, hidden)
        if not pinned:
            return hidden
        before = len(hidden)
        for key in sorted(pinned, key=lambda key: values[key]):
            _protect(values, lines, hidden, key)
        if len(hidden) == before:  # nothing left to withhold beside them
            return hidden


def _two_in_every_line(values: Mapping[Key, int], lines: list[Line[Key]], hidden: set[Key]) -> None:
    changed = True
    while changed:
        changed = False
        for line in lines:
            members = (*line.parts, line.total)
            if sum(key in hidden for key in members) != 1:
                continue
            left = [key for key in line.parts if key not in hidden and values[key] > 0]
            if left:
                # The smallest: a board loses the least it would have read.
                hidden.add(min(left, key=lambda key: values[key]))
            elif line.total not in hidden:
                hidden.add(line.total)
            else:
                continue  # only zeros beside a withheld total: nothing to work out
            changed = True


def _protect(values: Mapping[Key, int], lines: list[Line[Key]], hidden: set[Key], key: Key) -> None:
    """Withhold the smallest published non-zero cell on a line through ``key``."""
    beside = [
        other
        for line in lines
        if key in line.parts or key == line.total
        for other in (*line.parts, line.total)
        if other not in hidden and values[other] > 0
    ]
    if beside:
        hidden.add(min(beside, key=lambda other: values[other]))


def worked_out(lines: Iterable[Line[Key]], hidden: set[Key]) -> set[Key]:
    """The withheld cells that the published lines determine exactly.

    Each line is an equation in its withheld cells (the published ones are numbers).
    Brought to reduced row echelon form, a withheld cell is determined exactly when its
    row holds nothing but itself; otherwise some other withheld cell can trade with it.
    """
    pivots: dict[Key, dict[Key, Fraction]] = {}
    for line in lines:
        row = _equation(line, hidden)
        for pivot, pivot_row in pivots.items():
            if factor := row.get(pivot):
                _subtract(row, factor, pivot_row)
        if not row:
            continue
        pivot = next(iter(row))
        lead = row[pivot]
        row = {key: value / lead for key, value in row.items()}
        for other in pivots.values():
            if factor := other.get(pivot):
                _subtract(other, factor, row)
        pivots[pivot] = row
    return {pivot for pivot, row in pivots.items() if len(row) == 1}


def _equation(line: Line[Key], hidden: set[Key]) -> dict[Key, Fraction]:
    """The line as an equation in its withheld cells: parts minus total is a number."""
    row: dict[Key, Fraction] = {}
    for key in line.parts:
        if key in hidden:
            row[key] = row.get(key, Fraction(0)) + 1
    if line.total in hidden:
        row[line.total] = row.get(line.total, Fraction(0)) - 1
    return {key: value for key, value in row.items() if value}


def _subtract(row: dict[Key, Fraction], factor: Fraction, other: dict[Key, Fraction]) -> None:
    """row -= factor * other, dropping what becomes zero."""
    for key, value in other.items():
        left = row.get(key, Fraction(0)) - factor * value
        if left:
            row[key] = left
        else:
            row.pop(key, None)
