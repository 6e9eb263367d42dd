"""The Twilio adapter's account and phone-number calls, against the emulator over HTTP."""

from __future__ import annotations

import threading
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from ivr.dev.phone import EmulatorMedia
from ivr.dev.twilio_emulator import SEEDED_NUMBER, RunningEmulator
from ivr.outside.twilio_api import (
    FALLBACK_OVERRIDES,
    STATUS_OVERRIDES,
    VOICE_OVERRIDES,
    InvalidPhoneNumber,
    NumberSettings,
    PhoneNumberNotFound,
    TwilioApi,
    TwilioAuthFailed,
    TwilioRest,
    TwilioUnavailable,
    UnusablePublicUrl,
    compare,
    e164,
    hotline_settings,
)
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, assert_implements

EMULATOR_API = "http://127.0.0.1:8010"


@pytest.fixture
def twilio(emulator: RunningEmulator) -> TwilioRest:
    return TwilioRest(emulator.url, ACCOUNT_SID, AUTH_TOKEN)


def test_the_twilio_client_implements_its_interface() -> None:
    assert_implements(TwilioApi, TwilioRest)


def test_account_status_reads_the_account(emulator: RunningEmulator, twilio: TwilioRest) -> None:
    assert twilio.account_status() == "active"
    requests.put(f"{emulator.url}/_emulator/account", json={"status": "suspended"}, timeout=5)
    assert twilio.account_status() == "suspended"


def test_a_wrong_auth_token_is_an_auth_failure_that_names_the_setting(
    emulator: RunningEmulator,
) -> None:
    wrong = TwilioRest(emulator.url, ACCOUNT_SID, "not-the-token")
    with pytest.raises(TwilioAuthFailed) as failed:
        wrong.account_status()
    assert "IVR_TWILIO_AUTH_TOKEN" in str(failed.value)
    with pytest.raises(TwilioAuthFailed, match="Twilio error 20003"):
        wrong.incoming_number(SEEDED_NUMBER)
    assert "not-the-token" not in str(failed.value)


def test_the_emulator_refuses_wrong_credentials_as_twilio_does(emulator: RunningEmulator) -> None:
    response = requests.get(
        f"{emulator.url}/2010-04-01/Accounts/{ACCOUNT_SID}.json",
        auth=(ACCOUNT_SID, "wrong"),
        timeout=5,
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Twilio API"'
    assert response.json()["code"] == 20003


def test_a_number_is_found_exactly_whatever_its_spacing(
    emulator: RunningEmulator, twilio: TwilioRest
) -> None:
    # Twilio's filter matches part of a number: this longer one matches too, and is not it.
    emulator.state.add_number(SEEDED_NUMBER + "9", voice_url="https://elsewhere.example/")
    found = twilio.incoming_number("+44 (0)800 011-2233")
    assert (found.phone_number, found.settings) == (SEEDED_NUMBER, NumberSettings())
    assert found.sid.startswith("PN")


def test_a_number_the_account_does_not_hold_is_not_found(twilio: TwilioRest) -> None:
    with pytest.raises(PhoneNumberNotFound, match=r"no number \+447700900123"):
        twilio.incoming_number("+447700900123")


def test_configure_number_sets_every_setting(emulator: RunningEmulator, twilio: TwilioRest) -> None:
    wanted = hotline_settings(PUBLIC_URL, emulator.url)
    updated = twilio.configure_number(twilio.incoming_number(SEEDED_NUMBER).sid, wanted)
    assert updated.settings == wanted
    assert twilio.incoming_number(SEEDED_NUMBER).settings == wanted
    (held,) = requests.get(f"{emulator.url}/_emulator/state", timeout=5).json()["numbers"]
    assert held["voice_url"] == f"{PUBLIC_URL}/twilio/voice#{VOICE_OVERRIDES}"
    assert held["status_callback_method"] == "POST"


def test_configuring_a_number_sid_twilio_does_not_know_is_not_found(twilio: TwilioRest) -> None:
    with pytest.raises(PhoneNumberNotFound):
        twilio.configure_number("PN" + "0" * 32, NumberSettings())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+448000112233", "+448000112233"),
        ("+44 800 011 2233", "+448000112233"),
        ("+44 (0)800 011 2233", "+448000112233"),
        ("0044 800-011-2233", "+448000112233"),
    ],
)
def test_numbers_are_normalised_to_e164(text: str, expected: str) -> None:
    assert e164(text) == expected


@pytest.mark.parametrize("text", ["0800 011 2233", "+44 800 CALL US", "+0123456789", ""])
def test_numbers_not_in_international_form_are_refused(text: str) -> None:
    with pytest.raises(InvalidPhoneNumber, match="international form"):
        e164(text)


