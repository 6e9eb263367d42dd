"""Who may sign a webhook: the token being rotated, a shared key, the URL's fragment.

Every signature here is made by the ``twilio`` package's own ``RequestValidator`` (the
reference nobody here wrote): over the URL Twilio calls, with the algorithm and key that
``X-Twilio-Webhooks-Signature-Settings`` names, as its ``get_signature_algorithm`` reads it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from twilio.request_validator import HMAC_SHA256, RequestValidator

from ivr.app import create_app
from ivr.config import Config, ConfigError
from ivr.outside.twilio_api import VOICE_OVERRIDES, hotline_settings
from ivr.platform.db import Database
from ivr.webhooks.signatures import SIGNATURE_SETTINGS_HEADER, WebhookSecrets
from tests.conftest import AUTH_TOKEN, PUBLIC_URL
from tests.webhooks.helpers import twilio_params

OLD_TOKEN = "the-token-twilio-used-until-now"
NEW_TOKEN = "the-secondary-token-just-promoted"
SHARED_KEY = "webhooks_sharedkey_hotline"
SHARED_SECRET = "a-shared-key-secret-of-our-own"


def post(client: FlaskClient, path: str, signature: str, settings: str = "") -> int:
    headers = {"X-Twilio-Signature": signature}
    if settings:
        headers[SIGNATURE_SETTINGS_HEADER] = settings
    return client.post(path, data=PARAMS, headers=headers).status_code


PARAMS = twilio_params("CA" + "5" * 32)


def signature(secret: str, url: str, algorithm: str | None = None) -> str:
    return RequestValidator(secret).compute_signature(url, PARAMS, algorithm)


def edge(config: Config, db: Database, **changes: object) -> FlaskClient:
    return create_app(replace(config, **changes), db=db).test_client()  # type: ignore[arg-type]


def test_during_a_token_rotation_calls_signed_with_either_token_are_answered(
    config: Config, db: Database
) -> None:
    # Given the operator promoted Twilio's secondary token and kept the old one for a day
    client = edge(
        config,
        db,
        twilio_auth_token=NEW_TOKEN,
        twilio_previous_auth_token=OLD_TOKEN,
        twilio_previous_token_until=datetime.now(UTC) + timedelta(days=1),
    )
    url = PUBLIC_URL + "/twilio/voice"
    # When a new call is signed with the new token, and a call already under way with the old
    # Then both are answered, and a token that was never ours is still refused
    assert post(client, "/twilio/voice", signature(NEW_TOKEN, url)) == 200
    assert post(client, "/twilio/voice", signature(OLD_TOKEN, url)) == 200
    assert post(client, "/twilio/voice", signature("a-guessed-token", url)) == 403


def test_once_the_window_has_closed_the_old_token_is_refused(config: Config, db: Database) -> None:
    client = edge(
        config,
        db,
        twilio_auth_token=NEW_TOKEN,
        twilio_previous_auth_token=OLD_TOKEN,
        twilio_previous_token_until=datetime.now(UTC) - timedelta(seconds=1),
    )
    url = PUBLIC_URL + "/twilio/voice"
    assert post(client, "/twilio/voice", signature(OLD_TOKEN, url)) == 403
    assert post(client, "/twilio/voice", signature(NEW_TOKEN, url)) == 200


def test_the_old_token_is_accepted_only_for_a_stated_and_short_window(config: Config) -> None:
    with pytest.raises(ConfigError, match="IVR_TWILIO_PREVIOUS_TOKEN_UNTIL"):
        replace(config, twilio_previous_auth_token=OLD_TOKEN)
    with pytest.raises(ConfigError, match="at most 2 days ahead"):
        replace(
            config,
            twilio_previous_auth_token=OLD_TOKEN,
            twilio_previous_token_until=datetime.now(UTC) + timedelta(days=30),
        )


def test_rotation_settings_are_read_from_the_environment_and_kept_from_the_console(
    tmp_path: object,
) -> None:
    until = (datetime.now(UTC) + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%MZ")
    env = {
        "IVR_TWILIO_PREVIOUS_AUTH_TOKEN": OLD_TOKEN,
        "IVR_TWILIO_PREVIOUS_TOKEN_UNTIL": until,
        "IVR_TWILIO_WEBHOOK_KEYS": f"{SHARED_KEY}={SHARED_SECRET}",
    }
    config = Config.from_env(env, root=tmp_path)  # type: ignore[arg-type]
    assert config.twilio_previous_auth_token == OLD_TOKEN
    assert config.twilio_previous_token_until is not None
    assert config.twilio_webhook_keys == {SHARED_KEY: SHARED_SECRET}
    with pytest.raises(ConfigError, match="other tier"):
        Config.from_env({**env, "IVR_TIER": "console"}, root=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="end it with Z"):
        Config.from_env({**env, "IVR_TWILIO_PREVIOUS_TOKEN_UNTIL": "2026-12-05T09:00"})


def test_a_webhook_rule_signing_with_sha256_and_a_shared_key_is_accepted(
    config: Config, db: Database
) -> None:
    # Given a webhook rule makes Twilio sign with HMAC-SHA256 and a shared key we hold
    client = edge(config, db, twilio_webhook_keys={SHARED_KEY: SHARED_SECRET})
    url = PUBLIC_URL + "/twilio/voice"
    settings = f"key={SHARED_KEY},algorithm={HMAC_SHA256}"
    good = signature(SHARED_SECRET, url, HMAC_SHA256)
    # Then its requests are answered; the same signature under another key name is refused,
    # and so is the auth token's SHA-1 signature presented as if it were SHA-256
    assert post(client, "/twilio/voice", good, settings) == 200
    assert post(client, "/twilio/voice", good, f"key=another,algorithm={HMAC_SHA256}") == 403
    assert post(client, "/twilio/voice", signature(AUTH_TOKEN, url), settings) == 403
    # A header naming only the algorithm keeps the auth token as the secret
    token_sha256 = signature(AUTH_TOKEN, url, HMAC_SHA256)
    assert post(client, "/twilio/voice", token_sha256, f"algorithm={HMAC_SHA256}") == 200
    # An algorithm the library does not know is refused, never an error page
    assert post(client, "/twilio/voice", good, f"key={SHARED_KEY},algorithm=HMAC_MD5") == 403


@pytest.mark.parametrize("signed_with_fragment", [False, True])
def test_the_voice_url_is_accepted_whether_or_not_twilio_signs_its_fragment(
    client: FlaskClient, signed_with_fragment: bool
) -> None:
    # Twilio's documentation does not say whether the #rc=... connection overrides that
    # provision gives the number are part of the signed URL: either way, calls are answered.
    given_to_twilio = hotline_settings(PUBLIC_URL, "http://127.0.0.1:9").voice_url
    assert given_to_twilio == f"{PUBLIC_URL}/twilio/voice#{VOICE_OVERRIDES}"
    signed_url = given_to_twilio if signed_with_fragment else given_to_twilio.split("#")[0]
    assert post(client, "/twilio/voice", signature(AUTH_TOKEN, signed_url)) == 200
    # A fragment we never gave Twilio is not accepted in its place
    assert (
        post(
            client, "/twilio/voice", signature(AUTH_TOKEN, given_to_twilio.split("#")[0] + "#rc=9")
        )
        == 403
    )


def test_the_secrets_name_no_window_when_no_rotation_is_under_way() -> None:
    assert not WebhookSecrets(AUTH_TOKEN).previous_accepted()
