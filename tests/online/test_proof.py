"""Every report carries a proof: the browser's work (harder under a flood) or a picture read
by a person; a script that does neither gets nothing through, and a flood turns no one away."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ivr.config import Config
from ivr.models.reports import Report
from ivr.online import EXTENSION_KEY, OnlineState
from ivr.online.guard import FormGuard, GlobalLimit, Limits, Passed
from ivr.outside.storage import StoreUnavailable
from ivr.platform.db import Database
from ivr.reports import online
from tests.online.helpers import form_action, form_fields, picture_answer

REPORT = {"category": "other", "anonymity": "anonymous", "what": "KEPT-WHAT"}


@pytest.fixture
def limits(app: Flask, config: Config, db: Database) -> Limits:
    """Cheap work (so the test is quick) that grows after 4 reports a minute."""
    limits = Limits(work_bits=6, per_minute=4, max_work_bits=14, slack_bits=1, human_per_minute=2)
    app.extensions[EXTENSION_KEY] = OnlineState(
        limits, FormGuard(config.secret_key, limits, db), GlobalLimit(limits)
    )
    return limits


def opened(client: FlaskClient) -> str:
    return client.get("/report").get_data(as_text=True)


def reports(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Report)) or 0


def post(client: FlaskClient, page: str, **fields: str) -> Any:
    return client.post(form_action(page), data={**REPORT, **fields})


def shown_bits(page: str) -> int:
    found = re.search(r'data-bits="(\d+)"', page)
    assert found
    return int(found.group(1))


def test_a_script_that_does_no_work_gets_nothing_through(
    client: FlaskClient, db: Database, limits: Limits
) -> None:
    for fields in ({}, {"work": "short"}, {"work": "1" * 40}, {"answer": "7"}, {"answer": "AAAAA"}):
        page = opened(client)
        if fields.get("work") == "short":
            fields = {"work": short_of(page, limits.work_bits)}
        refused = post(client, page, **fields)
        assert refused.status_code == 400, fields
        page = refused.get_data(as_text=True)
        assert 'id="answer-error"' in page and "KEPT-WHAT" in page
    assert reports(db) == 0
    # The same form with its work done goes through
    page = opened(client)
    assert post(client, page, **form_fields(page)).status_code == 200
    assert reports(db) == 1


def test_the_page_and_its_token_never_hold_the_pictures_answer(
    client: FlaskClient, app: Flask, limits: Limits
) -> None:
    page = opened(client)
    guard = app.extensions[EXTENSION_KEY].guard
    answer = picture_answer(page, guard)["answer"]
    token = form_action(page).partition("?token=")[2]
    payload = token.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert answer not in page and answer not in decoded
    assert json.loads(decoded)[1] == limits.work_bits  # a nonce and the work's bits, only
    assert not re.search(r"\bplus\b|\badio\b", page)  # no sum to read
    # The picture is served for the form's token only, as a PNG
    picture = client.get(f"/report/picture?token={token}")
    assert picture.status_code == 200 and picture.data.startswith(b"\x89PNG")
    assert client.get("/report/picture?token=forged").status_code == 404


def test_a_person_without_javascript_sends_by_reading_the_picture(
    client: FlaskClient, app: Flask, db: Database, limits: Limits
) -> None:
    guard = app.extensions[EXTENSION_KEY].guard
    page = opened(client)
    assert post(client, page, **picture_answer(page, guard)).status_code == 200
    # Lower case and spaces are forgiven
    page = opened(client)
    typed = " ".join(picture_answer(page, guard)["answer"].lower())
    assert post(client, page, answer=typed).status_code == 200
    # The picture's share a minute is small: a third waits, and is told how else to send
    page = opened(client)
    busy = post(client, page, **picture_answer(page, guard))
    assert busy.status_code == 429
    assert "without JavaScript" in busy.get_data(as_text=True)
    # While a sender whose browser does the work still gets through
    page = opened(client)
    assert post(client, page, **form_fields(page)).status_code == 200
    assert reports(db) == 3


def test_under_a_flood_the_work_grows_and_a_real_sender_still_gets_through(
    client: FlaskClient, app: Flask, db: Database, limits: Limits
) -> None:
    state: OnlineState = app.extensions[EXTENSION_KEY]
    # Given a script that hoards forms while it is quiet
    hoard = [opened(client) for _ in range(3)]
    assert shown_bits(hoard[0]) == limits.work_bits
    # When a flood has sent many times the comfortable rate in the last minute
    for _ in range(limits.per_minute * 16):
        assert state.limit.admit(Passed.WORK)
    # Then each new form asks for more work: no one is told "busy"
    now = opened(client)
    assert shown_bits(now) == limits.work_bits + 5
    # And the hoarded, cheap forms no longer pass: the sender is asked to send again
    need = limits.work_bits + 5 - limits.slack_bits
    cheap = post(client, hoard[0], work=work_between(hoard[0], limits.work_bits, need))
    assert cheap.status_code == 400
    assert "longer check" in cheap.get_data(as_text=True)
    assert "KEPT-WHAT" in cheap.get_data(as_text=True)
    # And a real sender who does the work the form shows now gets through
    sent = post(client, now, **form_fields(now))
    assert sent.status_code == 200
    # As does the sender sent back, once their browser has done the new form's work
    again = cheap.get_data(as_text=True)
    assert shown_bits(again) == shown_bits(now)
    assert post(client, again, **form_fields(again)).status_code == 200
    assert reports(db) == 2
    metrics = client.get("/metrics").get_data(as_text=True)
    assert f'ivr_online_rate_limit{{kind="work_bits"}} {limits.work_bits + 5}.0' in metrics
    assert 'ivr_online_submissions_total{outcome="more_work"} 1.0' in metrics


def posted_at_once(
    apps: list[Flask], page: str, solved: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> list[int]:
    """Post one solved form to each of ``apps`` at the same moment; return the codes, sorted.

    Each report is stored only once another post has been answered, so every post would be
    storing at once if more than one got that far (the wait is a bound, never the outcome).
    """
    answered = threading.Event()
    receive = online.receive

    def slow_receive(*args: Any) -> Any:
        answered.wait(timeout=30)
        return receive(*args)

    monkeypatch.setattr(online, "receive", slow_receive)

    def send(app: Flask) -> int:
        try:
            return int(post(app.test_client(), page, **solved).status_code)
        finally:
            answered.set()

    with ThreadPoolExecutor(len(apps)) as pool:
        return sorted(pool.map(send, apps))


def test_one_solved_form_posted_twice_at_once_stores_one_report(
    app: Flask, db: Database, limits: Limits, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a form whose work is done, posted twice at the same moment
    page = opened(app.test_client())
    codes = posted_at_once([app, app], page, form_fields(page), monkeypatch)
    # Then one is stored, and the other is told its form was sent already
    assert codes == [200, 400]
    assert reports(db) == 1


def test_a_form_whose_report_could_not_be_stored_can_be_sent_again(
    client: FlaskClient, db: Database, limits: Limits, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = opened(client)
    solved = form_fields(page)
    receive = online.receive

    def unavailable(*_args: Any) -> Any:
        raise StoreUnavailable

    # Given the store is down when the form is first sent
    monkeypatch.setattr(online, "receive", unavailable)
    assert post(client, page, **solved).status_code == 503
    # Then the same form, with the same work, goes through once the store is back
    monkeypatch.setattr(online, "receive", receive)
    assert post(client, page, **solved).status_code == 200
    assert post(client, page, **solved).status_code == 400  # and only once
    assert reports(db) == 1


def short_of(page: str, bits: int) -> str:
    """Work that falls short of ``bits`` for this form: what a script guesses."""
    found = re.search(r'data-challenge="([0-9a-f]+)"', page)
    assert found
    for number in range(1000):
        digest = hashlib.sha256(f"{found.group(1)}:{number}".encode()).digest()
        if int.from_bytes(digest) >> (256 - bits) != 0:
            return str(number)
    raise AssertionError("unreachable")


def work_between(page: str, low: int, high: int) -> str:
    """Work with at least ``low`` zero bits and fewer than ``high``: a hoarded form's."""
    found = re.search(r'data-challenge="([0-9a-f]+)"', page)
    assert found
    for number in itertools.count():
        digest = int.from_bytes(hashlib.sha256(f"{found.group(1)}:{number}".encode()).digest())
        if digest >> (256 - low) == 0 and digest >> (256 - high) != 0:
            return str(number)
    raise AssertionError("unreachable")
