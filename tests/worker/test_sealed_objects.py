"""A recording the phone left and a report sent online open through the one vault."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ivr.config import Config
from ivr.crypto import vault
from ivr.crypto.keys import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, LocalKeyUnwrapper, LocalKeyWrapper
from ivr.models.online import OnlineObject
from ivr.models.reports import AudioObject
from ivr.outside.storage import LocalStore
from ivr.platform.db import Database
from ivr.reports import online
from ivr.worker.runner import Worker
from tests.conftest import EmulatorCaller
from tests.worker.conftest import settle


def test_a_recording_and_an_online_report_open_through_the_same_function(
    emulator_caller: EmulatorCaller, worker: Worker, db: Database, ingest_config: Config
) -> None:
    store = LocalStore(Path(ingest_config.storage_url))
    unwrapper = LocalKeyUnwrapper((ingest_config.keys_dir / PRIVATE_KEY_FILE).read_bytes())
    # Given a call whose recording the worker sealed, and a report the online form sealed
    emulator_caller.call("1,1,1,1,#,1")
    settle(worker, db)
    online.receive(
        db,
        store,
        LocalKeyWrapper((ingest_config.keys_dir / PUBLIC_KEY_FILE).read_bytes()),
        online.OnlineSubmission(language="en-GB", category=None, answers={"what": "cash"}),
    )
    # When the console opens each of them
    with db.transaction() as session:
        recording = session.scalars(select(AudioObject)).one()
        words = session.scalars(select(OnlineObject)).one()
        heard = vault.open(session, store, unwrapper, recording)
        read = vault.open(session, store, unwrapper, words)
    # Then the one vault gives the audio back, whole or from any byte, and the words
    audio = heard.whole()
    assert audio[:4] == b"RIFF" and heard.size == len(audio)
    assert b"".join(heard.read(1000, 1010)) == audio[1000:1010]
    assert online.read_text(read.whole())["what"] == "cash"
