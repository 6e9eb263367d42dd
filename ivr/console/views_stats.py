"""The statistics page and its CSV: the service's figures, for supervisors and managers.

The page shows exact figures: the people who may open it work for the service. What
leaves it, the CSV, is the publication-safe export (``ivr.stats.export``), the same file
``ivr stats export`` writes, so a figure reaches the public only with its small cells
withheld.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, flash, g, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ivr.console import signed_in
from ivr.models.reports import Force
from ivr.models.stats import Channel, StatEvent
from ivr.platform.db import utcnow
from ivr.reports.workflow import LANGUAGES
from ivr.services import services
from ivr.staff import audit
from ivr.staff.permissions import Action
from ivr.stats import charts
from ivr.stats.export import MEASURES, publish
from ivr.stats.figures import Figures, Filters, Period, PeriodError, read
from ivr.stats.labels import Labels

bp = Blueprint("stats", __name__, url_prefix="/console")

# How long reports took to reach their force, in the bands a board reads.
DAY_BANDS = (
    (0, 0, "Same day"),
    (1, 3, "1 to 3 days"),
    (4, 7, "4 to 7 days"),
    (8, 14, "8 to 14 days"),
)
DAY_BANDS_LAST = (15, "15 days or more")


@dataclass(frozen=True)
class Choices:
    """What each filter offers: (value, label), and the labels of every group."""

    channels: list[tuple[str, str]]
    categories: list[tuple[str, str]]
    forces: list[tuple[str, str]]
    languages: list[tuple[str, str]]
    labels: Labels


def _choices() -> Choices:
    categories = services().flows.current().flow.categories
    labels = Labels(categories, LANGUAGES)
    with services().db.reading() as session:
        forces = list(session.scalars(select(Force.name).order_by(Force.name)))
    return Choices(
        channels=[(c.value, labels("channel", c.value)) for c in Channel],
        categories=list(categories.items()),
        forces=[(name, name) for name in forces],
        languages=list(LANGUAGES.items()),
        labels=labels,
    )


def _asked(choices: Choices) -> tuple[Period, Filters, list[str]]:
    """The period and filters the request asks for, and what was wrong with them (each
    unknown part dropped)."""
    problems = []
    default = Period.year_to(utcnow().date())
    first = request.args.get("from") or default.first
    last = request.args.get("to") or default.last
    try:
        period = Period.parse(first, last)
    except PeriodError as error:
        problems.append(f"Showing the last twelve months: {error}.")
        period = default
    offered = {
        "channel": choices.channels,
        "category": choices.categories,
        "force": choices.forces,
        "language": choices.languages,
    }
    wanted = {}
    for name, options in offered.items():
        value = request.args.get(name, "")
        if value and value not in dict(options):
            problems.append(f"That {name} is not one the figures know: showing every {name}.")
            value = ""
        wanted[name] = value
    return period, Filters(**wanted), problems


@bp.get("/statistics")
@signed_in(Action.VIEW_STATISTICS)
def statistics_page() -> ResponseReturnValue:
    choices = _choices()
    period, filters, problems = _asked(choices)
    for problem in problems:
        flash(problem, "error")
    with services().db.reading() as session:
        figures = read(session, period, filters)
    return render_template(
        "console/statistics.html",
        figures=figures,
        period=period,
        filters=filters,
        choices=choices,
        charts=_charts(figures, choices.labels),
        measures=MEASURES,
        events=StatEvent,
        threshold=services().config.stats_threshold,
    )


@bp.get("/statistics.csv")
@signed_in(Action.VIEW_STATISTICS)
def statistics_csv() -> ResponseReturnValue:
    choices = _choices()
    period, filters, problems = _asked(choices)
    if problems:
        # A download shows no message: say it here, rather than export other figures
        # than were asked for (or leave the message waiting for the next page).
        return Response("\n".join(problems) + "\n", status=400, mimetype="text/plain")
    with services().db.transaction() as session:
        publication = publish(session, period, filters, services().config.stats_threshold)
        # Who took which figures out of the console, as for the audit trail's own export.
        chosen = ", ".join(f"{name} {value}" for name, value in filters.given().items())
        audit.record(
            session, g.user.name, "stats_export", detail=" ".join([period.label(), chosen]).strip()
        )
    name = "-".join(
        ["statistics", period.first, period.last, *(_slug(v) for v in filters.given().values())]
    )
    return Response(
        publication.csv(choices.labels),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def _main_event(figures: Figures, dimension: str | None = None) -> StatEvent:
    """What a chart counts: reports received, unless the filters (a force) or the
    breakdown (by force) cannot split them; then the reports passed to a force."""
    received = figures.monthly[StatEvent.RECEIVED]
    if received is None or (
        dimension is not None and figures.by(dimension, StatEvent.RECEIVED) is None
    ):
        return StatEvent.DISSEMINATED
    return StatEvent.RECEIVED


def _charts(figures: Figures, labels: Labels) -> list[charts.Chart]:
    months = figures.period.months()
    monthly = [
        (MEASURES[event], list((figures.monthly[event] or {}).values()))
        for event in (StatEvent.RECEIVED, StatEvent.DISSEMINATED)
        if figures.monthly[event] is not None
    ]
    found = [charts.columns("by-month", "Reports by month", months, monthly, what="reports")]
    for dimension, title in (
        ("channel", "By channel"),
        ("category", "By category"),
        ("force", "By force"),
        ("language", "By language"),
        ("anonymity", "By anonymity"),
    ):
        if dimension in figures.filters.given():
            continue  # filtered to one: a single bar says nothing the filter did not
        event = _main_event(figures, dimension)
        split = figures.by(dimension, event) or {}
        items = [(labels(dimension, group), n) for group, n in split.items()]
        what = MEASURES[event].lower()
        found.append(
            charts.bars(
                f"by-{dimension}",
                f"{title}: {what}",
                items,
                heading=title.removeprefix("By ").capitalize(),
                what=what,
            )
        )
    bands = [
        (label, sum(n for day, n in figures.days.items() if low <= day <= high))
        for low, high, label in DAY_BANDS
    ]
    last_from, last_label = DAY_BANDS_LAST
    bands.append((last_label, sum(n for day, n in figures.days.items() if day >= last_from)))
    found.append(
        charts.columns(
            "days",
            "Time to reach the force",
            [label for label, _ in bands],
            [(MEASURES[StatEvent.DISSEMINATED], [n for _, n in bands])],
            what="reports passed to a force",
            axis="Time taken",
        )
    )
    calls = figures.monthly[StatEvent.CALL_WITHOUT_REPORT]
    if calls is not None:
        found.append(
            charts.columns(
                "calls-without-report",
                "Calls that ended without a report",
                months,
                [(MEASURES[StatEvent.CALL_WITHOUT_REPORT], list(calls.values()))],
                what="calls without a report",
            )
        )
    return found
