"""Day keys: seal each wrapped data key again, under a random key of its report's day.

The key service's wrapped key (RSA-OAEP or KMS) is stored as::

    sealed = VERSION (1) | nonce (12) | AES-256-GCM(day key, wrapped key, aad = context + day)

Deleting an ``audio_objects`` row does not make its wrapped key unrecoverable: PostgreSQL
keeps the dead row until a vacuum, and its pages, WAL, replicas and backups keep it
longer. So retention also *replaces* the day key of every recording it destroys, sealing
the survivors of that day again under a fresh key, and deletes the key once nothing of
its day is left. The one table whose rows must vanish is then tiny, and is rewritten
whole after each purge (``VACUUM FULL`` on PostgreSQL; SQLite zeroes deleted content and
truncates its WAL). Every copy of a destroyed wrapped key, wherever it lingers, is sealed
under a key that no longer exists.

Sealing adds a layer and removes none: the edge makes and uses day keys, and still
cannot decrypt a recording, which needs the console's private key (or ``kms:Decrypt``)
as well.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ivr.crypto.keys import KeyServiceError, object_context
from ivr.models.keys import DayKey
from ivr.models.online import OnlineObject
from ivr.models.reports import AudioObject, Report
from ivr.platform.db import Database, SealedObject
from ivr.platform.logs import event

logger = logging.getLogger(__name__)

VERSION = b"\x01"
NONCE_SIZE = 12


def _aad(context: Mapping[str, str], day: date) -> bytes:
    bound = {**context, "day": day.isoformat()}
    return json.dumps(bound, sort_keys=True, separators=(",", ":")).encode()


def seal(day_key: bytes, wrapped: bytes, context: Mapping[str, str], day: date) -> bytes:
    """Seal a wrapped data key under a day key, bound to its object and day."""
    nonce = os.urandom(NONCE_SIZE)
    return VERSION + nonce + AESGCM(day_key).encrypt(nonce, wrapped, _aad(context, day))


def open_sealed(day_key: bytes, sealed: bytes, context: Mapping[str, str], day: date) -> bytes:
    """Return the wrapped data key inside ``sealed``, or raise KeyServiceError."""
    if sealed[:1] != VERSION or len(sealed) < 1 + NONCE_SIZE + 16:
        raise KeyServiceError("the stored key is not sealed under a day key")
    nonce, body = sealed[1 : 1 + NONCE_SIZE], sealed[1 + NONCE_SIZE :]
    try:
        return AESGCM(day_key).decrypt(nonce, body, _aad(context, day))
    except InvalidTag:
        raise KeyServiceError("the stored key does not open under its day key") from None


def seal_for_day(session: Session, day: date, wrapped: bytes, context: Mapping[str, str]) -> bytes:
    """Seal under the day's key, made now if it is the day's first recording.

    The key is read FOR SHARE, so a purge replacing it waits until this row is written,
    and then seals it again with the rest of its day.
    """
    insert = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )(DayKey)
    for _ in range(3):  # a purge may delete the day's key between these two statements
        session.execute(
            insert.values(day=day, key=os.urandom(32), stale=False).on_conflict_do_nothing()
        )
        found = session.scalars(
            select(DayKey.key).where(DayKey.day == day).with_for_update(read=True)
        ).first()
        if found is not None:
            return seal(found, wrapped, context, day)
    raise KeyServiceError("no key could be made for the day")


@dataclass(frozen=True)
class StoredKey:
    """An object's sealed key and its day's key, read together in one statement."""

    sealed: bytes
    day: date
    day_key: bytes | None  # None: the day key was destroyed, the recording with it

    def wrapped(self, context: Mapping[str, str]) -> bytes:
        """Return the key service's wrapped key, for the console to unwrap."""
        if self.day_key is None:
            raise KeyServiceError("the key of this recording's day was destroyed")
        return open_sealed(self.day_key, self.sealed, context, self.day)


def stored_key(
    session: Session, object_id: str, table: type[SealedObject] = AudioObject
) -> StoredKey:
    """Read an object's sealed key with its day key (consistent with any replacement)."""
    row = session.execute(
        select(table.wrapped_key, Report.received_on, DayKey.key)
        .join(Report, Report.id == table.report_id)
        .outerjoin(DayKey, DayKey.day == Report.received_on)
        .where(table.id == object_id)
    ).one()
    return StoredKey(row[0], row[1], row[2])


def forget(session: Session, day: date) -> None:
    """A recording of ``day`` was deleted: its key is replaced at the next purge."""
    session.execute(update(DayKey).where(DayKey.day == day).values(stale=True))


def shred_stale(session: Session) -> int:
    """Replace every stale day key, sealing its day's survivors again; return how many.

    A day with no recording left loses its key outright.
    """
    days = list(session.scalars(select(DayKey.day).where(DayKey.stale).order_by(DayKey.day)))
    for day in days:
        row = session.scalars(select(DayKey).where(DayKey.day == day).with_for_update()).one()
        survivors: list[SealedObject] = [
            *session.scalars(
                select(AudioObject)
                .join(Report, Report.id == AudioObject.report_id)
                .where(Report.received_on == day)
            ),
            # An online report's parts are sealed under the same day key as audio.
            *session.scalars(
                select(OnlineObject)
                .join(Report, Report.id == OnlineObject.report_id)
                .where(Report.received_on == day)
            ),
        ]
        if not survivors:
            session.delete(row)
            continue
        fresh = os.urandom(32)
        for item in survivors:
            context = object_context(item.object_name, item.report_id, item.key_part)
            try:
                inner = open_sealed(row.key, item.wrapped_key, context, day)
            except KeyServiceError:
                continue  # already unreadable: it stays so
            item.wrapped_key = seal(fresh, inner, context, day)
        row.key, row.stale = fresh, False
    return len(days)


def compact(db: Database) -> None:
    """Rewrite the day keys' table, so a replaced key leaves no dead row (PostgreSQL)."""
    if db.engine.dialect.name != "postgresql":
        return  # SQLite zeroes deleted content itself (secure_delete), and db.scrub()
    try:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM FULL day_keys")
    except DBAPIError as error:
        # The purge itself is done; the old key lingers in a dead row until autovacuum.
        event(logger, "retention.compact_failed", logging.WARNING, error=type(error).__name__)
