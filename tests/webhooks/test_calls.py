"""Calls from the first ring to the report they leave, as Twilio drives them."""

from __future__ import annotations

import stat
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.app import create_app
from ivr.config import Config
from ivr.crypto.hashing import keyed_hash
from ivr.flows.loader import FlowInvalid, load_flow_file
from ivr.flows.versions import publish
from ivr.models.calls import JobState
from ivr.models.flows import FlowVersion
from ivr.models.reports import Anonymity, RecordingPart, Report, ReportSource, ReportStatus
from ivr.platform.db import Base, Database
from ivr.reports.intake import report_id_for_call
from ivr.services import services
from tests.conftest import PLANTED_NUMBER, Caller
from tests.webhooks.helpers import callback, row_counts, signed_post, state_in, twilio_params


def reports(db: Database) -> list[Report]:
    with db.transaction() as session:
        found = list(session.scalars(select(Report)))
        for report in found:
            _ = report.recordings
        return found


def test_an_english_report_is_created_with_the_callers_choices(
    caller: Caller, db: Database
) -> None:
    # Given a caller who reports misuse of position, staying anonymous
    log = caller.call("1,1,2,1,#,1")
    # Then they hear the whole journey and are thanked
    assert "Your report has been received" in log.text()
    (report,) = reports(db)
    assert (report.language, report.category, report.anonymity) == (
        "en-GB",
        "personal_advantage",
        Anonymity.ANONYMOUS,
    )
    assert report.source is ReportSource.MENU and report.status is ReportStatus.AWAITING_AUDIO
    assert report.received_on == datetime.now(UTC).date()
    (job,) = report.recordings
    assert (job.part, job.state, job.duration_seconds) == (
        RecordingPart.REPORT,
        JobState.PENDING,
        19,
    )
    assert job.recording_sid == log.recordings[0] and job.call_ended


def test_a_welsh_caller_hears_welsh_and_leaves_a_welsh_report(caller: Caller, db: Database) -> None:
    log = caller.call("9,1,5,1,#,1", audio="report-cy.wav")
    assert "Rydym wedi derbyn eich adroddiad" in log.text()
    assert all(language == "cy-GB" for language, _ in log.heard[3:])
    (report,) = reports(db)
    assert (report.language, report.category) == ("cy-GB", "discrimination")


def test_hanging_up_during_the_recording_still_makes_a_report(caller: Caller, db: Database) -> None:
    log = caller.call("1,1,1,1")  # keys run out while recording: the caller hangs up
    (report,) = reports(db)
    (job,) = report.recordings
    assert job.ended_by_hangup and job.recording_sid == log.recordings[0]


def test_contact_details_are_a_separate_recording(caller: Caller, db: Database) -> None:
    caller.call("1,1,4,2,#,1,#")
    (report,) = reports(db)
    assert report.anonymity is Anonymity.CONTACT and report.contact_left
    assert [job.part for job in report.recordings] == [RecordingPart.REPORT, RecordingPart.CONTACT]


def test_recording_again_replaces_the_earlier_take(caller: Caller, db: Database) -> None:
    caller.call("1,1,1,1,#,2,#,1")
    (report,) = reports(db)
    assert [(job.take, job.state) for job in report.recordings] == [
        (1, JobState.DISCARDED),
        (2, JobState.PENDING),
    ]


def test_adding_more_keeps_both_takes(caller: Caller, db: Database) -> None:
    caller.call("1,1,1,1,#,3,#,1")
    (report,) = reports(db)
    assert [job.state for job in report.recordings] == [JobState.PENDING, JobState.PENDING]


def recording_callbacks(call_sid: str) -> tuple[dict[str, str], dict[str, str]]:
    recording = {
        "RecordingSid": "RE" + "9" * 32,
        "RecordingDuration": "42",
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE9",
    }
    action = twilio_params(call_sid, Digits="#", **recording)
    status = {
        "AccountSid": action["AccountSid"],
        "CallSid": call_sid,
        "RecordingStatus": "completed",
        **recording,
    }
    return action, status


