"""`ivr doctor` tells an operator which step of a deployment they got wrong, and how to fix it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner, Result

from ivr.cli import main
from ivr.config import Config
from ivr.crypto.keys import PUBLIC_KEY_FILE
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.ops.doctor import Verdict, check_token_rotation
from ivr.telephony import static_fallback
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.functional.static_site import StaticSite
from tests.mailbox import PASSWORD, USER, smtp_server


def doctor(env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, ["doctor"], env=env)


def line(result: Result, name: str) -> str:
    found = [text for text in result.output.splitlines() if text[6:].startswith(name)]
    assert found, result.output
    return found[0]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[StaticSite]:
    """Where the static fallback is served from (the bucket's stand-in)."""
    with StaticSite(tmp_path / "site") as serving:
        yield serving


@pytest.fixture
def deployed(
    tmp_path: Path, key_pair: Path, emulator: RunningEmulator, site: StaticSite
) -> Iterator[dict[str, str]]:
    """An edge deployed as the README says: migrated, given the public key only, its
    static fallback published."""
    edge_keys = tmp_path / "edge-keys"
    edge_keys.mkdir()
    (edge_keys / PUBLIC_KEY_FILE).write_bytes((key_pair / PUBLIC_KEY_FILE).read_bytes())
    env = {
        "IVR_TIER": "edge",
        "IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'ivr.sqlite3'}",
        "IVR_PUBLIC_URL": "https://hotline.example.org",
        "IVR_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "IVR_TWILIO_API_URL": emulator.url,
        "IVR_SECRET_KEY": "s" * 32,
        "IVR_STORAGE_URL": str(tmp_path / "recordings"),
        "IVR_KEYS_DIR": str(edge_keys),
        "IVR_SPOOL_DIR": str(tmp_path / "spool"),
        "IVR_FALLBACK_SITE": str(tmp_path / "site" / "fallback"),
        "IVR_FALLBACK_URL": f"{site.url}/fallback",
    }
    migrated = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert migrated.exit_code == 0, migrated.output
    published = CliRunner().invoke(main, ["twilio", "fallback", "publish"], env=env)
    assert published.exit_code == 0, published.output
    yield env


def test_a_well_deployed_edge_passes_every_check(deployed: dict[str, str]) -> None:
    result = doctor(deployed)
    assert result.exit_code == 0, result.output
    for name in ("tier", "database", "keys", "store", "twilio", "spool", "fallback", "public url"):
        assert line(result, name).startswith("ok")
    assert f"version {static_fallback.version()} served at" in line(result, "fallback")
    assert "cannot" not in line(result, "keys") and "seals for key" in line(result, "keys")
    assert "All checks passed." in result.output


@pytest.mark.parametrize(
    ("change", "check", "fix"),
    [
        ({"IVR_DATABASE_URL": "sqlite:///{tmp}/fresh.sqlite3"}, "database", "ivr db upgrade"),
        (
            {"IVR_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"},
            "database",
            "check IVR_DATABASE_URL",
        ),
        ({"IVR_TWILIO_AUTH_TOKEN": "wrong"}, "twilio", "IVR_TWILIO_AUTH_TOKEN"),
        ({"IVR_KEYS_DIR": "{tmp}/no-keys"}, "keys", "ivr keys init"),
        ({"IVR_PUBLIC_URL": "http://hotline.example.org"}, "public url", "https"),
        ({"IVR_SPOOL_DIR": "{tmp}/ivr.sqlite3/spool"}, "spool", "IVR_SPOOL_DIR"),
        ({"IVR_CONSOLE_SECRET_KEY": "c" * 32}, "config", "change that setting"),
    ],
)
def test_each_wrong_step_is_named_with_its_fix(
    deployed: dict[str, str], tmp_path: Path, change: dict[str, str], check: str, fix: str
) -> None:
    env = {**deployed, **{k: v.replace("{tmp}", str(tmp_path)) for k, v in change.items()}}
    result = doctor(env)
    assert result.exit_code == 1
    failed = line(result, check)
    assert failed.startswith("FAIL") and fix in failed


def test_a_fallback_older_than_this_build_or_none_at_all_is_caught(
    deployed: dict[str, str], tmp_path: Path
) -> None:
    # Given the bucket still serves the Welsh document of an older build
    welsh = tmp_path / "site" / "fallback" / static_fallback.WELSH
    welsh.write_bytes(welsh.read_bytes().replace(b"999", b"112"))
    result = doctor(deployed)
    # Then the doctor names the stale document and the command that publishes this set
    assert result.exit_code == 1
    assert "serves an older set (cy.xml differ" in line(result, "fallback")
    assert "fix: run `ivr twilio fallback publish`" in line(result, "fallback")
    # And an edge on the internet with no fallback outside it fails the check
    result = doctor({**deployed, "IVR_FALLBACK_URL": ""})
    assert line(result, "fallback").startswith("FAIL  fallback    no IVR_FALLBACK_URL")


def console_env(tmp_path: Path, key_pair: Path) -> dict[str, str]:
    """A console deployed as the README says, migrated, holding the private key."""
    env = {
        "IVR_TIER": "console",
        "IVR_CONSOLE_SECRET_KEY": "c" * 32,
        "IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'ivr.sqlite3'}",
        "IVR_PUBLIC_URL": "https://console.hotline.internal",
        "IVR_STORAGE_URL": str(tmp_path / "recordings"),
        "IVR_KEYS_DIR": str(key_pair),
    }
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    return env


def test_the_console_checks_that_it_can_unwrap(tmp_path: Path, key_pair: Path) -> None:
    env = console_env(tmp_path, key_pair)
    result = doctor(env)
    assert result.exit_code == 0, result.output
    assert "holds the private key" in line(result, "keys")
    assert "twilio" not in result.output  # the console holds no Twilio credentials


def test_an_edge_that_kms_lets_decrypt_is_caught(
    deployed: dict[str, str], aws_endpoint: str
) -> None:
    # Given an edge on S3 and KMS whose role was (wrongly) allowed to decrypt: the test
    # KMS enforces no policies, so every role can
    kms = boto3.client("kms", endpoint_url=aws_endpoint, region_name="eu-west-2")
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="eu-west-2")
    s3.create_bucket(
        Bucket="doctor-recordings",
        CreateBucketConfiguration={"LocationConstraint": "eu-west-2"},
    )
    env = {
        **deployed,
        "IVR_STORAGE_URL": "s3://doctor-recordings/recordings",
        "IVR_S3_ENDPOINT_URL": aws_endpoint,
        "IVR_KEY_SERVICE": "kms",
        "IVR_KMS_KEY_ID": kms.create_key()["KeyMetadata"]["KeyId"],
        "IVR_KMS_ENDPOINT_URL": aws_endpoint,
        **{name: os.environ[name] for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")},
    }
    result = doctor(env)
    assert line(result, "store").startswith("ok")
    keys = line(result, "keys")
    assert keys.startswith("FAIL") and "remove kms:Decrypt" in keys
    # And a bucket that is not there is a failed store, with what to check
    missing = doctor({**env, "IVR_STORAGE_URL": "s3://no-such-bucket/recordings"})
    assert line(missing, "store").startswith("FAIL") and "s3:PutObject" in line(missing, "store")


def test_the_console_checks_its_mail_server_without_sending(tmp_path: Path, key_pair: Path) -> None:
    env = console_env(tmp_path, key_pair)
    with smtp_server(tmp_path, login=True) as mailbox:
        secured = {
            **env,
            "IVR_SMTP_URL": f"smtp://{USER}:{PASSWORD}@127.0.0.1:{mailbox.port}",
            "IVR_SMTP_CA_FILE": str(mailbox.ca_file),
        }
        assert line(doctor(secured), "mail").startswith("ok")
        untrusted = line(doctor({**secured, "IVR_SMTP_CA_FILE": ""}), "mail")
        assert untrusted.startswith("FAIL") and "IVR_SMTP_CA_FILE" in untrusted
        assert mailbox.messages == []


def test_a_worker_only_process_is_not_asked_for_a_spool(
    deployed: dict[str, str], tmp_path: Path
) -> None:
    # Given the edge's worker, whose image has no writable spool folder
    env = {**deployed, "IVR_SPOOL_DIR": f"{tmp_path}/ivr.sqlite3/spool"}
    assert doctor(env).exit_code == 1  # a web process there would be refused
    worker = CliRunner().invoke(main, ["doctor", "--worker-only"], env=env)
    assert worker.exit_code == 0, worker.output
    assert "spool" not in worker.output


def test_during_a_token_rotation_the_doctor_says_when_the_old_token_can_go(
    deployed: dict[str, str],
) -> None:
    # Given the operator promoted Twilio's secondary token and kept the old one for six hours
    until = datetime.now(UTC) + timedelta(hours=6)
    rotating = {
        **deployed,
        "IVR_TWILIO_PREVIOUS_AUTH_TOKEN": "the-token-before-the-promotion",
        "IVR_TWILIO_PREVIOUS_TOKEN_UNTIL": until.strftime("%Y-%m-%dT%H:%MZ"),
    }
    # Then the doctor names the moment after which both settings can be removed
    result = doctor(rotating)
    assert result.exit_code == 0, result.output
    said = line(result, "rotation")
    assert said.startswith("ok") and until.strftime("%Y-%m-%d %H:%M UTC") in said
    assert "remove IVR_TWILIO_PREVIOUS_AUTH_TOKEN" in said
    # And once the window has passed, a token still set is a fault to clear
    config = Config.from_env(rotating)
    later = check_token_rotation(config, now=until + timedelta(minutes=1))
    assert later.verdict is Verdict.FAIL and "remove IVR_TWILIO_PREVIOUS_AUTH_TOKEN" in later.fix


def test_the_doctor_checks_how_twilio_holds_the_hotlines_number(
    deployed: dict[str, str], emulator: RunningEmulator
) -> None:
    # Given the operator names the hotline's number, not yet provisioned, caller-name lookup on
    emulator.state.add_number("+447700900555", voice_caller_id_lookup=True)
    env = {**deployed, "IVR_TWILIO_NUMBER": "+44 7700 900555"}
    # Then the doctor says which settings drifted, and what to run
    result = doctor(env)
    assert result.exit_code == 1
    said = line(result, "number")
    assert said.startswith("FAIL") and "VoiceCallerIdLookup" in said and "SmsUrl" in said
    assert "ivr twilio provision +44 7700 900555" in said
    # When they provision it, the doctor finds it in line
    provisioned = CliRunner().invoke(main, ["twilio", "provision", "+447700900555"], env=env)
    assert provisioned.exit_code == 0, provisioned.output
    assert line(doctor(env), "number").startswith("ok")
    # And a number moved onto a SIP trunk is caught: calls would never reach the hotline
    emulator.state.add_number("+447700900666", trunk_sid="TK" + "6" * 32)
    trunked = line(doctor({**deployed, "IVR_TWILIO_NUMBER": "+447700900666"}), "number")
    assert trunked.startswith("FAIL") and "SIP trunk" in trunked