def test_the_hotline_settings_follow_the_readme_table() -> None:
    settings = hotline_settings(PUBLIC_URL + "/", "https://api.twilio.com")
    assert settings == NumberSettings(
        voice_url=f"{PUBLIC_URL}/twilio/voice#{VOICE_OVERRIDES}",
        voice_method="POST",
        voice_fallback_url=f"{PUBLIC_URL}/twilio/fallback#{FALLBACK_OVERRIDES}",
        voice_fallback_method="POST",
        status_callback=f"{PUBLIC_URL}/twilio/status#{STATUS_OVERRIDES}",
        status_callback_method="POST",
        voice_application_sid="",
        voice_caller_id_lookup="false",
        sms_url=f"{PUBLIC_URL}/twilio/sms",
        sms_method="POST",
    )
    assert [d.name for d in compare(NumberSettings(), settings) if d.changed] == [
        "VoiceUrl",
        "VoiceFallbackUrl",
        "StatusCallback",
        "SmsUrl",
    ]


@pytest.mark.parametrize("api_url", ["https://api.twilio.com", "https://api.dublin.ie1.twilio.com"])
def test_real_twilio_is_never_given_an_http_public_url(api_url: str) -> None:
    with pytest.raises(UnusablePublicUrl, match="https"):
        hotline_settings("http://hotline.example.org", api_url)


@pytest.mark.parametrize("api_url", [EMULATOR_API, "http://localhost:8010", "http://[::1]:8010"])
def test_the_loopback_emulator_may_call_an_http_public_url(api_url: str) -> None:
    settings = hotline_settings("http://127.0.0.1:8000", api_url)
    assert settings.voice_url.startswith("http://127.0.0.1:8000/twilio/voice#")


@pytest.mark.parametrize(
    "overrides", [VOICE_OVERRIDES, FALLBACK_OVERRIDES, STATUS_OVERRIDES], ids=str
)
def test_connection_overrides_are_within_twilios_documented_limits(overrides: str) -> None:
    values = dict(parse_qsl(overrides, strict_parsing=True))
    assert set(values) == {"rc", "rp", "ct", "rt", "tt"}
    assert 0 <= int(values["rc"]) <= 5
    assert set(values["rp"].split(",")) <= {"4xx", "5xx", "ct", "rt", "all"}
    assert 100 <= int(values["ct"]) <= 10_000
    assert 100 <= int(values["rt"]) <= 15_000
    assert 100 <= int(values["tt"]) <= 15_000


def test_a_caller_waits_at_most_ten_seconds_before_the_fallback_answers() -> None:
    def total(overrides: str) -> int:
        return int(dict(parse_qsl(overrides))["tt"])

    assert total(VOICE_OVERRIDES) + total(FALLBACK_OVERRIDES) <= 10_000
    assert urlsplit(hotline_settings(PUBLIC_URL, EMULATOR_API).voice_url).fragment == (
        VOICE_OVERRIDES
    )


class Listener:
    """A loopback HTTP server that answers pages of recordings and notes who asked."""

    def __init__(self, *next_pages: str | None) -> None:
        from flask import Flask, jsonify, request
        from werkzeug.serving import make_server

        self.authorizations: list[str] = []
        app = Flask("listener")

        @app.route("/<path:anything>")
        def page(anything: str) -> object:
            self.authorizations.append(request.headers.get("Authorization", ""))
            served = len(self.authorizations) - 1
            following = next_pages[served] if served < len(next_pages) else None
            return jsonify(recordings=[], next_page_uri=following)

        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()


@pytest.mark.parametrize("shape", ["@{host}/steal", "//{host}/steal", "/../../steal"])
def test_a_next_page_elsewhere_is_never_fetched_with_our_credentials(shape: str) -> None:
    # Given an attacker's server, and an API answer whose next page points at it
    with Listener() as attacker:
        host = attacker.url.removeprefix("http://")
        with Listener(shape.format(host=host)) as api:
            twilio = TwilioRest(api.url, ACCOUNT_SID, AUTH_TOKEN)
            # When the adapter pages through recordings
            with pytest.raises(TwilioUnavailable, match="outside the account"):
                list(twilio.recordings())
        # Then the first page was asked for with our credentials, and the attacker never was
        assert len(api.authorizations) == 1 and api.authorizations[0].startswith("Basic ")
        assert attacker.authorizations == []


def test_a_next_page_in_the_account_is_followed() -> None:
    second = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings.json?PageSize=100&Page=1"
    with Listener(second) as api:
        assert list(TwilioRest(api.url, ACCOUNT_SID, AUTH_TOKEN).recordings()) == []
    assert len(api.authorizations) == 2


def test_the_recordings_of_one_call_can_be_listed(
    emulator: RunningEmulator, twilio: TwilioRest
) -> None:
    media = EmulatorMedia(emulator.url)
    mine, _ = media.store("CA" + "1" * 32, b"RIFF")
    media.store("CA" + "2" * 32, b"RIFF")
    assert [r.sid for r in twilio.recordings("CA" + "1" * 32)] == [mine]
    assert len(list(twilio.recordings())) == 2
    with pytest.raises(ValueError, match="not a Twilio CA SID"):
        list(twilio.recordings("CA../Accounts"))
