"""Operations point the hotline's number at the service, and check that it stays so."""

from __future__ import annotations

import boto3
import pytest
import requests
from click.testing import CliRunner

from ivr.cli import main
from ivr.dev.twilio_emulator import SEEDED_NUMBER, RunningEmulator
from ivr.outside.twilio_api import FALLBACK_OVERRIDES, STATUS_OVERRIDES, VOICE_OVERRIDES
from ivr.telephony import static_fallback
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL

VOICE = f"{PUBLIC_URL}/twilio/voice#{VOICE_OVERRIDES}"
FALLBACK = f"{PUBLIC_URL}/twilio/fallback#{FALLBACK_OVERRIDES}"
STATUS = f"{PUBLIC_URL}/twilio/status#{STATUS_OVERRIDES}"


@pytest.fixture
def runner(emulator: RunningEmulator) -> CliRunner:
    """The ivr command, configured for the hotline's public URL, with Twilio at the emulator."""
    return CliRunner(
        env={
            "IVR_PUBLIC_URL": PUBLIC_URL,
            "IVR_TWILIO_API_URL": emulator.url,
            "IVR_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "IVR_SECRET_KEY": "s" * 32,
        }
    )


def held(emulator: RunningEmulator) -> dict[str, str]:
    """The seeded number as the emulator shows it."""
    numbers = requests.get(f"{emulator.url}/_emulator/state", timeout=5).json()["numbers"]
    (number,) = [n for n in numbers if n["phone_number"] == SEEDED_NUMBER]
    return dict(number)


def test_provision_then_check_then_drift_then_provision_again(
    runner: CliRunner, emulator: RunningEmulator
) -> None:
    # Given a number just bought, with no URLs
    # When operations provision it, written as people write numbers
    result = runner.invoke(main, ["twilio", "provision", "+44 800 011 2233"])

    # Then each setting says what changed, and Twilio holds the hotline's URLs
    assert result.exit_code == 0, result.output
    assert f"  VoiceUrl: (empty) -> {VOICE}\n" in result.output
    assert f"  VoiceFallbackUrl: (empty) -> {FALLBACK}\n" in result.output
    assert f"  StatusCallback: (empty) -> {STATUS}\n" in result.output
    assert "  VoiceMethod: unchanged\n" in result.output
    # A text to the number is answered with how to report, then erased (not kept by Twilio)
    assert f"  SmsUrl: (empty) -> {PUBLIC_URL}/twilio/sms\n" in result.output
    assert result.output.endswith("4 setting(s) changed.\n")
    number = held(emulator)
    assert (number["voice_url"], number["voice_fallback_url"], number["status_callback"]) == (
        VOICE,
        FALLBACK,
        STATUS,
    )

    # When they check it, it is in line
    result = runner.invoke(main, ["twilio", "provision", SEEDED_NUMBER, "--check"])
    assert result.exit_code == 0, result.output
    assert "  VoiceUrl: in line\n" in result.output
    assert result.output.endswith("In line with IVR_PUBLIC_URL.\n")

    # Given someone changes the Voice URL in Twilio's console
    sid = number["sid"]
    requests.post(
        f"{emulator.url}/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers/{sid}.json",
        data={"VoiceUrl": "https://old.example.org/voice"},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=5,
    ).raise_for_status()

    # When they check, the drift is reported, exit status 1, and nothing is changed
    result = runner.invoke(main, ["twilio", "provision", SEEDED_NUMBER, "--check"])
    assert result.exit_code == 1, result.output
    assert (
        f"  VoiceUrl: drift: is https://old.example.org/voice, should be {VOICE}\n" in result.output
    )
    assert "  VoiceFallbackUrl: in line\n" in result.output
    assert result.output.endswith("1 setting(s) drifted: run without --check to set them.\n")
    assert held(emulator)["voice_url"] == "https://old.example.org/voice"

    # When they provision again, only the Voice URL changes, and the check is clean
    result = runner.invoke(main, ["twilio", "provision", SEEDED_NUMBER])
    assert result.exit_code == 0, result.output
    assert f"  VoiceUrl: https://old.example.org/voice -> {VOICE}\n" in result.output
    assert "  StatusCallback: unchanged\n" in result.output
    assert result.output.endswith("1 setting(s) changed.\n")
    assert runner.invoke(main, ["twilio", "provision", SEEDED_NUMBER, "--check"]).exit_code == 0

    # And provisioning a number already in line changes nothing
    result = runner.invoke(main, ["twilio", "provision", SEEDED_NUMBER])
    assert result.exit_code == 0, result.output
    assert result.output.endswith("Nothing to change.\n")


