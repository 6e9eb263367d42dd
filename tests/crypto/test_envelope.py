"""Encrypted recordings cannot be altered, reordered or cut short without it showing."""

from __future__ import annotations

import os

import pytest

from ivr.crypto import envelope
from ivr.crypto.envelope import HEADER, TAG_SIZE, TamperedCiphertext

KEY = os.urandom(32)
CHUNK = 1024
SEALED = CHUNK + TAG_SIZE


FINGERPRINT = b"8 bytes!"


def sealed(data: bytes) -> bytes:
    return b"".join(envelope.encrypt(KEY, [data], CHUNK, fingerprint=FINGERPRINT))


def opened(blob: bytes, pieces: int = 7) -> bytes:
    # Feed the object in odd-sized pieces, as a store streams it.
    step = max(1, len(blob) // pieces)
    return b"".join(envelope.decrypt(KEY, (blob[i : i + step] for i in range(0, len(blob), step))))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK, 5 * CHUNK + 17])
def test_any_length_round_trips_and_the_size_is_predictable(size: int) -> None:
    data = os.urandom(size)
    blob = sealed(data)
    assert opened(blob) == data
    assert len(blob) == envelope.ciphertext_size(size, CHUNK)
    assert envelope.plaintext_size(len(blob), CHUNK) == size
    if size >= 16:
        assert data[:16] not in blob  # the audio is not in the clear


def test_each_object_gets_its_own_nonces() -> None:
    data = os.urandom(3 * CHUNK)
    assert sealed(data) != sealed(data)


def test_a_flipped_bit_is_detected() -> None:
    blob = bytearray(sealed(os.urandom(3 * CHUNK)))
    blob[HEADER.size + SEALED + 10] ^= 0x01
    with pytest.raises(TamperedCiphertext, match="chunk 1"):
        opened(bytes(blob))


def test_reordered_chunks_are_detected() -> None:
    blob = sealed(os.urandom(3 * CHUNK))
    head, body = blob[: HEADER.size], blob[HEADER.size :]
    first, second, rest = body[:SEALED], body[SEALED : 2 * SEALED], body[2 * SEALED :]
    with pytest.raises(TamperedCiphertext, match="chunk 0"):
        opened(head + second + first + rest)


@pytest.mark.parametrize("cut", [SEALED, 2 * SEALED, 1, TAG_SIZE + 5])
def test_a_truncated_object_is_detected(cut: int) -> None:
    blob = sealed(os.urandom(3 * CHUNK + 100))
    with pytest.raises(TamperedCiphertext):
        opened(blob[:-cut])


def test_an_appended_chunk_is_detected() -> None:
    blob = sealed(os.urandom(2 * CHUNK))
    with pytest.raises(TamperedCiphertext):
        opened(blob + blob[HEADER.size : HEADER.size + SEALED])


def test_a_header_from_another_object_is_refused() -> None:
    data = os.urandom(2 * CHUNK)
    one, two = sealed(data), sealed(data)
    with pytest.raises(TamperedCiphertext):
        opened(two[: HEADER.size] + one[HEADER.size :])


def test_the_wrong_key_opens_nothing() -> None:
    blob = sealed(os.urandom(CHUNK))
    with pytest.raises(TamperedCiphertext):
        b"".join(envelope.decrypt(os.urandom(32), [blob]))


def test_something_that_is_not_an_envelope_is_refused() -> None:
    with pytest.raises(TamperedCiphertext, match="not an encrypted recording"):
        opened(b"RIFF" + b"\0" * 100)


def test_a_single_chunk_can_be_read_on_its_own() -> None:
    data = os.urandom(3 * CHUNK + 10)
    blob = sealed(data)
    header = blob[: HEADER.size]
    middle = blob[HEADER.size + SEALED : HEADER.size + 2 * SEALED]
    assert envelope.decrypt_chunk(KEY, header, 1, False, middle) == data[CHUNK : 2 * CHUNK]
    with pytest.raises(TamperedCiphertext):
        envelope.decrypt_chunk(KEY, header, 2, False, middle)


def test_the_header_names_the_wrapping_key_and_cannot_be_relabelled() -> None:
    blob = sealed(os.urandom(2 * CHUNK))
    assert envelope.key_fingerprint(blob[: HEADER.size]) == FINGERPRINT
    # A header edited to name another key no longer authenticates the chunks.
    relabelled = blob[: HEADER.size - 8] + b"otherkey" + blob[HEADER.size :]
    assert envelope.key_fingerprint(relabelled[: HEADER.size]) == b"otherkey"
    with pytest.raises(TamperedCiphertext):
        opened(relabelled)
