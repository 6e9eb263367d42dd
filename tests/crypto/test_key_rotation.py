"""Rotating the recordings key pair: every recording, old or new, still plays."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from ivr.cli import main
from ivr.config import Config
from ivr.crypto import vault
from ivr.crypto.keys import PRIVATE_KEY_FILE, RETIRED_DIR, LocalKeyUnwrapper
from ivr.models.reports import AudioObject
from ivr.outside.storage import ObjectStore
from ivr.platform.db import Database
from ivr.services import Services, object_store
from ivr.worker.runner import build_worker
from tests.conftest import EmulatorCaller
from tests.worker.conftest import decrypted, settle


def rotate(keys: Path) -> str:
    """Run `ivr keys rotate` as an operator does on the console side."""
    result = CliRunner().invoke(
        main,
        ["keys", "rotate"],
        env={"IVR_TIER": "console", "IVR_CONSOLE_SECRET_KEY": "c" * 32, "IVR_KEYS_DIR": str(keys)},
    )
    assert result.exit_code == 0, result.output
    return result.output


def stored_for(config: Config, db: Database) -> list[tuple[AudioObject, bytes]]:
    store = object_store(config)
    with db.reading() as session:
        rows = list(session.scalars(select(AudioObject).order_by(AudioObject.id)))
    return [(row, vault.sealed_for(store, row.object_name)) for row in rows]


def opens(db: Database, store: ObjectStore, unwrapper: LocalKeyUnwrapper, row: AudioObject) -> bool:
    with db.reading() as session:
        try:
            return bool(vault.open(session, store, unwrapper, row).whole())
        except vault.Unopenable:
            return False


def test_after_a_rotation_recordings_sealed_for_either_key_play(
    ingest_config: Config, db: Database, emulator_caller: EmulatorCaller, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    shutil.copytree(ingest_config.keys_dir, keys)
    config = dataclasses.replace(ingest_config, keys_dir=keys)
    # Given a report stored for the first key
    emulator_caller.call("9,1,2,1,#,1")
    settle(build_worker(Services(config, db=db)), db)
    # When the console rotates the key pair, and the edge takes the new public half
    said = rotate(keys)
    assert "Retired key" in said and "give the edge this public half" in said
    emulator_caller.call("9,1,2,1,#,1")
    settle(build_worker(Services(config, db=db)), db)
    # Then the console plays both; one is sealed for the new key, the other opens only
    # with the retired private half the rotation kept
    rows = [row for row, _ in stored_for(config, db)]
    store = object_store(config)
    assert len(rows) == 2 and all(decrypted(config, store, row) for row in rows)
    current_only = LocalKeyUnwrapper((keys / PRIVATE_KEY_FILE).read_bytes())
    assert [opens(db, store, current_only, row) for row in rows].count(True) == 1
    # The retired private half is kept apart, named as the command said, for its owner only
    (retired,) = (keys / RETIRED_DIR).glob("*-private.pem")
    assert f"Retired key {retired.name.removesuffix('-private.pem')}" in said
    assert retired.stat().st_mode & 0o777 == 0o600


def test_the_edge_cannot_rotate_and_kms_rotates_itself(tmp_path: Path) -> None:
    edge = CliRunner().invoke(
        main,
        ["keys", "rotate"],
        env={"IVR_TIER": "edge", "IVR_SECRET_KEY": "s" * 32, "IVR_TWILIO_AUTH_TOKEN": "t" * 32},
    )
    assert edge.exit_code == 1 and "never makes or holds a private key" in edge.output
    kms = CliRunner().invoke(
        main,
        ["keys", "rotate"],
        env={
            "IVR_TIER": "console",
            "IVR_CONSOLE_SECRET_KEY": "c" * 32,
            "IVR_KEY_SERVICE": "kms",
            "IVR_KMS_KEY_ID": "alias/recordings",
        },
    )
    assert kms.exit_code == 1 and "rotated by KMS itself" in kms.output
