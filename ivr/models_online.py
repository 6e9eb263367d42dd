"""Online reports: their encrypted text and attachments (issue 14).

Kept apart from ``ivr.models`` (which is at its size limit); registered on
``Base.metadata`` through ``ivr.tables``.
"""

from __future__ import annotations
