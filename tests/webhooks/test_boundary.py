"""Every webhook is authenticated first; then caller fields are gone for good."""

from __future__ import annotations

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from ivr.platform.db import Database
from ivr.webhooks.boundary import ALLOWED_FIELDS, SignatureRefused, authenticate
from ivr.webhooks.signatures import WebhookSecrets
from tests.conftest import AUTH_TOKEN, PLANTED_NUMBER, PUBLIC_URL
from tests.webhooks.helpers import row_counts, signed_post, twilio_params

WEBHOOKS = [
    "/twilio/voice",
    "/twilio/gather?step=welcome&n=1",
    "/twilio/recorded?step=x&n=1",
    "/twilio/recording-status",
    "/twilio/status",
    "/twilio/fallback",
    "/twilio/fallback-recorded",
]


def test_twilios_documented_example_signature_is_accepted() -> None:
    # https://www.twilio.com/docs/usage/security#validating-requests
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675310",
        "Digits": "1234",
        "From": "+14158675310",
        "To": "+18005551212",
    }
    app = Flask("example")
    with app.test_request_context(
        "/myapp.php?foo=1&bar=2",
        method="POST",
        data=params,
        headers={"X-Twilio-Signature": "L/OH5YylLD5NRKLltdqwSvS0BnU="},
    ):
        kept = authenticate(request, WebhookSecrets("12345"), "https://example.com")
        assert dict(kept.fields) == {"CallSid": "CA1234567890ABCDE", "Digits": "1234"}
        # Nothing downstream can read the caller's number from the request any more.
        assert dict(request.form) == {}
        assert dict(request.values) == {}
    with (
        app.test_request_context(
            "/myapp.php?foo=1&bar=3",
            method="POST",
            data=params,
            headers={"X-Twilio-Signature": "L/OH5YylLD5NRKLltdqwSvS0BnU="},
        ),
        pytest.raises(SignatureRefused),
    ):
        authenticate(request, WebhookSecrets("12345"), "https://example.com")


@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_forged_request_gets_403_and_changes_nothing(
    client: FlaskClient, db: Database, path: str
) -> None:
    params = twilio_params(
        "CA" + "f" * 32,
        Digits="1",
        RecordingSid="RE" + "f" * 32,
        RecordingUrl="https://api.twilio.com/x",
        RecordingStatus="completed",
    )
    before = row_counts(db)
    forged = RequestValidator("not-our-token").compute_signature(PUBLIC_URL + path, params)
    assert signed_post(client, path, params, signature=forged).status_code == 403
    assert client.post(path, data=params).status_code == 403  # no signature at all
    assert row_counts(db) == before


def test_a_signature_for_another_url_is_refused(client: FlaskClient) -> None:
    params = twilio_params("CA" + "a" * 32)
    good_for_gather = RequestValidator(AUTH_TOKEN).compute_signature(
        PUBLIC_URL + "/twilio/gather?step=welcome&n=1", params
    )
    assert (
        signed_post(client, "/twilio/voice", params, signature=good_for_gather).status_code == 403
    )


def test_signatures_are_checked_against_the_public_url_behind_a_proxy(client: FlaskClient) -> None:
    # The request reaches us as http://localhost, but Twilio signed the public https URL.
    response = signed_post(client, "/twilio/voice", twilio_params("CA" + "b" * 32))
    assert response.status_code == 200
    assert "<Gather" in response.get_data(as_text=True)


def test_views_never_see_caller_fields(app: Flask, client: FlaskClient) -> None:
    seen: list[dict[str, str]] = []
    app.after_request_funcs.setdefault(None, []).append(
        lambda response: seen.append(dict(request.form)) or response  # type: ignore[func-returns-value]
    )
    signed_post(client, "/twilio/voice", twilio_params("CA" + "c" * 32, CallerName="J SMITH"))
    assert seen == [{}]


def test_the_allow_list_holds_no_caller_identifier() -> None:
    for name in ALLOWED_FIELDS:
        assert not name.startswith(("From", "Caller", "Forwarded", "Stir"))
        assert name != "CallToken"
    assert PLANTED_NUMBER not in str(ALLOWED_FIELDS)


def test_an_oversized_webhook_body_is_refused_and_changes_nothing(
    client: FlaskClient, db: Database
) -> None:
    before = row_counts(db)
    params = twilio_params("CA" + "d" * 32, Padding="x" * 100_000)
    assert signed_post(client, "/twilio/voice", params).status_code == 413
    assert row_counts(db) == before
