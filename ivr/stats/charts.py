"""Charts drawn on the server, as SVG geometry a template writes out, each with its table.

No script draws them: the console's Content-Security-Policy allows none inline, a
screen reader reads the table beside each chart, and a printed page keeps them. A chart
here is only numbers (where each bar goes) and words (its title, a one-line summary for
its ``<desc>``, and the rows of its table).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# GOV.UK's blue and dark grey: each at least 3:1 against white, as graphics must be.
COLOURS = ("#1d70b8", "#505a5f")
WIDTH = 640


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Chart:
    """One chart: its drawing, its words, and its data as a table."""

    id: str
    title: str
    summary: str
    height: int
    bars: tuple[Bar, ...]
    labels: tuple[Label, ...]
    gridlines: tuple[float, ...]  # y (columns) or x (bars) of each gridline
    horizontal: bool
    legend: tuple[tuple[str, str], ...]  # (colour, series name), when more than one
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    width: int = WIDTH

    @property
    def empty(self) -> bool:
        return not any(bar.height > 0 and bar.width > 0 for bar in self.bars)


def nice_top(largest: int) -> int:
    """A round axis top at or above ``largest`` (1, 2 or 5 times a power of ten)."""
    if largest <= 0:
        return 1
    power: int = 10 ** math.floor(math.log10(largest))
    for step in (1, 2, 5, 10):
        if step * power >= largest:
            return step * power
    raise AssertionError("unreachable: ten times the power is above the largest")


def _ticks(top: int) -> list[int]:
    # A top of 1, 2 or 5 times a power of ten splits into whole fifths or halves.
    for parts in (5, 4, 2):
        if top % parts == 0 and top >= parts:
            return [top // parts * i for i in range(parts + 1)]
    return [0, top]


def columns(
    id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    what: str,
    axis: str = "Month",
) -> Chart:
    """Vertical columns, one group per category (a month), one column per series."""
    height, left, right, top_margin, bottom = 260, 48, 12, 28, 36
    plot_w, plot_h = WIDTH - left - right, height - top_margin - bottom
    top = nice_top(max((v for _, values in series for v in values), default=0))
    slot = plot_w / max(len(categories), 1)
    bar_w = max(slot * 0.8 / max(len(series), 1), 1.0)
    bars, labels = [], []
    for index, _category in enumerate(categories):
        for number, (_, values) in enumerate(series):
            h = plot_h * values[index] / top
            x = left + index * slot + slot * 0.1 + number * bar_w
            bars.append(Bar(x, top_margin + plot_h - h, bar_w, h, COLOURS[number % 2]))
    every = math.ceil(len(categories) / 8) or 1
    for index, category in enumerate(categories):
        if index % every == 0:
            labels.append(Label(left + (index + 0.5) * slot, height - bottom + 16, category))
    gridlines = []
    for tick in _ticks(top):
        y = top_margin + plot_h - plot_h * tick / top
        gridlines.append(y)
        labels.append(Label(left - 6, y + 4, str(tick), "end"))
    legend = tuple((COLOURS[n % 2], name) for n, (name, _) in enumerate(series))
    rows = tuple(
        (category, *(str(values[i]) for _, values in series))
        for i, category in enumerate(categories)
    )
    return Chart(
        id=id,
        title=title,
        summary=_summary_of_columns(categories, series, what, axis),
        height=height,
        bars=tuple(bars),
        labels=tuple(labels),
        gridlines=tuple(gridlines),
        horizontal=False,
        legend=legend if len(series) > 1 else (),
        headers=(axis, *(name for name, _ in series)),
        rows=rows,
    )


def _summary_of_columns(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    what: str,
    axis: str,
) -> str:
    if not categories or not series:
        return "Nothing to show."
    name, values = series[0]
    total = sum(values)
    if total == 0:
        return f"No {what} in these months."
    peak = max(range(len(values)), key=lambda i: values[i])
    return f"{name}: {total} in all; the most, {values[peak]}, {axis.lower()} {categories[peak]}."


def bars(
    id: str, title: str, items: Sequence[tuple[str, int]], *, heading: str, what: str
) -> Chart:
    """Horizontal bars, one per group, largest first: a breakdown by channel, force…"""
    ordered = sorted(items, key=lambda item: (-item[1], item[0]))
    row_h, top_margin, label_w, value_w = 26, 8, 220, 48
    height = top_margin * 2 + row_h * max(len(ordered), 1)
    plot_w = WIDTH - label_w - value_w
    top = nice_top(max((value for _, value in ordered), default=0))
    drawn, labels = [], []
    for index, (group, value) in enumerate(ordered):
        y = top_margin + index * row_h
        w = plot_w * value / top
        drawn.append(Bar(label_w, y + 4, w, row_h - 8, COLOURS[0]))
        labels.append(Label(label_w - 8, y + row_h / 2 + 4, _clip(group), "end"))
        labels.append(Label(label_w + w + 6, y + row_h / 2 + 4, str(value), "start"))
    total = sum(value for _, value in ordered)
    if not ordered or total == 0:
        summary = f"No {what} in these months."
    else:
        group, value = ordered[0]
        summary = f"{total} {what} in all; the most, {value}, {group}."
    return Chart(
        id=id,
        title=title,
        summary=summary,
        height=height,
        bars=tuple(drawn),
        labels=tuple(labels),
        gridlines=(),
        horizontal=True,
        legend=(),
        headers=(heading, what[0].upper() + what[1:]),
        rows=tuple((group, str(value)) for group, value in ordered),
    )


def _clip(text: str, most: int = 30) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"
