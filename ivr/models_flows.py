"""The call flow's history of publishes and rollbacks, append-only (issue 12).

Kept apart from ``ivr.models`` (which is at its size limit); registered on
``Base.metadata`` through ``ivr.tables``.
"""

from __future__ import annotations
