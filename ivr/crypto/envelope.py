"""Streaming envelope encryption: AES-256-GCM over fixed-size, authenticated chunks.

Layout of an encrypted object::

    header  = MAGIC (6) | chunk size (4, big-endian) | nonce prefix (7)
              | wrapping key's fingerprint (8)
    chunk i = AES-GCM(key, nonce = prefix | i (4) | last (1), data, aad = header)

Every chunk but the last holds exactly ``chunk size`` bytes of audio, so the object's
layout is known from its size and any byte range can be decrypted on its own (the
console seeks in audio this way). The nonce carries the chunk's position and whether it
is the last one: a reordered chunk fails authentication, and so does a stream cut short
(its new last chunk was not sealed as last). The data key is wrapped separately by the
key service; this module never sees a key file. The header names the wrapping key by
its fingerprint (authenticated with every chunk), so anyone holding only the object can
tell which key it needs, and the edge can check that it sealed for the console's key.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ivr.platform.chunks import rechunk

MAGIC = b"IVRAE2"
FINGERPRINT_SIZE = 8
HEADER = struct.Struct(f">6sI7s{FINGERPRINT_SIZE}s")
TAG_SIZE = 16
DEFAULT_CHUNK = 64 * 1024
MAX_CHUNKS = 2**32 - 1


class TamperedCiphertext(ValueError):
    """The object was altered, reordered, truncated, or is not ours."""


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index > MAX_CHUNKS:
        raise ValueError("object too large for one envelope")
    return prefix + struct.pack(">IB", index, 1 if last else 0)


def encrypt(
    data_key: bytes,
    plaintext: Iterable[bytes],
    chunk_size: int = DEFAULT_CHUNK,
    *,
    fingerprint: bytes,
) -> Iterator[bytes]:
    """Yield the encrypted object, header first, one sealed chunk at a time.

    ``fingerprint`` names the key that wraps ``data_key`` (see ``ivr.crypto.keys``).
    """
    if len(fingerprint) != FINGERPRINT_SIZE:
        raise ValueError(f"a key fingerprint has {FINGERPRINT_SIZE} bytes")
    aead = AESGCM(data_key)
    prefix = os.urandom(7)
    header = HEADER.pack(MAGIC, chunk_size, prefix, fingerprint)
    yield header
    # The last chunk may be short or empty: it is always there, sealed as the last.
    chunks = rechunk(plaintext, chunk_size)
    current = next(chunks)
    index = 0
    for following in chunks:
        yield aead.encrypt(_nonce(prefix, index, False), current, header)
        current, index = following, index + 1
    yield aead.encrypt(_nonce(prefix, index, True), current, header)


def ciphertext_size(plaintext_size: int, chunk_size: int = DEFAULT_CHUNK) -> int:
    """Return the size of the object that encrypting ``plaintext_size`` bytes makes."""
    chunks = plaintext_size // chunk_size + 1
    return HEADER.size + plaintext_size + chunks * TAG_SIZE


def plaintext_size(object_size: int, chunk_size: int) -> int:
    chunks = -(-(object_size - HEADER.size) // (chunk_size + TAG_SIZE))
    return object_size - HEADER.size - chunks * TAG_SIZE


def read_header(header: bytes) -> tuple[int, bytes]:
    """Return (chunk size, nonce prefix) from an object's first bytes."""
    if len(header) < HEADER.size:
        raise TamperedCiphertext("the object is too short to be encrypted audio")
    magic, chunk_size, prefix, _ = HEADER.unpack(header[: HEADER.size])
    if magic != MAGIC or not 16 <= chunk_size <= 16 * 1024 * 1024:
        raise TamperedCiphertext("the object is not an encrypted recording")
    return chunk_size, prefix


def key_fingerprint(header: bytes) -> bytes:
    """Return the fingerprint of the key an object was sealed for, from its header."""
    read_header(header)
    fingerprint: bytes = HEADER.unpack(header[: HEADER.size])[3]
    return fingerprint


def decrypt(data_key: bytes, ciphertext: Iterable[bytes]) -> Iterator[bytes]:
    """Yield the plaintext of an encrypted object, refusing any alteration."""
    aead = AESGCM(data_key)
    pieces = iter(ciphertext)
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        if len(buffer) >= HEADER.size:
            break
    header = bytes(buffer[: HEADER.size])
    chunk_size, prefix = read_header(header)
    del buffer[: HEADER.size]
    sealed = chunk_size + TAG_SIZE
    index = 0
    exhausted = False
    while True:
        while len(buffer) <= sealed and not exhausted:
            following = next(pieces, None)
            if following is None:
                exhausted = True
            else:
                buffer += following
        last = len(buffer) <= sealed
        chunk = bytes(buffer[:sealed])
        del buffer[:sealed]
        yield _open(aead, prefix, index, last, chunk, header)
        if last:
            return
        index += 1


def decrypt_chunk(data_key: bytes, header: bytes, index: int, last: bool, sealed: bytes) -> bytes:
    """Decrypt one chunk read on its own (for byte-range reads)."""
    _, prefix = read_header(header)
    return _open(AESGCM(data_key), prefix, index, last, sealed, header[: HEADER.size])


def _open(
    aead: AESGCM, prefix: bytes, index: int, last: bool, chunk: bytes, header: bytes
) -> bytes:
    if len(chunk) < TAG_SIZE:
        raise TamperedCiphertext(f"chunk {index} is truncated")
    try:
        return aead.decrypt(_nonce(prefix, index, last), chunk, header)
    except InvalidTag:
        raise TamperedCiphertext(
            f"chunk {index} failed authentication (altered, reordered or truncated)"
        ) from None
