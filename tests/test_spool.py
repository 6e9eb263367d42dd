"""The spool: what the database could not take waits on disk, in order, until it can."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

from ivr.casework.intake import Recording
from ivr.db import Database
from ivr.journal import Journal
from ivr.models import RecordingPart, ReportSource
from ivr.spool import Entry, Spool, StopReplay
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
