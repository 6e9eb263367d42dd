"""A whole report, placed with ``ivr call`` against the running service, as a person would."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
import requests

from tests.conftest import PLANTED_NUMBER, REPO
from tests.functional.servers import (
    free_port,
    ivr,
    running_emulator,
    serving_with_worker,
    set_up_as_make_run,
)

pytestmark = pytest.mark.slow


def storage_settings(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    if kind == "local":
        return {"IVR_STORAGE_URL": str(tmp_path / "recordings")}
    endpoint = request.getfixturevalue("aws_endpoint")
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-2")
    kms = boto3.client("kms", endpoint_url=endpoint, region_name="eu-west-2")
    bucket = f"hotline-{tmp_path.name[-8:].lower().replace('_', '-')}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    return {
        "IVR_STORAGE_URL": f"s3://{bucket}/recordings",
        "IVR_S3_ENDPOINT_URL": endpoint,
        "IVR_KEY_SERVICE": "kms",
        "IVR_KMS_KEY_ID": kms.create_key()["KeyMetadata"]["KeyId"],
        "IVR_KMS_ENDPOINT_URL": endpoint,
    }


def wait_for(condition: Callable[[], bool], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for the worker")
        time.sleep(0.2)


@pytest.mark.parametrize("storage", ["local", "s3+kms"])
def test_reports_in_english_and_welsh_over_http(
    tmp_path: Path, storage: str, request: pytest.FixtureRequest
) -> None:
    # Given the service (with its worker) and the Twilio emulator, started as `make run` does
    web, emulator = free_port(), free_port()
    database = tmp_path / "var" / "ivr.sqlite3"
    env = {
        "IVR_DATABASE_URL": f"sqlite:///{database}",
        "IVR_BIND": f"127.0.0.1:{web}",
        "IVR_PUBLIC_URL": f"http://127.0.0.1:{web}",
        "IVR_TWILIO_API_URL": f"http://127.0.0.1:{emulator}",
        "IVR_FLOWS_DIR": str(REPO / "call_flows"),
        "IVR_WORKER_POLL_SECONDS": "0.2",
        **storage_settings(storage, tmp_path, request),
    }
    set_up_as_make_run(env, tmp_path)
    with (
        running_emulator(emulator, env, tmp_path),
        serving_with_worker(env, tmp_path, f"http://127.0.0.1:{web}"),
    ):
        # When a caller reports in English, and another in Welsh
        english = ivr(["call", "--keys", "1,1,1,1,#,1", "--caller", PLANTED_NUMBER], env, tmp_path)
        welsh = ivr(
            [
                "call",
                "--keys",
                "9,1,3,2,#,1,#",
                "--caller",
                PLANTED_NUMBER,
                "--audio",
                str(REPO / "ivr" / "samples" / "report-cy.wav"),
            ],
            env,
            tmp_path,
        )

        # And the worker inside the service has fetched, stored and erased every recording
        def twilio() -> dict[str, list[str]]:
            state: dict[str, list[str]] = requests.get(
                f"http://127.0.0.1:{emulator}/_emulator/state", timeout=30
            ).json()
            return state

        def queued() -> int:
            with sqlite3.connect(database) as db:
                found: int = db.execute(
                    "SELECT count(*) FROM reports WHERE status = 'queued'"
                ).fetchone()[0]
            return found

        # (The call log goes a moment before the report is queued: wait for both.)
        wait_for(
            lambda: (
                not twilio()["recordings"] and len(twilio()["deleted_calls"]) == 2 and queued() == 2
            )
        )
        held = twilio()

    # Then each hears the whole journey in their language and is thanked
    assert english.returncode == 0, english.stderr
    assert "[en-GB] Thank you. Your report has been received." in english.stdout
    assert welsh.returncode == 0, welsh.stderr
    assert "[cy-GB] Diolch. Rydym wedi derbyn eich adroddiad." in welsh.stdout
    assert "Recordings made: 2" in welsh.stdout
    assert len(held["deleted_recordings"]) == 3
    # And two reports are queued for handlers, with their choices but not their callers
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT language, category, anonymity, contact_left, status FROM reports ORDER BY language"
        ).fetchall()
        assert rows == [
            ("cy-GB", "sexual_purpose", "contact", 1, "queued"),
            ("en-GB", "information_for_reward", "anonymous", 0, "queued"),
        ]
        assert db.execute("SELECT count(*) FROM audio_objects").fetchone() == (3,)
        assert db.execute(
            "SELECT count(*) FROM recording_jobs WHERE recording_sid IS NOT NULL OR call_sid IS NOT NULL"
        ).fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM call_sessions").fetchone() == (0,)
        references = [row[0] for row in db.execute("SELECT reference FROM reports")]
        objects = [row[0] for row in db.execute("SELECT object_name FROM audio_objects")]
    # And the server's own log never printed the caller's number, nor anything that would
    # tie a line's time to a report: its reference, its job or its stored objects
    server_log = (tmp_path / "server.log").read_text()
    assert "call.started" in server_log and "report.queued" in server_log
    assert PLANTED_NUMBER not in server_log and PLANTED_NUMBER[1:] not in server_log
    for named in (*references, *objects, "job="):
        assert named not in server_log, named
