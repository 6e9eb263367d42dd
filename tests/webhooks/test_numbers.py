"""A signed webhook whose numbers are not numbers gets its normal answer, as if they were absent.

``str.isdigit()`` takes "²" and other digits ``int()`` refuses, and a 20-digit duration
overflows the database's integer: each used to end in an unhandled exception.
"""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

from ivr.platform.db import Database
from ivr.webhooks.boundary import bounded_number
from tests.webhooks.helpers import callback, signed_post, twilio_params
from tests.webhooks.test_calls import recording_callbacks, reports, walk_to_recording

NOT_NUMBERS = ["²", "\u0664\u0662", "9" * 20, "-5", "12.5", "1e3", " 42", ""]
FALLBACK = b"fallback-recorded"  # where only the fallback's recording goes


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_anything_but_ascii_digits_within_bounds_is_no_number(text: str) -> None:
    assert bounded_number(text, 86_400) is None


def test_ascii_digits_within_bounds_are_a_number() -> None:
    assert [bounded_number(text, 86_400) for text in ("0", "42", "86400", "86401")] == [
        0,
        42,
        86_400,
        None,
    ]


@pytest.mark.parametrize("duration", NOT_NUMBERS)
def test_a_recording_with_a_bad_duration_is_kept_with_its_duration_unknown(
    client: FlaskClient, db: Database, caplog: pytest.LogCaptureFixture, duration: str
) -> None:
    call_sid = "CA" + "5" * 32
    asked = walk_to_recording(client, call_sid)
    action, status = recording_callbacks(call_sid)
    with caplog.at_level(logging.WARNING):
        after = signed_post(
            client, callback(asked, "Record"), {**action, "RecordingDuration": duration}
        )
        stored = signed_post(
            client,
            callback(asked, "Record", "recordingStatusCallback"),
            {**status, "RecordingDuration": duration},
        )
    # The caller hears the next step of the menu, not the fallback
    assert after.status_code == 200 and b"<Gather" in after.data and FALLBACK not in after.data
    assert stored.status_code == 204
    assert errors(caplog) == []
    (report,) = reports(db)
    assert [job.duration_seconds for job in report.recordings] == [None]


def test_a_good_duration_is_still_read(client: FlaskClient, db: Database) -> None:
    call_sid = "CA" + "6" * 32
    asked = walk_to_recording(client, call_sid)
    action, _ = recording_callbacks(call_sid)
    signed_post(client, callback(asked, "Record"), action)
    (report,) = reports(db)
    assert [job.duration_seconds for job in report.recordings] == [42]


@pytest.mark.parametrize("keys", ["²" * 12, "\u0661" * 12, "1" * 65, "12a"])
def test_keys_no_keypad_has_are_treated_as_none_pressed(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, keys: str
) -> None:
    # Given a caller at the follow-up's reference (English, then follow-up)
    call_sid = "CA" + "7" * 32
    body = signed_post(client, "/twilio/voice", twilio_params(call_sid)).get_data()
    for key in ("1", "4"):
        body = signed_post(client, callback(body), twilio_params(call_sid, Digits=key)).get_data()
    # When the reference and then a PIN arrive as keys no keypad has
    with caplog.at_level(logging.WARNING):
        for digits in (keys, "4826"):
            answer = signed_post(client, callback(body), twilio_params(call_sid, Digits=digits))
            # Then each gets the flow's own answer, never the fallback
            assert answer.status_code == 200 and FALLBACK not in answer.data
            body = answer.get_data()
    assert errors(caplog) == []
