"""A manager's statistics in the browser: they sign in, see the month's charts, filter to
one force, and download a CSV in which the small cells are withheld."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from ivr.models.staff import Role
from ivr.models.stats import StatCount, StatEvent
from ivr.platform.db import Database, utcnow
from ivr.stats.counters import count, month_of
from tests.functional.pages import SignInPage, StatisticsPage
from tests.functional.test_console_pages_accessible import PASSWORD, enrolled

pytestmark = pytest.mark.slow

REWARD = ("information_for_reward", "Information or influence given for money or favours")
ADVANTAGE = ("personal_advantage", "Using their position for personal advantage")
OTHER = ("other", "Something else")
# Reports passed to each force this month, by the category its handler chose. West
# Yorkshire's 2 for personal advantage is a small cell (below the threshold of 5).
PASSED = {
    "West Yorkshire Police": {REWARD: 12, ADVANTAGE: 2, OTHER: 7},
    "Greater Manchester Police": {REWARD: 9, ADVANTAGE: 6},
    "Metropolitan Police Service": {REWARD: 20, OTHER: 10},
}
RECEIVED = {"phone": 40, "online": 30}
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
TIME = re.compile(r"\d{1,2}:\d{2}")


def plant_figures(db: Database) -> None:
    """This month's counters, as the workflow would have counted them."""
    today = utcnow().date()
    with db.transaction() as session:
        for force, categories in PASSED.items():
            for (category, _label), n in categories.items():
                for i in range(n):
                    count(
                        session,
                        StatEvent.DISSEMINATED,
                        today,
                        channel="phone",
                        language="en-GB",
                        category=category,
                        force=force,
                        anonymity="anonymous",
                        days=i % 4,
                    )
        for channel, n in RECEIVED.items():
            for _ in range(n):
                count(
                    session,
                    StatEvent.RECEIVED,
                    today,
                    channel=channel,
                    language="en-GB",
                    category=REWARD[0],
                    anonymity="anonymous",
                )


def received_this_month(db: Database) -> int:
    with db.reading() as session:
        total = session.scalar(
            select(func.coalesce(func.sum(StatCount.count), 0)).where(
                StatCount.event == StatEvent.RECEIVED,
                StatCount.month == month_of(utcnow().date()),
            )
        )
    return int(total or 0)


def test_a_manager_sees_the_months_charts_filters_to_a_force_and_downloads_a_safe_csv(
    browser: Any, console: Any
) -> None:
    base, _config, db, _mailbox, _emulator, _app = console
    # Given this month's figures (the fixture's caller is received already)
    plant_figures(db)
    received = received_this_month(db)
    month = month_of(utcnow().date())
    passed = {force: sum(split.values()) for force, split in PASSED.items()}

    # When a manager signs in
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    SignInPage(page, base).sign_in("Morgan", PASSWORD, enrolled(db, "Morgan", Role.MANAGER))
    # Then /console/ takes them to the statistics page, and they have no queue nor audit
    page.goto(f"{base}/console/")
    expect(page).to_have_url(f"{base}/console/statistics")
    nav = page.get_by_role("navigation", name="Console")
    expect(nav.get_by_role("link", name="Statistics")).to_be_visible()
    expect(nav.get_by_role("link", name="Queue")).to_have_count(0)
    expect(nav.get_by_role("link", name="Audit")).to_have_count(0)

    # And they see this month's figures, each chart an image with a title, beside its table
    stats = StatisticsPage(page, base)
    assert stats.tile("Reports received") == str(received)
    assert stats.tile("Reports passed to a force") == str(sum(passed.values()))
    assert stats.drawing_title("by-month") == "Reports by month"
    this_month = [row for row in stats.table("by-month") if row[0] == month]
    assert this_month == [[month, str(received), str(sum(passed.values()))]]
    assert stats.drawing_title("by-force") == "By force: reports passed to a force"
    assert stats.table("by-force") == [
        ["Metropolitan Police Service", "30"],
        ["West Yorkshire Police", "21"],
        ["Greater Manchester Police", "15"],
    ]
    drawn = stats.chart("by-force").locator("svg[role=img] text").all_text_contents()
    assert {"Metropolitan Police Service", "30", "21", "15"} <= set(drawn)
    assert ["Phone", str(RECEIVED["phone"] + received - sum(RECEIVED.values()))] in stats.table(
        "by-channel"
    )
    assert ["Online form", "30"] in stats.table("by-channel")

    # When they filter to West Yorkshire Police
    stats.filter(force="West Yorkshire Police")
    expect(page).to_have_url(re.compile(r"force=West\+Yorkshire\+Police"))

    # Then the figures are that force's: no chart by force, its categories, its total
    expect(stats.chart("by-force")).to_have_count(0)
    assert stats.tile("Reports passed to a force") == "21"
    assert stats.tile("Reports received") == "not counted that way"
    assert stats.table("by-category") == [[REWARD[1], "12"], [OTHER[1], "7"], [ADVANTAGE[1], "2"]]
    this_month = [row for row in stats.table("by-month") if row[0] == month]
    assert this_month == [[month, "21"]]

    link = page.get_by_role("link", name="Download CSV for publication")
    expect(link).to_have_attribute("href", re.compile(r"force=West\+Yorkshire\+Police"))

    # When they download the CSV for publication
    name, text = stats.download_csv()
    assert name.endswith("-west-yorkshire-police.csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and list(rows[0]) == ["period", "measure", "breakdown", "group", "value"]

    def cell(measure: str, breakdown: str, group: str) -> str:
        found = [
            r["value"]
            for r in rows
            if (r["period"], r["measure"], r["breakdown"], r["group"])
            == (month, measure, breakdown, group)
        ]
        assert len(found) == 1, (measure, breakdown, group, found)
        return found[0]

    # Then the small cell is withheld, and so is another of its line, which would betray it
    measure = "Reports passed to a force"
    assert cell(measure, "category", ADVANTAGE[1]) == "[c]"
    line = [
        r
        for r in rows
        if (r["period"], r["measure"], r["breakdown"]) == (month, measure, "category")
    ]
    assert [r["group"] for r in line if r["value"] == "[c]" and r["group"] != ADVANTAGE[1]]
    # And the larger cells are published exactly
    assert cell(measure, "category", REWARD[1]) == "12"
    assert cell(measure, "all", "All") == "21"
    assert cell(measure, "channel", "Phone") == "21"
    # And it holds the force's figures only: nothing by force, nothing it cannot narrow
    assert not [r for r in rows if r["breakdown"] == "force"]
    assert not [r for r in rows if r["measure"] == "Reports received"]
    # And no value is a day or a time of day
    for row in rows:
        for value in row.values():
            assert not DAY.search(value) and not TIME.search(value), row

    # And the audit trail is not theirs to read
    refused = page.goto(f"{base}/console/audit")
    assert refused is not None and refused.status == 403