def test_a_voice_application_on_the_number_is_drift(
    runner: CliRunner, emulator: RunningEmulator
) -> None:
    # A voice application makes Twilio ignore the number's own URLs.
    emulator.state.add_number("+447700900222", voice_application_sid="AP" + "5" * 32)
    result = runner.invoke(main, ["twilio", "provision", "+447700900222", "--check"])
    assert result.exit_code == 1
    assert f"  VoiceApplicationSid: drift: is AP{'5' * 32}, should be (empty)\n" in result.output
    assert runner.invoke(main, ["twilio", "provision", "+447700900222"]).exit_code == 0
    assert runner.invoke(main, ["twilio", "provision", "+447700900222", "--check"]).exit_code == 0


def test_caller_name_lookup_is_switched_off_and_kept_off(
    runner: CliRunner, emulator: RunningEmulator
) -> None:
    # Given a number whose caller-name lookup was switched on (twilio-oai, IncomingPhoneNumber:
    # "look up the caller's caller-ID name from the CNAM database"): Twilio would keep the
    # caller's name in its call log
    emulator.state.add_number("+447700900333", voice_caller_id_lookup=True)
    # When operations check it, it is drift
    result = runner.invoke(main, ["twilio", "provision", "+447700900333", "--check"])
    assert result.exit_code == 1
    assert "  VoiceCallerIdLookup: drift: is true, should be false\n" in result.output
    # When they provision it, Twilio holds it off, as a JSON boolean
    result = runner.invoke(main, ["twilio", "provision", "+447700900333"])
    assert result.exit_code == 0, result.output
    assert "  VoiceCallerIdLookup: true -> false\n" in result.output
    (number,) = [n for n in emulator.state.numbers.values() if n["phone_number"] == "+447700900333"]
    assert number["voice_caller_id_lookup"] is False
    assert runner.invoke(main, ["twilio", "provision", "+447700900333", "--check"]).exit_code == 0


def test_a_number_on_a_sip_trunk_is_refused_with_what_to_do(
    runner: CliRunner, emulator: RunningEmulator
) -> None:
    # Given a number on a SIP trunk, for which Twilio ignores every voice URL
    emulator.state.add_number("+447700900444", trunk_sid="TK" + "4" * 32)
    for extra in ([], ["--check"]):
        # When operations provision or check it
        result = runner.invoke(main, ["twilio", "provision", "+447700900444", *extra])
        # Then it is refused, saying why and what to do, and nothing at Twilio changes
        assert result.exit_code == 1
        assert f"is on SIP trunk TK{'4' * 32}" in result.output
        assert "Remove the number from the trunk" in result.output
    (number,) = [n for n in emulator.state.numbers.values() if n["phone_number"] == "+447700900444"]
    assert number["voice_url"] == ""


def test_a_number_the_account_does_not_hold_is_a_clear_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["twilio", "provision", "+44 7700 900123"])
    assert result.exit_code == 1
    assert result.output == "Error: the Twilio account holds no number +447700900123\n"


def test_a_number_not_in_international_form_is_a_clear_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["twilio", "provision", "0800 011 2233"])
    assert result.exit_code == 1
    assert "not a phone number in international form, e.g. +44 800 011 2233" in result.output