def walk_to_recording(client: FlaskClient, call_sid: str) -> str:
    """Follow a call to its report recording; return the TwiML that asks for it."""
    body = signed_post(client, "/twilio/voice", twilio_params(call_sid)).get_data()
    for key in ("1", "1", "6", "1"):  # English, report, "other", anonymous
        body = signed_post(client, callback(body), twilio_params(call_sid, Digits=key)).get_data()
    assert b"<Record" in body
    return body.decode()


@pytest.mark.parametrize("status_first", [False, True])
def test_duplicate_and_out_of_order_recording_callbacks_make_one_job(
    client: FlaskClient, db: Database, status_first: bool
) -> None:
    call_sid = "CA" + "7" * 32
    asked = walk_to_recording(client, call_sid)
    action, status = recording_callbacks(call_sid)
    posts = [
        (callback(asked, "Record", "recordingStatusCallback"), status),
        (callback(asked, "Record"), action),
    ]
    for path, params in (posts if status_first else posts[::-1]) * 2:
        assert signed_post(client, path, params).status_code in {200, 204}
    (report,) = reports(db)
    (job,) = report.recordings
    assert (report.category, job.duration_seconds) == ("other", 42)


def test_a_repeated_key_callback_gets_the_same_answer(client: FlaskClient, db: Database) -> None:
    # Given a caller at the welcome, who presses 1
    call_sid = "CA" + "6" * 32
    welcome = signed_post(client, "/twilio/voice", twilio_params(call_sid)).get_data()
    first = signed_post(client, callback(welcome), twilio_params(call_sid, Digits="1"))
    # When Twilio repeats that callback (it lost our answer)
    again = signed_post(client, callback(welcome), twilio_params(call_sid, Digits="1"))
    # Then it gets the very same answer, which waits at the main menu, not a step further on
    assert first.get_data() == again.get_data()
    assert state_in(callback(first.get_data()))["step"] == "main_menu"
    # And nothing was written for the menus
    assert row_counts(db)["reports"] == 0


def test_menus_need_no_database_and_recordings_wait_in_the_spool(
    client: FlaskClient, app: Flask, db: Database, config: Config
) -> None:
    # Given a caller who has reached the report recording
    call_sid = "CA" + "3" * 32
    asked = walk_to_recording(client, call_sid)
    # When the database loses every table (nothing can be read or written)
    Base.metadata.drop_all(db.engine)
    action, status = recording_callbacks(call_sid)
    # Then the recording is still acknowledged, and the caller goes on through the menus
    review = signed_post(client, callback(asked, "Record"), action).get_data(as_text=True)
    assert "To send your report, press 1" in review
    assert (
        signed_post(
            client, callback(asked, "Record", "recordingStatusCallback"), status
        ).status_code
        == 204
    )
    thanks = signed_post(client, callback(review), twilio_params(call_sid, Digits="1"))
    assert "Your report has been received" in thanks.get_data(as_text=True)
    signed_post(client, "/twilio/status", twilio_params(call_sid, CallStatus="completed"))
    # And what the database could not take waits on disk, readable only by the service
    spool = services(app).calls.journal.spool  # type: ignore[union-attr]
    assert spool.pending() and stat.S_IMODE(spool.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.spool_dir.stat().st_mode) == 0o700
    assert PLANTED_NUMBER not in spool.path.read_text()

    # When the database is back, the spool is replayed into it, and emptied
    Base.metadata.create_all(db.engine)
    journal = services(app).calls.journal  # type: ignore[union-attr]
    deadline = time.monotonic() + 30  # (this process's replayer thread may get there first)
    while spool.pending() and time.monotonic() < deadline:
        journal.replay_now()
        time.sleep(0.05)
    assert not spool.path.exists()
    # Then there is one report with the caller's choices, its recording's job, and the call's end
    (report,) = reports(db)
    (job,) = report.recordings
    assert (report.category, report.anonymity, job.duration_seconds, job.call_ended) == (
        "other",
        Anonymity.ANONYMOUS,
        42,
        True,
    )


def registered(db: Database) -> tuple[object, ...]:
    """Everything the database holds about the one report and its one job."""
    (report,) = reports(db)
    (job,) = report.recordings
    return (
        (report.id, report.source, report.status, report.language, report.category),
        report.anonymity,
        (job.recording_key, job.recording_sid, job.call_sid, job.part, job.take, job.state),
        (job.duration_seconds, job.ended_by_hangup, job.call_ended),
    )


