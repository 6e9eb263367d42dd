"""Keyed hashes: lookup keys for Twilio references that cannot be turned back into them."""

from __future__ import annotations

import hashlib
import hmac


def keyed_hash(secret: bytes, value: str) -> str:
    """Return an HMAC-SHA256 of ``value``: a lookup key that cannot be reversed to it."""
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()
