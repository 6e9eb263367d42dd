"""The page's figures are sums of the counters: by month, by what a manager filters on,
and the time reports took to reach their force, as a board would read them."""

from __future__ import annotations

from datetime import date

import pytest

from ivr.models.stats import Channel, StatEvent
from ivr.platform.db import Database
from ivr.stats.counters import count
from ivr.stats.figures import Filters, Period, PeriodError, percentile, read

DORSET, KENT = "Dorset Police", "Kent Police"


def plant(db: Database, event: StatEvent, on: date, times: int = 1, **facts: object) -> None:
    with db.transaction() as session:
        for _ in range(times):
            count(session, event, on, **facts)  # type: ignore[arg-type]


@pytest.fixture
def year(db: Database) -> Database:
    """A year of a small service: phone and online reports, two forces, a slow one."""
    march, april = date(2027, 3, 9), date(2027, 4, 20)
    plant(db, StatEvent.RECEIVED, march, 6, channel=Channel.PHONE, category="drugs")
    plant(db, StatEvent.RECEIVED, april, 3, channel=Channel.ONLINE, category="abuse")
    plant(db, StatEvent.CALL_WITHOUT_REPORT, march, 4, channel=Channel.PHONE)
    for force, category in ((DORSET, "drugs"), (KENT, "abuse")):
        plant(
            db, StatEvent.SUBMITTED, march, 4, channel=Channel.PHONE, category=category, force=force
        )
    plant(db, StatEvent.RETURNED, march, 2, channel=Channel.PHONE, category="drugs", force=DORSET)
    for days, times in ((1, 3), (2, 2), (30, 1)):
        plant(
            db,
            StatEvent.DISSEMINATED,
            april,
            times,
            channel=Channel.PHONE,
            category="drugs",
            force=DORSET,
            days=days,
        )
    plant(db, StatEvent.DISSEMINATED, april, 1, channel=Channel.PHONE, force=KENT, days=9)
    return db


def test_a_year_reads_by_month_with_the_quiet_months_as_zero(year: Database) -> None:
    with year.reading() as session:
        figures = read(session, Period.parse("2027-01", "2027-12"), Filters())
    received = figures.monthly[StatEvent.RECEIVED]
    assert received is not None and len(received) == 12
    assert (received["2027-03"], received["2027-04"], received["2027-05"]) == (6, 3, 0)
    assert figures.total(StatEvent.CALL_WITHOUT_REPORT) == 4
    assert figures.by("channel", StatEvent.RECEIVED) == {"phone": 6, "online": 3}
    assert figures.by("force", StatEvent.DISSEMINATED) == {DORSET: 6, KENT: 1}
    # Received is counted before anyone chooses a force: it cannot be split by one
    assert figures.by("force", StatEvent.RECEIVED) is None


def test_time_to_reach_the_force_is_a_median_and_a_90th_percentile_in_whole_days(
    year: Database,
) -> None:
    with year.reading() as session:
        figures = read(session, Period.parse("2027-01", "2027-12"), Filters())
    # Seven reports: 1, 1, 1, 2, 2, 9, 30 days; the 4th is the median, the 7th the 90th
    assert (figures.median_days, figures.p90_days) == (2, 30)
    assert figures.returned_rate == pytest.approx(2 / 8)


def test_filtering_to_one_force_narrows_what_can_be_and_says_what_cannot(
    year: Database,
) -> None:
    with year.reading() as session:
        figures = read(session, Period.parse("2027-01", "2027-12"), Filters(force=DORSET))
    assert figures.total(StatEvent.DISSEMINATED) == 6
    assert (figures.median_days, figures.p90_days) == (1, 30)
    assert figures.returned_rate == pytest.approx(2 / 4)
    # neither reports received nor calls without one know their force: not counted that way
    assert figures.total(StatEvent.RECEIVED) is None
    assert figures.total(StatEvent.CALL_WITHOUT_REPORT) is None


def test_a_period_outside_the_counts_holds_zeros_and_no_times(year: Database) -> None:
    with year.reading() as session:
        figures = read(session, Period.parse("2026-01", "2026-02"), Filters())
    assert figures.total(StatEvent.RECEIVED) == 0
    assert figures.median_days is None and figures.returned_rate is None


def test_nearest_rank_gives_a_number_of_days_some_report_took() -> None:
    assert percentile({3: 1, 10: 1}, 0.5) == 3  # never an interpolated 6.5
    assert percentile({}, 0.9) is None
    assert percentile({0: 9, 40: 1}, 0.9) == 0 and percentile({0: 8, 40: 2}, 0.9) == 40


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2027-13", "2027-12", "'2027-13' is not a month"),
        ("March", "2027-12", "write it as 2027-03"),
        ("2027-06", "2027-01", "starts (2027-06) after it ends (2027-01)"),
        ("2000-01", "2027-01", "at most 120 months"),
    ],
)
def test_a_period_that_is_not_one_is_refused_in_words(first: str, last: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Period.parse(first, last)


def test_the_default_period_is_the_twelve_months_to_this_one() -> None:
    assert Period.year_to(date(2027, 3, 31)) == Period("2026-04", "2027-03")
    assert Period.year_to(date(2027, 12, 1)) == Period("2027-01", "2027-12")
    assert len(Period.year_to(date(2027, 1, 5)).months()) == 12
