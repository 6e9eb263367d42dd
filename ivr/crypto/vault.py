"""The vault: seal an object into the store, and open it again; nothing else does either.

Sealing makes a fresh data key with the key service, bound to the object's name, report
and part (``keys.object_context``), streams the plaintext through the envelope into the
store under the object's random name (as a new object only: the store refuses to write
over one), and then, in the transaction that keeps the object's row, seals the wrapped key
again under its day's key (``day_keys``). The edge can seal; it can never open.

Opening reads the row's sealed key with its day's key in one statement, unwraps it (the
console only: it needs the key unwrapper) and decrypts as the store streams, either the
whole object or only the chunks that hold a byte range. Whatever keeps an object from
opening (a key that does not fit it, a destroyed day key, an altered or truncated object)
is one refusal, :class:`Unopenable`; a missing object stays ``FileNotFoundError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from sqlalchemy.orm import Session

from ivr.crypto import day_keys, envelope
from ivr.crypto.keys import KeyServiceError, KeyUnwrapper, KeyWrapper, object_context
from ivr.outside.storage import ObjectStore
from ivr.platform.db import SealedObject


class Unopenable(Exception):
    """The object does not open: altered, moved to another row, or its key destroyed."""


@dataclass(frozen=True)
class Sealed:
    """An object now in the store, and the wrapped key its row is still to keep."""

    name: str
    size: int
    sha256: str
    key_ref: str
    chunk_size: int
    wrapped: bytes = field(repr=False)  # by the key service, not yet under the day key
    context: dict[str, str] = field(repr=False)

    def keep(self, session: Session, day: date, row: SealedObject) -> None:
        """Describe the object on ``row``, its key sealed under ``day``'s key."""
        row.object_name, row.size, row.sha256 = self.name, self.size, self.sha256
        row.key_ref, row.chunk_size = self.key_ref, self.chunk_size
        # Retention destroys the day's key, and every copy of this one with it.
        row.wrapped_key = day_keys.seal_for_day(session, day, self.wrapped, self.context)


def seal(
    store: ObjectStore,
    keys: KeyWrapper,
    *,
    name: str,
    report_id: str,
    part: str,
    plaintext: Iterable[bytes],
    chunk_size: int = envelope.DEFAULT_CHUNK,
    last_check: Callable[[], None] | None = None,
) -> Sealed:
    """Encrypt ``plaintext`` with a fresh data key, streaming it into the store as ``name``.

    ``part`` is the one the data key is bound to (a row's ``key_part``). ``last_check``
    runs once every chunk is written and before the store keeps the object: raising there
    stops the write taking effect. FileExistsError: an object of that name is stored.
    """
    context = object_context(name, report_id, part)
    data_key = keys.generate(context)
    ciphertext = envelope.encrypt(
        data_key.plaintext, plaintext, chunk_size, fingerprint=data_key.fingerprint
    )
    stored = store.put(name, ciphertext if last_check is None else _then(ciphertext, last_check))
    return Sealed(
        name, stored.size, stored.sha256, data_key.key_ref, chunk_size, data_key.wrapped, context
    )


def sealed_for(store: ObjectStore, name: str) -> bytes:
    """Return the fingerprint of the key a stored object was sealed for, from its header."""
    try:
        return envelope.key_fingerprint(b"".join(store.read(name, 0, envelope.HEADER.size)))
    except envelope.TamperedCiphertext as error:
        raise Unopenable(str(error)) from None


def open(
    session: Session, store: ObjectStore, unwrapper: KeyUnwrapper, row: SealedObject
) -> Opened:
    """Unwrap the key of ``row``'s object, to read it (console side only)."""
    # Read with its day key in one statement: a purge replacing that key seals it again.
    stored = day_keys.stored_key(session, row.id, type(row))
    # Bound into the wrapped key: a row moved to another report or part will not open.
    context = object_context(row.object_name, row.report_id, row.key_part)
    try:
        key = unwrapper.unwrap(stored.wrapped(context), context)
    except KeyServiceError as error:
        raise Unopenable(str(error)) from None
    return Opened(store, row.object_name, key, row.chunk_size)


class Opened:
    """A stored object whose key is unwrapped: decrypted only as it is read."""

    def __init__(self, store: ObjectStore, name: str, key: bytes, chunk_size: int) -> None:
        self._store = store
        self._name = name
        self._key = key
        self._chunk_size = chunk_size

    @cached_property
    def _object_size(self) -> int:
        return self._store.size(self._name)

    @property
    def size(self) -> int:
        """Return the size of the plaintext, read from the stored object's size."""
        return envelope.plaintext_size(self._object_size, self._chunk_size)

    def read(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield plaintext bytes ``start`` to ``end`` (exclusive), refusing any alteration.

        Chunks are fixed-size, so a range maps to the few chunks that hold it: seeking in
        an hour-long recording decrypts 64 KiB, not the hour.
        """
        try:
            if start == 0 and end is None:
                yield from envelope.decrypt(self._key, self._store.read(self._name))
            else:
                yield from self._range(start, self.size if end is None else end)
        except envelope.TamperedCiphertext as error:
            raise Unopenable(str(error)) from None

    def whole(self) -> bytes:
        """Return the whole plaintext (a small object: an online report's part)."""
        return b"".join(self.read())

    def _range(self, start: int, end: int) -> Iterator[bytes]:
        if start >= end:
            return
        header = b"".join(self._store.read(self._name, 0, envelope.HEADER.size))
        sealed = self._chunk_size + envelope.TAG_SIZE
        object_size = self._object_size
        last_index = (object_size - envelope.HEADER.size - 1) // sealed
        for index in range(start // self._chunk_size, (end - 1) // self._chunk_size + 1):
            offset = envelope.HEADER.size + index * sealed
            piece = b"".join(
                self._store.read(self._name, offset, min(offset + sealed, object_size))
            )
            plain = envelope.decrypt_chunk(self._key, header, index, index == last_index, piece)
            low = max(start - index * self._chunk_size, 0)
            high = min(end - index * self._chunk_size, len(plain))
            yield plain[low:high]


def _then(chunks: Iterator[bytes], check: Callable[[], None]) -> Iterator[bytes]:
    yield from chunks
    check()
