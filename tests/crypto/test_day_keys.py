"""A day key seals a wrapped data key to its object and day, and opens nothing else."""

from __future__ import annotations

import os
from datetime import date

import pytest

from ivr.crypto.day_keys import StoredKey, open_sealed, seal
from ivr.crypto.keys import KeyServiceError, object_context

DAY = date(2026, 5, 4)
CONTEXT = object_context("a" * 32, "report-1", "report")


def test_a_sealed_key_opens_under_its_day_key_only() -> None:
    day_key, wrapped = os.urandom(32), os.urandom(384)
    sealed = seal(day_key, wrapped, CONTEXT, DAY)
    assert wrapped not in sealed
    assert open_sealed(day_key, sealed, CONTEXT, DAY) == wrapped
    with pytest.raises(KeyServiceError):
        open_sealed(os.urandom(32), sealed, CONTEXT, DAY)  # a replaced day key
    with pytest.raises(KeyServiceError):
        open_sealed(day_key, sealed, CONTEXT, date(2026, 5, 5))  # moved to another day
    with pytest.raises(KeyServiceError):
        open_sealed(day_key, sealed, object_context("b" * 32, "report-1", "report"), DAY)
    with pytest.raises(KeyServiceError):
        open_sealed(day_key, wrapped, CONTEXT, DAY)  # never sealed


def test_a_destroyed_day_key_opens_nothing() -> None:
    sealed = seal(os.urandom(32), b"wrapped", CONTEXT, DAY)
    with pytest.raises(KeyServiceError, match="destroyed"):
        StoredKey(sealed, DAY, None).wrapped(CONTEXT)