def test_a_wrong_auth_token_is_a_clear_error(runner: CliRunner, emulator: RunningEmulator) -> None:
    result = runner.invoke(
        main,
        ["twilio", "provision", SEEDED_NUMBER],
        env={"IVR_TWILIO_AUTH_TOKEN": "a-wrong-token"},
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: Twilio refused the account SID and auth token")
    assert "check IVR_TWILIO_ACCOUNT_SID and IVR_TWILIO_AUTH_TOKEN" in result.output
    assert "a-wrong-token" not in result.output
    assert held(emulator)["voice_url"] == ""


def test_an_http_public_url_is_refused_for_real_twilio(runner: CliRunner) -> None:
    result = runner.invoke(
        main,
        ["twilio", "provision", SEEDED_NUMBER, "--check"],
        env={
            "IVR_PUBLIC_URL": "http://hotline.example.org",
            # Refused before any request: nothing reaches Twilio.
            "IVR_TWILIO_API_URL": "https://api.twilio.com",
        },
    )
    assert result.exit_code == 1
    assert "must call the hotline over https" in result.output


def test_an_http_public_url_is_allowed_against_the_loopback_emulator(
    runner: CliRunner, emulator: RunningEmulator
) -> None:
    result = runner.invoke(
        main,
        ["twilio", "provision", SEEDED_NUMBER],
        env={"IVR_PUBLIC_URL": "http://127.0.0.1:8000"},
    )
    assert result.exit_code == 0, result.output
    assert held(emulator)["voice_url"] == f"http://127.0.0.1:8000/twilio/voice#{VOICE_OVERRIDES}"


def test_the_static_fallback_is_published_to_a_bucket_and_the_number_falls_back_to_it(
    runner: CliRunner, emulator: RunningEmulator, aws_endpoint: str
) -> None:
    # Given a public bucket for the fallback, in another region than the edge's
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="eu-west-1")
    s3.create_bucket(
        Bucket="hotline-fallback", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    served = "https://hotline-fallback.s3.eu-west-1.amazonaws.com/fallback"
    env = {
        "IVR_FALLBACK_SITE": "s3://hotline-fallback/fallback",
        "IVR_FALLBACK_URL": served,
        "IVR_S3_ENDPOINT_URL": aws_endpoint,
    }
    # When operations publish it
    result = runner.invoke(main, ["twilio", "fallback", "publish"], env=env)
    # Then every document is in the bucket as TwiML, cached briefly, and the version shown
    assert result.exit_code == 0, result.output
    assert f"version {static_fallback.version()}: 4 documents" in result.output
    for name, body in static_fallback.documents().items():
        found = s3.get_object(Bucket="hotline-fallback", Key=f"fallback/{name}")
        assert found["Body"].read() == body
        assert found["ContentType"].startswith("text/xml")
        assert found["CacheControl"] == "public, max-age=60"
    # When they provision the number, it falls back to the bucket, with GET (all a bucket
    # answers), keeping the fallback's connection overrides
    result = runner.invoke(main, ["twilio", "provision", SEEDED_NUMBER], env=env)
    assert result.exit_code == 0, result.output
    number = held(emulator)
    assert number["voice_fallback_url"] == f"{served}/voice.xml#{FALLBACK_OVERRIDES}"
    assert number["voice_fallback_method"] == "GET"
    assert (
        runner.invoke(main, ["twilio", "provision", SEEDED_NUMBER, "--check"], env=env).exit_code
        == 0
    )
    # And a fallback pointed back at the edge by hand is drift
    sid = number["sid"]
    requests.post(
        f"{emulator.url}/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers/{sid}.json",
        data={"VoiceFallbackUrl": FALLBACK, "VoiceFallbackMethod": "POST"},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=5,
    ).raise_for_status()
    result = runner.invoke(main, ["twilio", "provision", SEEDED_NUMBER, "--check"], env=env)
    assert result.exit_code == 1
    assert "  VoiceFallbackMethod: drift: is POST, should be GET\n" in result.output


def test_publishing_without_a_place_to_publish_to_says_what_to_set(runner: CliRunner) -> None:
    result = runner.invoke(main, ["twilio", "fallback", "publish"], env={"IVR_FALLBACK_SITE": ""})
    assert result.exit_code == 1
    assert "IVR_FALLBACK_SITE is not set" in result.output


def test_an_http_fallback_url_is_refused_for_real_twilio(runner: CliRunner) -> None:
    result = runner.invoke(
        main,
        ["twilio", "provision", SEEDED_NUMBER, "--check"],
        env={
            "IVR_FALLBACK_URL": "http://fallback.example.org",
            "IVR_TWILIO_API_URL": "https://api.twilio.com",
        },
    )
    assert result.exit_code == 1
    assert "IVR_FALLBACK_URL is http://fallback.example.org" in result.output
