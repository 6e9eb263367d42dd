"""A solved form is spent once across every web process: two processes share one database,
so the same proof posted to both at once stores one report, and a failed store gives it back."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.app import create_app
from ivr.config import Config
from ivr.models.online import SpentToken
from ivr.online import EXTENSION_KEY, OnlineState, online_state
from ivr.online.guard import FormGuard, Limits
from ivr.outside.storage import StoreUnavailable
from ivr.platform.db import Database
from ivr.reports import online
from ivr.services import services
from tests.online.helpers import form_fields
from tests.online.test_proof import opened, post, posted_at_once, reports

CHEAP = Limits(work_bits=6, per_minute=1000, max_work_bits=6, slack_bits=0)


def process(config: Config, db: Database) -> Flask:
    """One web process: its own app, services and form state, on the shared database."""
    app = create_app(config, db=db)
    app.extensions[EXTENSION_KEY] = OnlineState.build(services(app), CHEAP)
    return app


@pytest.fixture
def two(config: Config, db: Database) -> tuple[Flask, Flask]:
    return process(config, db), process(config, db)


def spent_rows(db: Database) -> list[SpentToken]:
    with db.reading() as session:
        return list(session.scalars(select(SpentToken).order_by(SpentToken.spent_on)))


def test_one_solved_form_posted_to_two_processes_at_once_stores_one_report(
    two: tuple[Flask, Flask], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a form one process served, its work done, posted to both at the same moment
    page = opened(two[0].test_client())
    codes = posted_at_once(list(two), page, form_fields(page), monkeypatch)
    # Then one is stored, and the other is told its form was sent already
    assert codes == [200, 400]
    assert reports(db) == 1
    # And the one row says nothing of the form but its keyed digest and the day
    (row,) = spent_rows(db)
    assert len(row.digest) == 64 and row.digest not in page
    assert isinstance(row.spent_on, date)


def test_a_form_not_stored_by_one_process_can_be_sent_to_another(
    two: tuple[Flask, Flask], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two
    page = opened(first.test_client())
    solved = form_fields(page)
    receive = online.receive

    def unavailable(*_args: Any) -> Any:
        raise StoreUnavailable

    # Given the store is down when the form is sent to one process
    monkeypatch.setattr(online, "receive", unavailable)
    assert post(first.test_client(), page, **solved).status_code == 503
    assert spent_rows(db) == []  # the token was given back
    # Then the same form goes through another once the store is back, and only once
    monkeypatch.setattr(online, "receive", receive)
    assert post(second.test_client(), page, **solved).status_code == 200
    assert post(first.test_client(), page, **solved).status_code == 400
    assert post(second.test_client(), page, **solved).status_code == 400
    assert reports(db) == 1


def test_a_token_is_spent_once_across_guards_and_given_back_to_all(
    config: Config, db: Database
) -> None:
    here, there = (FormGuard(config.secret_key, CHEAP, db) for _ in range(2))
    _, challenge = here.issue(CHEAP.work_bits)
    assert here.spend(challenge)
    assert not there.spend(challenge)
    assert not here.spend(challenge)
    here.unspend(challenge)
    assert there.spend(challenge)


def test_the_purge_removes_only_tokens_that_have_expired_anyway(
    config: Config, db: Database
) -> None:
    guard = FormGuard(config.secret_key, CHEAP, db)
    today = date(2031, 5, 20)
    days = [today - timedelta(days=back) for back in (3, 2, 1, 0)]
    with db.transaction() as session:
        session.add_all(SpentToken(digest=f"{n:064x}", spent_on=day) for n, day in enumerate(days))
    # Rows are kept while a token of theirs could still be read: today's and yesterday's
    assert guard.purge_spent(today) == 2
    assert [row.spent_on for row in spent_rows(db)] == days[2:]
    assert guard.purge_spent(today) == 0


def test_the_first_spend_of_a_day_purges(config: Config, db: Database) -> None:
    guard = FormGuard(config.secret_key, CHEAP, db)
    today = date(2031, 5, 20)
    _, old = guard.issue(CHEAP.work_bits)
    assert guard.spend(old, today=today - timedelta(days=5))
    _, new = guard.issue(CHEAP.work_bits)
    assert guard.spend(new, today=today)
    assert [row.spent_on for row in spent_rows(db)] == [today]


def test_the_guard_of_an_app_spends_in_its_database(app: Flask, db: Database) -> None:
    guard = online_state(app).guard
    _, challenge = guard.issue(CHEAP.work_bits)
    assert guard.spend(challenge)
    assert len(spent_rows(db)) == 1
