"""The spool: what the database could not take waits on disk, in order, until it can."""

from __future__ import annotations

import json
import multiprocessing
import stat
from pathlib import Path

from sqlalchemy import select

from ivr.crypto.hashing import keyed_hash
from ivr.models.calls import RecordingJob
from ivr.models.reports import Anonymity, RecordingPart, ReportSource
from ivr.platform.db import Database
from ivr.reports.intake import Recording
from ivr.telephony.journal import Journal
from ivr.telephony.spool import Entry, Spool, StopReplay
from tests.webhooks.helpers import row_counts


def test_entries_come_back_in_order_and_leave_once_applied(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    for n in range(3):
        spool.append({"kind": "test", "n": n})
    assert stat.S_IMODE(spool.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(spool.folder.stat().st_mode) == 0o700

    seen: list[Entry] = []
    assert spool.replay(seen.append) == 3
    assert [entry["n"] for entry in seen] == [0, 1, 2]
    assert not spool.pending() and not spool.path.exists()


def test_replay_stops_where_the_database_went_away_and_resumes_there(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    for n in range(4):
        spool.append({"kind": "test", "n": n})

    def fails_at_two(entry: Entry) -> None:
        if entry["n"] == 2:
            raise StopReplay()

    assert spool.replay(fails_at_two) == 2
    seen: list[Entry] = []
    spool.replay(seen.append)
    assert [entry["n"] for entry in seen] == [2, 3]


def test_a_line_torn_by_a_crash_does_not_swallow_the_next_one(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.append({"kind": "test", "n": 1})
    with spool.path.open("ab") as file:  # the process died halfway through an append
        file.write(b'{"id":"x","kind":"te')
    spool.append({"kind": "test", "n": 2})
    seen: list[Entry] = []
    spool.replay(seen.append)
    assert [entry["n"] for entry in seen] == [1, 2]


def _append_many(folder: Path, writer: int) -> None:
    spool = Spool(folder)
    for n in range(50):
        spool.append({"kind": "test", "writer": writer, "n": n})


def test_processes_appending_while_another_replays_lose_nothing(tmp_path: Path) -> None:
    # Given four processes appending at once, while this one replays again and again
    folder = tmp_path / "spool"
    writers = [
        multiprocessing.get_context("fork").Process(target=_append_many, args=(folder, w))
        for w in range(4)
    ]
    for process in writers:
        process.start()
    spool = Spool(folder)
    seen: list[Entry] = []
    while any(process.is_alive() for process in writers):
        spool.replay(seen.append)
    for process in writers:
        process.join()
    spool.replay(seen.append)
    # Then every entry was replayed exactly once, each writer's in its own order
    assert len(seen) == 200
    for w in range(4):
        assert [entry["n"] for entry in seen if entry["writer"] == w] == list(range(50))


def test_replaying_the_same_recording_twice_changes_nothing(db: Database, tmp_path: Path) -> None:
    journal = Journal(db, b"k" * 32, Spool(tmp_path / "spool"))
    recording = Recording(
        recording_sid="RE" + "1" * 32,
        call_sid="CA" + "1" * 32,
        part=RecordingPart.REPORT,
        source=ReportSource.MENU,
        duration_seconds=12,
        language="en-GB",
        choices={"category": "other"},
    )
    journal.recording(recording)
    # (a line replayed again after a crash between its commit and its removal)
    journal.recording(recording)
    journal.call_ended(recording.call_sid)
    journal.call_ended(recording.call_sid)
    counts = row_counts(db)
    assert (counts["reports"], counts["recording_jobs"]) == (1, 1)


def test_a_recording_comes_back_from_its_spool_entry_as_it_went_in() -> None:
    recording = Recording(
        recording_sid="RE" + "2" * 32,
        call_sid="CA" + "2" * 32,
        part=RecordingPart.CONTACT,
        source=ReportSource.FALLBACK,
        duration_seconds=7,
        ended_by_hangup=True,
        language="cy-GB",
        choices={"category": "other", "take": "replace"},
        followup="0b4e6a52-53e1-4d5c-9a6f-2a5d0f2c8f11",
    )
    # (through JSON, as the spool file holds it)
    assert Recording.from_entry(json.loads(json.dumps(recording.to_entry()))) == recording


# Written by the release before the journal: the recording's fields, with the report
# id under "group". A spool written before a deploy is replayed after it.
OLD_ENTRIES = (
    '{"id":"5f0c2a9e1b7d4c36","kind":"recording","group":"58f5498c-5900-e2fa-d63e-f6b2b5997995",'
    '"recording_sid":"RE11111111111111111111111111111111",'
    '"call_sid":"CA11111111111111111111111111111111","part":"report","source":"menu",'
    '"duration_seconds":12,"ended_by_hangup":false,"absent":false,"language":"en-GB",'
    '"choices":{"category":"other","anonymity":"anonymous"},"followup":null}\n'
    '{"id":"9a3e7c1d5b2f8e40","kind":"ended","call_sid":"CA11111111111111111111111111111111"}\n'
)


def test_a_spool_written_by_the_previous_release_is_still_replayed(
    db: Database, tmp_path: Path
) -> None:
    # Given a spool the previous release left behind (the database was down at the deploy)
    spool = Spool(tmp_path / "spool")
    spool.folder.mkdir(mode=0o700)
    spool.path.write_text(OLD_ENTRIES)
    # When this release replays it
    assert Journal(db, b"k" * 32, spool).replay_now() == 2
    # Then the recording made its report (the one its "group" names) and job, with its
    # choices, and the call's end reached the job
    assert not spool.pending()
    with db.transaction() as session:
        (job,) = session.scalars(select(RecordingJob))
        report = job.report
        assert (report.id, report.category, report.anonymity, report.language) == (
            "58f5498c-5900-e2fa-d63e-f6b2b5997995",
            "other",
            Anonymity.ANONYMOUS,
            "en-GB",
        )
        assert (job.part, job.duration_seconds, job.call_ended) == (RecordingPart.REPORT, 12, True)
        assert job.recording_key == keyed_hash(b"k" * 32, "RE" + "1" * 32)