@pytest.mark.parametrize("database", ["up", "down, then back"])
def test_a_recording_makes_the_same_job_written_at_once_or_replayed_from_the_spool(
    client: FlaskClient, app: Flask, db: Database, config: Config, database: str
) -> None:
    # Given a caller who has reached the report recording (and maybe a database outage)
    call_sid = "CA" + "8" * 32
    asked = walk_to_recording(client, call_sid)
    if database != "up":
        Base.metadata.drop_all(db.engine)
    # When Twilio sends the recording's two callbacks, each twice, and the call's end
    action, status = recording_callbacks(call_sid)
    posts = [
        (callback(asked, "Record"), action),
        (callback(asked, "Record", "recordingStatusCallback"), status),
    ] * 2
    for path, params in posts:
        assert signed_post(client, path, params).status_code in {200, 204}
    signed_post(client, "/twilio/status", twilio_params(call_sid, CallStatus="completed"))
    if database != "up":
        journal = services(app).calls.journal  # type: ignore[union-attr]
        assert journal.spool.waiting() == len(posts) + 1  # all of it waited on disk
        Base.metadata.create_all(db.engine)
        deadline = time.monotonic() + 30  # (this process's replayer thread may get there first)
        while journal.spool.pending() and time.monotonic() < deadline:
            journal.replay_now()
            time.sleep(0.05)
        assert not journal.spool.pending()
    # Then either way there is one report and one job, the same to the last column
    secret = config.secret_key
    expected = (
        (
            report_id_for_call(secret, call_sid),
            ReportSource.MENU,
            ReportStatus.AWAITING_AUDIO,
            "en-GB",
            "other",
        ),
        Anonymity.ANONYMOUS,
        (
            keyed_hash(secret, action["RecordingSid"]),
            action["RecordingSid"],
            call_sid,
            RecordingPart.REPORT,
            1,
            JobState.PENDING,
        ),
        (42, False, True),
    )
    assert registered(db) == expected
    # And the same callbacks once more, now that the database answers, change nothing
    for path, params in posts:
        assert signed_post(client, path, params).status_code in {200, 204}
    assert registered(db) == expected


def publish_file(db: Database, path: Path) -> None:
    publish(db, load_flow_file(path), "ops-one", "test change")


def test_a_call_stays_on_the_flow_version_it_started_on(
    client: FlaskClient, db: Database, flows_dir: Path
) -> None:
    # Given a call that started on the first version
    call_sid = "CA" + "5" * 32
    welcome = signed_post(client, "/twilio/voice", twilio_params(call_sid)).get_data()
    # When a new wording is published during the call
    flow_file = flows_dir / "hotline.yaml"
    flow_file.write_text(
        flow_file.read_text().replace(
            "To hear these options again", "NEW WORDING. To hear these options again"
        )
    )
    publish_file(db, flow_file)

    # Then the call in progress keeps the wording it started with
    in_progress = signed_post(client, callback(welcome), twilio_params(call_sid, Digits="1"))
    assert "NEW WORDING" not in in_progress.get_data(as_text=True)
    # And a new call hears the new one
    fresh = signed_post(client, "/twilio/voice", twilio_params("CA" + "4" * 32)).get_data()
    fresh_menu = signed_post(
        client, callback(fresh), twilio_params("CA" + "4" * 32, Digits="1")
    ).get_data(as_text=True)
    assert "NEW WORDING" in fresh_menu
    assert state_in(callback(fresh))["v"] != state_in(callback(welcome))["v"]
    with db.transaction() as session:
        assert len(session.scalars(select(FlowVersion)).all()) == 2


def test_an_invalid_flow_is_refused_and_the_published_flow_keeps_serving(
    client: FlaskClient, db: Database, flows_dir: Path
) -> None:
    signed_post(client, "/twilio/voice", twilio_params("CA" + "2" * 32))  # the file is published
    flow_file = flows_dir / "hotline.yaml"
    flow_file.write_text(flow_file.read_text().replace("next: main_menu", "next: main_men", 1))
    with pytest.raises(FlowInvalid) as refused:
        publish_file(db, flow_file)
    assert "refers to missing step 'main_men'" in str(refused.value)
    response = signed_post(client, "/twilio/voice", twilio_params("CA" + "3" * 32))
    assert "Anti-Corruption and Abuse Reporting Service" in response.get_data(as_text=True)


