"""The Twilio emulator answers as Twilio's published API definition says it does.

The reference is an extract of twilio-oai (``tests/fixtures/twilio-oai/``, written by
Twilio, not by us): its recording statuses, the fields of a recording and of a list
page, the SID patterns of each path, and which methods each path has. Where the
definition is silent (soft-deleted metadata), Twilio's changelog of 2022-03-03 is
followed: a deleted recording is listed and fetched only with ``IncludeSoftDeleted``.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from ivr.dev.phone import EmulatorMedia
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.calls import RecordingJob
from ivr.outside.twilio_api import TwilioRest
from ivr.platform.db import Database
from ivr.worker.reconcile import reconcile
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, REPO

OAI = json.loads((REPO / "tests/fixtures/twilio-oai/api_v2010_recordings.json").read_text())
ACCOUNT = f"/2010-04-01/Accounts/{ACCOUNT_SID}"


def get(emulator: RunningEmulator, path: str, **params: str) -> requests.Response:
    return requests.get(
        f"{emulator.url}{path}", params=params, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10
    )


def store(emulator: RunningEmulator, call_sid: str, status: str = "completed") -> str:
    answer = requests.post(
        f"{emulator.url}/_emulator/recordings",
        params={"call_sid": call_sid, "status": status},
        data=b"RIFF",
        timeout=10,
    )
    sid: str = answer.json()["sid"]
    return sid


def call_sid(n: int) -> str:
    return "CA" + f"{n:032x}"


def test_a_list_page_has_the_fields_and_statuses_the_definition_gives(
    emulator: RunningEmulator,
) -> None:
    for status in ("completed", "absent", "processing"):
        store(emulator, call_sid(1), status)
    page = get(emulator, f"{ACCOUNT}/Recordings.json").json()
    assert sorted(page) == OAI["list_recording_response_properties"]
    assert {item["status"] for item in page["recordings"]} == {"completed", "absent", "processing"}
    for item in page["recordings"]:
        assert set(item) <= set(OAI["recording_properties"])
        assert item["status"] in OAI["recording_enum_status"]


def test_recordings_are_listed_in_pages_of_page_size(emulator: RunningEmulator) -> None:
    made = {store(emulator, call_sid(n)) for n in range(5)}
    seen: list[str] = []
    page: dict[str, Any] = get(emulator, f"{ACCOUNT}/Recordings.json", PageSize="2").json()
    pages = 1
    while True:
        assert page["page_size"] == 2 and len(page["recordings"]) <= 2
        seen += [item["sid"] for item in page["recordings"]]
        if page["next_page_uri"] is None:
            break
        page = get(emulator, page["next_page_uri"]).json()
        pages += 1
    assert pages == 3 and sorted(seen) == sorted(made)


def test_reconciliation_follows_every_page_of_a_long_list(
    emulator: RunningEmulator, db: Database
) -> None:
    # More recordings than our client asks for in one page (100)
    for n in range(130):
        EmulatorMedia(emulator.url).store(call_sid(n), b"RIFF")
    twilio = TwilioRest(emulator.url, ACCOUNT_SID, AUTH_TOKEN)
    assert len(list(twilio.recordings())) == 130
    assert reconcile(db, twilio, b"k" * 32, timedelta(0)) == 130
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(RecordingJob)) == 130


def test_a_deleted_recording_keeps_its_metadata_only_for_who_asks_for_it(
    emulator: RunningEmulator,
) -> None:
    sid = store(emulator, call_sid(7))
    deleted = requests.delete(
        f"{emulator.url}{ACCOUNT}/Recordings/{sid}.json", auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10
    )
    assert deleted.status_code == 204
    assert get(emulator, f"{ACCOUNT}/Recordings/{sid}.json").status_code == 404
    assert get(emulator, f"{ACCOUNT}/Recordings.json").json()["recordings"] == []
    kept = get(emulator, f"{ACCOUNT}/Recordings/{sid}.json", IncludeSoftDeleted="true").json()
    assert kept["status"] == "deleted" and kept["status"] in OAI["recording_enum_status"]
    listed = get(emulator, f"{ACCOUNT}/Recordings.json", IncludeSoftDeleted="true").json()
    assert [item["sid"] for item in listed["recordings"]] == [sid]
    assert get(emulator, f"{ACCOUNT}/Recordings/{sid}.wav").status_code == 404  # audio gone


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json", "Sid"),
        ("/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json", "Sid"),
    ],
)
def test_a_sid_that_does_not_match_the_definitions_pattern_is_not_found(
    emulator: RunningEmulator, path: str, parameter: str
) -> None:
    pattern = re.compile(OAI["paths"][path]["delete"]["parameters"][parameter]["pattern"])
    prefix = pattern.pattern[1:3]
    for sid in (prefix + "123", "XX" + "0" * 32, prefix + "g" * 32):
        assert not pattern.match(sid)
        url = emulator.url + path.replace("{AccountSid}", ACCOUNT_SID).replace("{Sid}", sid)
        answer = requests.delete(url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10)
        assert answer.status_code == 404, sid


@pytest.mark.parametrize("path", sorted(OAI["paths"]))
def test_a_method_the_definition_does_not_give_a_path_is_refused(
    emulator: RunningEmulator, path: str
) -> None:
    sid = {"Recordings": "RE", "Calls": "CA"}.get(path.split("/")[-2], "AC")
    url = emulator.url + path.replace("{AccountSid}", ACCOUNT_SID).replace(
        "{Sid}", ACCOUNT_SID if sid == "AC" else sid + "0" * 32
    )
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "BREW"):
        if method.lower() in OAI["paths"][path]:
            continue
        answer = requests.request(method, url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10)
        assert answer.status_code == 405, (method, answer.status_code)
