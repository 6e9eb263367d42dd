"""The statistics page and its CSV, as a supervisor and a manager use them."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.models.audit import AuditEvent
from ivr.models.staff import Role
from ivr.models.stats import Channel, StatEvent
from ivr.platform.db import Database, utcnow
from ivr.stats.counters import count, month_of
from tests.console.conftest import AsRole, make_staff, sign_in

DORSET, KENT = "Dorset Police", "Kent Police"


@pytest.fixture
def signed_in_as(app: Flask, db: Database) -> AsRole:
    def client_for(role: Role) -> FlaskClient:
        client = app.test_client()
        assert sign_in(client, make_staff(db, f"{role.value}-stats", role)) == 302
        return client

    return client_for


@pytest.fixture
def this_month(db: Database) -> str:
    """This month's figures: 12 phone reports, 9 of them passed to Dorset, 2 to Kent."""
    today = utcnow().date()
    with db.transaction() as session:
        for _ in range(12):
            count(session, StatEvent.RECEIVED, today, channel=Channel.PHONE, category="drugs")
        for force, times, days in ((DORSET, 9, 3), (KENT, 2, 10)):
            for _ in range(times):
                count(
                    session,
                    StatEvent.DISSEMINATED,
                    today,
                    channel=Channel.PHONE,
                    category="drugs",
                    force=force,
                    days=days,
                )
    return month_of(today)


def tables(page: str) -> dict[str, list[list[str]]]:
    """Each chart's table, by its caption: the rows as a screen reader reads them."""
    found = {}
    for caption, body in re.findall(r"<caption>(.*?)</caption>(.*?)</table>", page, re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
        found[caption] = [
            [
                re.sub(r"<[^>]+>", "", cell).strip()
                for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            ]
            for row in rows
        ]
    return found


def test_a_manager_lands_on_the_figures_and_sees_them_drawn_and_tabled(
    signed_in_as: AsRole, this_month: str
) -> None:
    manager = signed_in_as(Role.MANAGER)
    landing = manager.get("/console/")
    assert landing.status_code == 302 and landing.headers["Location"].endswith(
        "/console/statistics"
    )
    page = manager.get("/console/statistics").get_data(as_text=True)
    # the charts are drawn on the server, each named for a screen reader
    assert page.count('<svg role="img"') >= 5
    assert '<title id="by-month-title">Reports by month</title>' in page
    shown = tables(page)
    by_month = shown["Reports by month: the figures"]
    assert [this_month, "12", "11"] in by_month
    by_force = shown["By force: reports passed to a force: the figures"]
    assert by_force[1:] == [[DORSET, "9"], [KENT, "2"]]
    # the median of eleven reports (nine in 3 days, two in 10) is 3 days, the 90th 10
    assert re.search(r"Median time to reach the force</dt><dd>3 days", page)
    assert re.search(r"90th percentile of time to reach the force</dt><dd>10 days", page)
    # a manager reads figures only: no queue, no report
    assert 'href="/console/?mine=1"' not in page and ">Queue<" not in page


def test_filtering_to_one_force_narrows_the_figures_and_says_what_it_cannot(
    signed_in_as: AsRole, this_month: str
) -> None:
    supervisor = signed_in_as(Role.SUPERVISOR)
    page = supervisor.get(f"/console/statistics?force={KENT}").get_data(as_text=True)
    assert re.search(r"Reports passed to a force</dt><dd>2<", page)
    assert re.search(r"Reports received</dt><dd>not counted that way<", page)
    assert "By force" not in page  # one force: no chart of forces


def test_a_filter_or_a_month_the_page_does_not_know_is_said_and_the_rest_shown(
    signed_in_as: AsRole, this_month: str
) -> None:
    manager = signed_in_as(Role.MANAGER)
    response = manager.get("/console/statistics?from=2027-13&force=Atlantis Police")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "&#39;2027-13&#39; is not a month" in page or "'2027-13' is not a month" in page
    assert "That force is not one the figures know" in page
    assert re.search(r"Reports received</dt><dd>12<", page)


def test_the_csv_is_the_publication_safe_one_small_counts_withheld(
    signed_in_as: AsRole, this_month: str, db: Database
) -> None:
    manager = signed_in_as(Role.MANAGER)
    response = manager.get(f"/console/statistics.csv?from={this_month}&to={this_month}")
    assert response.mimetype == "text/csv"
    assert (
        f'filename="statistics-{this_month}-{this_month}.csv"'
        in response.headers["Content-Disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    by_force = {
        r["group"]: r["value"]
        for r in rows
        if r["breakdown"] == "force" and r["measure"] == "Reports passed to a force"
    }
    # Kent's 2 is withheld, and so is Dorset's 9, or Kent's could be taken from the total
    assert by_force == {DORSET: "[c]", KENT: "[c]"}
    totals = {
        r["measure"]: r["value"]
        for r in rows
        if r["breakdown"] == "all" and r["period"] == this_month
    }
    assert totals["Reports received"] == "12" and totals["Reports passed to a force"] == "11"
    for row in rows:
        assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}", ",".join(row.values()))
    # and the audit trail says who took which figures out of the console
    with db.reading() as session:
        taken = session.scalars(select(AuditEvent).where(AuditEvent.action == "stats_export")).one()
    assert (taken.actor, taken.detail) == ("manager-stats", this_month)


def test_handlers_and_the_operations_team_see_no_figures(signed_in_as: AsRole) -> None:
    for role in (Role.HANDLER, Role.OPS, Role.ADMIN):
        client = signed_in_as(role)
        assert client.get("/console/statistics").status_code == 403
        assert client.get("/console/statistics.csv").status_code == 403
        assert "/console/statistics" not in client.get("/console/audit").get_data(as_text=True)


def test_the_default_period_is_the_last_twelve_months(signed_in_as: AsRole) -> None:
    page = signed_in_as(Role.SUPERVISOR).get("/console/statistics").get_data(as_text=True)
    today = utcnow().date()
    a_year_back = date(today.year - 1, today.month, 1)
    assert "Statistics: " in page and f"to {month_of(today)}</h1>" in page
    heading = re.search(r"<h1>(.*?)</h1>", page)
    assert heading is not None and month_of(a_year_back) not in heading.group(1)


def test_a_csv_asked_for_with_a_month_that_is_not_one_is_refused_in_words(
    signed_in_as: AsRole,
) -> None:
    manager = signed_in_as(Role.MANAGER)
    response = manager.get("/console/statistics.csv?from=2027-13")
    assert response.status_code == 400
    assert "'2027-13' is not a month" in response.get_data(as_text=True)
    # and the message is not left waiting for the next page
    assert "is not a month" not in manager.get("/console/statistics").get_data(as_text=True)
