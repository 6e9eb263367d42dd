"""A whole report, placed with ``ivr call`` against the running service, as a person would."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import requests

from tests.conftest import PLANTED_NUMBER, REPO
from tests.functional.servers import free_port, ivr, running

pytestmark = pytest.mark.slow


def test_reports_in_english_and_welsh_over_http(tmp_path: Path) -> None:
    # Given the service and the Twilio emulator, started as `make run` starts them
    web, emulator = free_port(), free_port()
    env = {
        "IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'ivr.sqlite3'}",
        "IVR_BIND": f"127.0.0.1:{web}",
        "IVR_PUBLIC_URL": f"http://127.0.0.1:{web}",
        "IVR_TWILIO_API_URL": f"http://127.0.0.1:{emulator}",
        "IVR_FLOWS_DIR": str(REPO / "call_flows"),
    }
    migrated = ivr(["db", "upgrade"], env, tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    with (
        running(
            ["twilio-emulator", "--port", str(emulator)],
            env,
            tmp_path,
            f"http://127.0.0.1:{emulator}/_emulator/state",
            tmp_path / "emulator.log",
        ),
        running(
            ["serve", "--workers", "2"],
            env,
            tmp_path,
            f"http://127.0.0.1:{web}/healthz",
            tmp_path / "server.log",
        ),
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
        held = requests.get(f"http://127.0.0.1:{emulator}/_emulator/state", timeout=5).json()

    # Then each hears the whole journey in their language and is thanked
    assert english.returncode == 0, english.stderr
    assert "[en-GB] Thank you. Your report has been received." in english.stdout
    assert welsh.returncode == 0, welsh.stderr
    assert "[cy-GB] Diolch. Rydym wedi derbyn eich adroddiad." in welsh.stdout
    assert "Recordings made: 2" in welsh.stdout
    # And three recordings wait at "Twilio" for the worker to fetch
    assert len(held["recordings"]) == 3
    # And two reports are queued for fetching, with their choices but not their callers
    with sqlite3.connect(tmp_path / "var" / "ivr.sqlite3") as database:
        rows = database.execute(
            "SELECT language, category, anonymity, contact_left FROM reports ORDER BY language"
        ).fetchall()
        assert rows == [
            ("cy-GB", "sexual_purpose", "contact", 1),
            ("en-GB", "information_for_reward", "anonymous", 0),
        ]
        assert database.execute("SELECT count(*) FROM recording_jobs").fetchone() == (3,)
        assert database.execute("SELECT count(*) FROM call_sessions").fetchone() == (0,)
    # And the server's own log never printed the caller's number
    server_log = (tmp_path / "server.log").read_text()
    assert "call.started" in server_log
    assert PLANTED_NUMBER not in server_log and PLANTED_NUMBER[1:] not in server_log
