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
  because tables share their totals (a month's total is a part of the year's).

``tests/stats/test_disclosure.py`` then attacks the published CSV with a linear
programme, as an intruder with the totals would, and cannot pin down a withheld cell.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
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
    return hidden
