"""The operations team changes what callers hear, safely, from the console."""

from __future__ import annotations

import io
import shutil
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from pydub import AudioSegment
from sqlalchemy import select

from ivr.models.flows import FlowState, FlowVersion
from ivr.models.staff import Role
from ivr.platform.db import Database
from ivr.staff import audit
from tests.conftest import IN_CI, SAMPLES
from tests.console.conftest import csrf_token
from tests.webhooks.helpers import callback, signed_post, twilio_params


@pytest.fixture
def ops(as_role: Any, ingest_app: Any) -> FlaskClient:
    client: FlaskClient = as_role(Role.OPS)
    assert client.get("/console/flows/").status_code == 200  # publishes the file as version 1
    return client


def after_welcome(caller: FlaskClient, call: str) -> str:
    """What a new caller hears after pressing 1 at the welcome."""
    welcome = signed_post(caller, "/twilio/voice", twilio_params(call)).get_data()
    return signed_post(caller, callback(welcome), twilio_params(call, Digits="1")).get_data(
        as_text=True
    )


def post(client: FlaskClient, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
    return client.post(
        path, data={"csrf_token": csrf_token(client, "/console/flows/"), **data}, **kwargs
    )


def line_of(text: str, words: str) -> int:
    """The number of the first line of ``text`` holding ``words``."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if words in line)


def test_ops_see_the_published_flow_as_a_diagram(ops: FlaskClient) -> None:
    page = ops.get("/console/flows/").get_data(as_text=True)
    assert "Callers hear <strong>version 1</strong>" in page
    svg = ops.get("/console/flows/v/1/diagram.svg")
    assert svg.mimetype == "image/svg+xml" and b"main_menu" in svg.data and b"press 9" in svg.data


def test_a_broken_edit_is_refused_with_its_lines_and_a_good_one_is_a_draft(
    ops: FlaskClient, db: Database
) -> None:
    text = (SAMPLES.parent.parent / "call_flows" / "hotline.yaml").read_text()
    broken = post(
        ops,
        "/console/flows/edit",
        {"content": text.replace("next: anonymity_promise", "next: nowhere"), "message": "typo"},
    )
    assert broken.status_code == 400
    assert (
        f"hotline.yaml:{line_of(text, 'next: anonymity_promise')}</a>: "
        "step &#39;safety&#39; refers to missing step &#39;nowhere&#39;"
        in broken.get_data(as_text=True)
    )
    good = post(
        ops,
        "/console/flows/edit",
        {
            "content": text.replace("Goodbye.", "Take care. Goodbye.", 1),
            "message": "kinder goodbye",
        },
    )
    assert good.status_code == 303 and good.headers["Location"].endswith("/console/flows/v/2")
    with db.reading() as session:
        states = {
            v.number: v.state
            for v in session.scalars(select(FlowVersion).where(FlowVersion.number > 0))
        }
    assert states == {1: FlowState.PUBLISHED, 2: FlowState.DRAFT}


def test_the_test_phone_walks_a_version_as_a_caller_would(ops: FlaskClient) -> None:
    headers = {"X-CSRFToken": csrf_token(ops, "/console/flows/v/1")}
    start = ops.post("/console/flows/v/1/phone", json={}, headers=headers).get_json()
    assert start["waiting"] == "keys: 1 9 *" and start["state"]["step"] == "welcome"
    assert set(start["prompts"]) == {"en-GB", "cy-GB"}
    welsh = ops.post(
        "/console/flows/v/1/phone",
        json={"state": start["state"], "action": "key", "key": "9"},
        headers=headers,
    ).get_json()
    assert welsh["heard"][0] == {"language": "cy-GB", "text": welsh["heard"][0]["text"]}
    assert "ffoniwch 999" in welsh["heard"][0]["text"]


def test_publishing_and_rolling_back_change_what_new_callers_hear(
    ops: FlaskClient, db: Database, ingest_app: Any
) -> None:
    text = (SAMPLES.parent.parent / "call_flows" / "hotline.yaml").read_text()
    post(
        ops,
        "/console/flows/edit",
        {
            "content": text.replace("please hang up now and call 999", "hang up now and dial 999"),
            "message": "shorter",
        },
    )
    caller = ingest_app.test_client()

    assert "please hang up now and call 999" in after_welcome(caller, "CA" + "1" * 32)
    published = post(
        ops,
        "/console/flows/v/2/publish",
        {"message": "shorter safety message"},
        follow_redirects=True,
    )
    assert "Version 2 is what new callers hear" in published.get_data(as_text=True)
    assert "hang up now and dial 999" in after_welcome(caller, "CA" + "2" * 32)
    post(ops, "/console/flows/v/1/publish", {"message": "callers missed the word please"})
    assert "please hang up now and call 999" in after_welcome(caller, "CA" + "3" * 32)
    with db.reading() as session:
        actions = [e.action for e in audit.events(session, actor="ops-one")]
    assert {"flow_save_draft", "flow_publish", "flow_rollback"} <= set(actions)


def wav(segment: AudioSegment) -> bytes:
    out = io.BytesIO()
    segment.export(out, format="wav")
    return out.getvalue()


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("notes.txt", b"hello", "upload a .wav or .mp3 file"),
        ("prompt.wav", b"not audio at all", "not playable audio"),
        ("quiet.wav", wav(AudioSegment.silent(3000, frame_rate=8000)), "too quiet"),
        (
            "long.wav",
            wav(AudioSegment.from_wav(SAMPLES / "report-en.wav") * 7),
            "keep prompts under 120 s",
        ),
    ],
    ids=["not-audio-name", "not-audio", "silent", "too-long"],
)
def test_an_unplayable_prompt_is_refused_with_a_reason(
    ops: FlaskClient, filename: str, data: bytes, message: str
) -> None:
    answer = post(
        ops,
        "/console/flows/prompts",
        {"step": "safety", "language": "en-GB", "audio": (io.BytesIO(data), filename)},
        follow_redirects=True,
    )
    assert message in answer.get_data(as_text=True)


def test_an_uploaded_prompt_is_a_draft_until_published_then_played_instead_of_the_text(
    ops: FlaskClient, ingest_app: Any
) -> None:
    # Given a recording uploaded for the safety message
    recording = (SAMPLES / "report-en.wav").read_bytes()
    uploaded = post(
        ops,
        "/console/flows/prompts",
        {"step": "safety", "language": "en-GB", "audio": (io.BytesIO(recording), "safety.wav")},
        follow_redirects=True,
    )
    assert "saved as a draft" in uploaded.get_data(as_text=True)
    # Then callers do not hear it yet
    caller = ingest_app.test_client()
    assert "immediate danger" in after_welcome(caller, "CA" + "4" * 32)
    # but the test phone plays it, and it can be listened to there
    headers = {"X-CSRFToken": csrf_token(ops, "/console/flows/v/1")}
    start = ops.post("/console/flows/v/1/phone", json={}, headers=headers).get_json()
    step = {"state": start["state"], "action": "key", "key": "1"}
    heard = ops.post("/console/flows/v/1/phone", json=step, headers=headers).get_json()["heard"]
    assert heard[0]["language"] == "audio" and ops.get(heard[0]["audio"]).data == recording
    # and with draft prompts switched off it speaks the text, as callers hear it now
    live = ops.post(
        "/console/flows/v/1/phone", json={**step, "drafts": False}, headers=headers
    ).get_json()
    assert "immediate danger" in live["heard"][0]["text"]
    # When the prompt changes are published with a message
    refused = post(ops, "/console/flows/prompts/publish", {"message": "  "})
    assert refused.status_code == 400 and "No prompt was published" in refused.get_data(
        as_text=True
    )
    post(ops, "/console/flows/prompts/publish", {"message": "recorded safety message"})
    # Then callers hear the recording instead of the text
    twiml = after_welcome(caller, "CA" + "7" * 32)
    assert (
        "<Play>https://hotline.example.org/twilio/prompts/uploaded/" in twiml
        and "immediate danger" not in twiml
    )
    url = twiml.split("<Play>")[1].split("</Play>")[0].replace("https://hotline.example.org", "")
    assert caller.get(url).data == recording


def test_a_prompt_is_removed_as_a_draft_and_the_history_keeps_every_change(
    ops: FlaskClient, ingest_app: Any
) -> None:
    # Given a published recording of the safety message
    recording = (SAMPLES / "report-en.wav").read_bytes()
    post(
        ops,
        "/console/flows/prompts",
        {"step": "safety", "language": "en-GB", "audio": (io.BytesIO(recording), "safety.wav")},
    )
    post(ops, "/console/flows/prompts/publish", {"message": "recorded safety message"})
    caller = ingest_app.test_client()
    assert "<Play>" in after_welcome(caller, "CA" + "8" * 32)
    # When it is removed, callers still hear it until the removal is published
    post(ops, "/console/flows/prompts/remove", {"step": "safety", "language": "en-GB"})
    assert "<Play>" in after_welcome(caller, "CA" + "9" * 32)
    post(ops, "/console/flows/prompts/publish", {"message": "back to the spoken text"})
    assert "immediate danger" in after_welcome(caller, "CA" + "a" * 32)
    # Then the history lists each change with its message
    page = ops.get("/console/flows/").get_data(as_text=True)
    history = page.split('id="history"')[1].split("</table>")[0]
    for said in (
        "prompt uploaded (draft)",
        "safety (en-GB): safety.wav",
        "recorded safety message",
        "prompt removed (draft)",
        "back to the spoken text",
        "first published from hotline.yaml",
    ):
        assert said in history


def test_an_announcement_is_heard_after_the_welcome_until_it_ends(
    ops: FlaskClient, ingest_app: Any
) -> None:
    texts = {
        "text_en-GB": "During our national appeal, lines are busy.",
        "text_cy-GB": "Yn ystod ein hapêl, mae'r llinellau'n brysur.",
    }
    refused = post(
        ops,
        "/console/flows/announcement",
        {"text_en-GB": "Only English", "active": "on"},
        follow_redirects=True,
    )
    assert "give the announcement in every language" in refused.get_data(as_text=True)
    post(ops, "/console/flows/announcement", {**texts, "active": "on"})
    caller = ingest_app.test_client()

    assert "During our national appeal" in after_welcome(caller, "CA" + "5" * 32)
    past = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    post(ops, "/console/flows/announcement", {**texts, "active": "on", "ends_at": past})
    assert "During our national appeal" not in after_welcome(caller, "CA" + "6" * 32)


def test_the_test_phone_hears_the_announcement_callers_hear(ops: FlaskClient) -> None:
    # Given an announcement the ops team has switched on
    post(
        ops,
        "/console/flows/announcement",
        {
            "text_en-GB": "During our national appeal, lines are busy.",
            "text_cy-GB": "Yn ystod ein hapêl, mae'r llinellau'n brysur.",
            "active": "on",
        },
    )
    headers = {"X-CSRFToken": csrf_token(ops, "/console/flows/v/1")}
    start = ops.post("/console/flows/v/1/phone", json={}, headers=headers).get_json()
    assert "national appeal" not in str(start["heard"])
    # When the test caller leaves the welcome in Welsh
    welsh = ops.post(
        "/console/flows/v/1/phone",
        json={"state": start["state"], "action": "key", "key": "9"},
        headers=headers,
    ).get_json()
    # Then they hear the announcement in Welsh first, as a caller would
    assert welsh["heard"][0] == {
        "language": "cy-GB",
        "text": "Yn ystod ein hapêl, mae'r llinellau'n brysur.",
    }
    assert "ffoniwch 999" in welsh["heard"][1]["text"]


def test_the_test_phone_refuses_a_key_where_the_call_does_not_wait_for_one(
    ops: FlaskClient,
) -> None:
    headers = {"X-CSRFToken": csrf_token(ops, "/console/flows/v/1")}
    lost = ops.post(
        "/console/flows/v/1/phone",
        json={"state": {"step": "record_report", "language": "en-GB"}, "key": "1"},
        headers=headers,
    )
    assert lost.status_code == 400 and "start again" in lost.get_json()["error"]


def test_an_mp3_prompt_is_accepted(ops: FlaskClient) -> None:
    if shutil.which("ffmpeg") is None:
        if IN_CI:
            pytest.fail("ffmpeg is required under CI=true (apt-get install ffmpeg)")
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")
    out = io.BytesIO()
    AudioSegment.from_wav(SAMPLES / "report-cy.wav").export(out, format="mp3")
    answer = post(
        ops,
        "/console/flows/prompts",
        {
            "step": "safety",
            "language": "cy-GB",
            "audio": (io.BytesIO(out.getvalue()), "diogelwch.mp3"),
        },
        follow_redirects=True,
    )
    assert "The recorded prompt is saved" in answer.get_data(as_text=True)
    assert "diogelwch.mp3" in ops.get("/console/flows/").get_data(as_text=True)
