"""The vault opens what it sealed, by range too, and refuses an object altered or moved."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.config import Config
from ivr.crypto import envelope, vault
from ivr.crypto.keys import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    LocalKeyUnwrapper,
    LocalKeyWrapper,
    ensure_local_key_pair,
)
from ivr.models.online import OnlineObject, OnlinePart
from ivr.outside.storage import LocalStore
from ivr.platform.db import Database
from ivr.reports import online

ROOT = Path(__file__).resolve().parents[2]
WORDS = "PC Example took cash at the station " * 40  # many chunks of CHUNK bytes
CHUNK = 64


def _keys(folder: Path) -> tuple[LocalKeyWrapper, LocalKeyUnwrapper]:
    return (
        LocalKeyWrapper((folder / PUBLIC_KEY_FILE).read_bytes()),
        LocalKeyUnwrapper((folder / PRIVATE_KEY_FILE).read_bytes()),
    )


def _send(db: Database, store: LocalStore, wrapper: LocalKeyWrapper, contact: str = "") -> None:
    submission = online.OnlineSubmission(
        language="en-GB", category=None, answers={"what": WORDS}, contact=contact
    )
    online.receive(db, store, wrapper, submission, chunk_size=CHUNK)


def _part(db: Database, part: OnlinePart) -> OnlineObject:
    with db.transaction() as session:
        found = session.scalars(select(OnlineObject).where(OnlineObject.part == part)).one()
        session.expunge(found)
    return found


def test_what_is_sealed_opens_whole_and_by_any_range(config: Config, db: Database) -> None:
    # Given an online report's words sealed in many small chunks
    store = LocalStore(Path(config.storage_url))
    wrapper, unwrapper = _keys(config.keys_dir)
    _send(db, store, wrapper)
    # When the console opens them
    with db.transaction() as session:
        item = session.scalars(select(OnlineObject)).one()
        opened = vault.open(session, store, unwrapper, item)
    whole = opened.whole()
    # Then they read back whole, and any byte range reads exactly those bytes
    assert online.read_text(whole)["what"] == WORDS.strip()
    assert opened.size == len(whole)
    for start, end in [(0, 1), (0, CHUNK), (CHUNK - 1, CHUNK + 1), (100, 700), (5, len(whole))]:
        assert b"".join(opened.read(start, end)) == whole[start:end]
    assert b"".join(opened.read(len(whole) - 3)) == whole[-3:]


def test_an_altered_object_is_refused_whole_and_by_range(config: Config, db: Database) -> None:
    store = LocalStore(Path(config.storage_url))
    wrapper, unwrapper = _keys(config.keys_dir)
    _send(db, store, wrapper)
    item = _part(db, OnlinePart.TEXT)
    # Given one byte of one of the stored object's chunks changed
    path = store.root / item.object_name[:2] / item.object_name
    data = bytearray(path.read_bytes())
    index = 3
    data[envelope.HEADER.size + index * (CHUNK + envelope.TAG_SIZE) + 5] ^= 1
    path.chmod(0o600)
    path.write_bytes(bytes(data))
    with db.transaction() as session:
        opened = vault.open(session, store, unwrapper, item)
    # Then neither the whole object nor a range in that chunk is given out
    with pytest.raises(vault.Unopenable):
        opened.whole()
    with pytest.raises(vault.Unopenable):
        b"".join(opened.read(index * CHUNK, index * CHUNK + 1))
    # But a range in an untouched chunk still plays: each chunk is sealed on its own
    assert b"".join(opened.read(0, CHUNK)).startswith(b"{")


def test_a_key_moved_onto_another_object_does_not_open_it(config: Config, db: Database) -> None:
    store = LocalStore(Path(config.storage_url))
    wrapper, unwrapper = _keys(config.keys_dir)
    _send(db, store, wrapper, contact="call after six")
    # Given a database writer who copies the words' sealed key onto the contact details
    with db.transaction() as session:
        text, contact = (
            session.scalars(select(OnlineObject).where(OnlineObject.part == part)).one()
            for part in (OnlinePart.TEXT, OnlinePart.CONTACT)
        )
        contact.wrapped_key = text.wrapped_key
    # Then the contact details do not open, with the words' key or any other
    with db.transaction() as session:
        moved = session.scalars(
            select(OnlineObject).where(OnlineObject.part == OnlinePart.CONTACT)
        ).one()
        with pytest.raises(vault.Unopenable):
            vault.open(session, store, unwrapper, moved)


def test_an_object_sealed_for_another_key_pair_is_refused(
    config: Config, db: Database, tmp_path: Path
) -> None:
    # Given an online report sealed for a key pair that is not the console's
    store = LocalStore(Path(config.storage_url))
    ensure_local_key_pair(tmp_path / "other")
    other, _ = _keys(tmp_path / "other")
    _, unwrapper = _keys(config.keys_dir)
    _send(db, store, other)
    item = _part(db, OnlinePart.TEXT)
    # Then its header names the other key, and the console's key does not open it
    assert vault.sealed_for(store, item.object_name) == other.fingerprint()
    with db.transaction() as session, pytest.raises(vault.Unopenable):
        vault.open(session, store, unwrapper, item)


def test_a_stored_name_is_never_written_over(config: Config) -> None:
    store = LocalStore(Path(config.storage_url))
    wrapper, _ = _keys(config.keys_dir)
    name = os.urandom(16).hex()
    vault.seal(store, wrapper, name=name, report_id="r", part="text", plaintext=[b"first"])
    with pytest.raises(FileExistsError):
        vault.seal(store, wrapper, name=name, report_id="r", part="text", plaintext=[b"again"])


def test_a_check_that_fails_after_the_last_chunk_keeps_nothing(config: Config) -> None:
    store = LocalStore(Path(config.storage_url))
    wrapper, _ = _keys(config.keys_dir)
    name = os.urandom(16).hex()

    def lease_lost() -> None:
        raise RuntimeError("the lease was taken")

    with pytest.raises(RuntimeError):
        vault.seal(
            store,
            wrapper,
            name=name,
            report_id="r",
            part="recording",
            plaintext=[b"audio"],
            last_check=lease_lost,
        )
    with pytest.raises(FileNotFoundError):
        store.size(name)


# Only the vault seals or opens: anything else would be a second way to do it.
SEALING = re.compile(
    r"envelope\.(encrypt|decrypt|decrypt_chunk)\(|\.unwrap\(|\bunwrap\(|"
    r"from ivr\.crypto\.envelope import[^\n]*\b(encrypt|decrypt|decrypt_chunk)\b"
)
# The envelope and key services define these; the doctor proves the key service works
# (and that the edge cannot decrypt), opening no stored object.
ALLOWED = {
    "ivr/crypto/vault.py",
    "ivr/crypto/envelope.py",
    "ivr/crypto/keys.py",
    "ivr/ops/doctor.py",
}


def test_no_module_but_the_vault_encrypts_decrypts_or_unwraps() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "ivr").rglob("*.py"))
        if str(path.relative_to(ROOT)) not in ALLOWED
        and not str(path.relative_to(ROOT)).endswith("ops/doctor.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if SEALING.search(line) and not line.lstrip().startswith("def ")
    ]
    assert found == []


def test_the_check_for_a_second_way_finds_one() -> None:
    assert SEALING.search("    return envelope.decrypt(key, store.read(name))")
    assert SEALING.search("key = services().key_unwrapper.unwrap(wrapped, context)")
    assert SEALING.search("from ivr.crypto.envelope import HEADER, decrypt")
    assert not SEALING.search("from ivr.crypto.envelope import HEADER, TAG_SIZE")
