"""The ops console's test phone walks a follow-up: a whole reference, then a PIN, keyed at once."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from ivr.models.staff import Role
from tests.console.conftest import csrf_token

PHONE = "/console/flows/v/1/phone"


@pytest.fixture
def ops(as_role: Any, ingest_app: Any) -> FlaskClient:
    client: FlaskClient = as_role(Role.OPS)
    assert client.get("/console/flows/").status_code == 200  # publishes the file as version 1
    return client


def test_the_test_phone_keys_a_reference_and_a_pin_and_hears_the_question_step(
    ops: FlaskClient,
) -> None:
    headers = {"X-CSRFToken": csrf_token(ops, "/console/flows/v/1")}
    turn = ops.post(PHONE, json={}, headers=headers).get_json()

    def press(key: str) -> dict[str, Any]:
        answer: dict[str, Any] = ops.post(
            PHONE, json={"state": turn["state"], "action": "key", "key": key}, headers=headers
        ).get_json()
        assert "error" not in answer, answer
        return answer

    # Given a call in English at the main menu, which a menu key at a time reaches
    turn = press("1")
    assert turn["digits"] == 1
    # When the ops person chooses to follow up on a report
    turn = press("4")
    # Then the phone waits for a whole reference, not one key
    assert turn["state"]["step"] == "follow_up"
    assert turn["digits"] == 12 and turn["waiting"] == "up to 12 digits, then #"
    # When the twelve digits are keyed as one entry, then a PIN
    turn = press("123456789012")
    assert turn["state"]["step"] == "follow_up_pin"
    turn = press("1234")
    # Then the practice call, which stores nothing, goes on to the caller's question
    spoken = " ".join(said["text"] for said in turn["heard"])
    assert turn["state"]["step"] != "details_wrong", spoken
    assert "do not match" not in spoken