def test_the_fallback_url_still_takes_a_report(client: FlaskClient, db: Database) -> None:
    call_sid = "CA" + "2" * 32
    body = signed_post(client, "/twilio/fallback", twilio_params(call_sid)).get_data(as_text=True)
    assert "<Record" in body and "/twilio/fallback-recorded" in body and 'language="cy-GB"' in body
    action, _ = recording_callbacks(call_sid)
    thanks = signed_post(client, "/twilio/fallback-recorded", action).get_data(as_text=True)
    assert "<Hangup" in thanks
    (report,) = reports(db)
    assert report.source is ReportSource.FALLBACK


def test_a_failure_mid_call_leads_to_the_fallback_not_a_dead_line(
    client: FlaskClient, db: Database
) -> None:
    call_sid = "CA" + "1" * 32
    welcome = signed_post(client, "/twilio/voice", twilio_params(call_sid)).get_data(as_text=True)
    # The call is pinned to a version this database does not hold (restored from a backup)
    unknown = callback(welcome).replace(state_in(callback(welcome))["v"], "0" * 64)
    response = signed_post(client, unknown, twilio_params(call_sid, Digits="1"))
    assert response.status_code == 200
    assert "<Record" in response.get_data(as_text=True)


def test_a_callback_without_a_call_state_is_answered_with_the_fallback(
    client: FlaskClient,
) -> None:
    response = signed_post(
        client, "/twilio/gather?step=main_menu&n=3", twilio_params("CA" + "0" * 32, Digits="1")
    )
    assert "<Record" in response.get_data(as_text=True)


def test_a_recording_whose_callback_lost_its_state_is_still_kept(
    client: FlaskClient, db: Database
) -> None:
    # Given a recording callback to a URL from before call state travelled in URLs
    action, _ = recording_callbacks("CA" + "2" * 32)
    response = signed_post(client, "/twilio/recorded?step=record_report&n=5&part=report", action)
    # Then the caller is not left on a dead line, and what they said is kept
    assert "<Record" in response.get_data(as_text=True)
    (report,) = reports(db)
    assert report.recordings[0].duration_seconds == 42 and report.category is None


def test_no_callback_url_identifies_the_caller(client: FlaskClient) -> None:
    call_sid = "CA" + "9" * 32
    asked = walk_to_recording(client, call_sid)
    # Where the call is in its flow, and the menu choices: nothing else
    allowed = {"v", "step", "lang", "retries", "part", "language", "category", "anonymity", "take"}
    for url in (callback(asked, "Record"), callback(asked, "Record", "recordingStatusCallback")):
        assert set(state_in(url)) <= allowed
        assert call_sid not in url and PLANTED_NUMBER.removeprefix("+") not in url


@pytest.mark.parametrize(
    ("status_said", "duration"),
    [
        ("absent", "0"),  # nothing was said
        # Twilio could not make or decrypt the recording, whatever length it names: there
        # is no audio to fetch, so nothing waits on a 404 while the call log stays there
        ("failed", "12"),
    ],
)
def test_a_recording_twilio_says_holds_no_audio_is_marked_as_having_none(
    client: FlaskClient, db: Database, status_said: str, duration: str
) -> None:
    call_sid = "CA" + "8" * 32
    asked = walk_to_recording(client, call_sid)
    _, status = recording_callbacks(call_sid)
    signed_post(
        client,
        callback(asked, "Record", "recordingStatusCallback"),
        {**status, "RecordingStatus": status_said, "RecordingDuration": duration},
    )
    (report,) = reports(db)
    assert report.recordings[0].duration_seconds == 0


def test_healthz_reports_the_database(client: FlaskClient, config: Config) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    unreachable = Database.from_url(
        "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1"
    )
    down = create_app(config, db=unreachable).test_client().get("/healthz")
    assert (down.status_code, down.get_json()) == (503, {"status": "database unreachable"})
